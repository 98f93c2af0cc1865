"""Tests reading evidence files into Documents with workbench.sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.chunk import split_passages
from workbench.errors import InputError
from workbench.models import Document
from workbench.sources import (
    SUPPORTED_EXTENSIONS,
    iter_documents,
    normalize_lang,
    normalize_published,
)
from workbench.textio import read_text


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def read(*paths: Path) -> list[Document]:
    return list(iter_documents(list(paths)))


def jsonl(*records: object) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def assert_offsets_point_into_file(doc: Document, path: Path) -> None:
    source = read_text(path)
    assert source[doc.offset : doc.offset + len(doc.text)] == doc.text
    spans = split_passages(doc.text, max_chars=120, min_chars=20)
    assert spans
    for start, end in spans:
        assert source[doc.offset + start : doc.offset + end] == doc.text[start:end]


# --- JSONL -------------------------------------------------------------------------


def test_jsonl_records(tmp_path: Path) -> None:
    path = write(
        tmp_path / "evidence.jsonl",
        jsonl(
            {
                "id": "a",
                "text": "Mike Pompeo met Vladimir Putin in Sochi.",
                "title": "Sochi",
                "url": "https://example.org/a",
                "publisher": "Example",
                "published": "2019-05-14T08:36:00+03:00",
                "lang": "en-GB",
                "topic": "diplomacy",
                "tags": ["ru", "us"],
            },
            "",
            "   ",
            {"id": 42, "text": "Deuxième document."},
        ),
    )
    first, second = read(path)
    assert first == Document(
        id="a",
        text="Mike Pompeo met Vladimir Putin in Sochi.",
        title="Sochi",
        url="https://example.org/a",
        publisher="Example",
        published="2019-05-14",
        lang="en",
        source=f"{path}:1",
        offset=0,
        extra={"topic": "diplomacy", "tags": ["ru", "us"]},
    )
    assert second.id == "42"
    assert second.source == f"{path}:4"
    assert second.title == second.url == second.published == second.lang == ""
    assert second.extra == {}


def test_ndjson_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "e.ndjson", jsonl({"id": "x", "text": "Un texte."}))
    assert [d.id for d in read(path)] == ["x"]


def test_jsonl_malformed_line(tmp_path: Path) -> None:
    path = write(tmp_path / "evidence.jsonl", jsonl({"id": "a", "text": "ok"}, '{"id": "b" "t"}'))
    with pytest.raises(InputError) as info:
        read(path)
    assert info.value.message.startswith(f"{path}:2: not valid JSON (Expecting ',' delimiter")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"text": "sans id"}, "missing field 'id'"),
        ({"id": "", "text": "id vide"}, "missing field 'id'"),
        ({"id": "a"}, "missing field 'text'"),
        ({"id": "a", "text": None}, "missing field 'text'"),
        ({"id": "a", "text": "   "}, "field 'text' is empty"),
        ({"id": "a", "text": 12}, "field 'text' must be a string, got a number"),
        ({"id": "a", "text": ["x"]}, "field 'text' must be a string, got an array"),
        ({"id": True, "text": "x"}, "field 'id' must be a string or an integer"),
        ({"id": "a", "text": "x", "title": {"k": 1}}, "field 'title' must be a string"),
        (["a", "b"], "expected a JSON object, got an array"),
    ],
)
def test_jsonl_bad_record(tmp_path: Path, record: object, message: str) -> None:
    path = write(tmp_path / "evidence.jsonl", jsonl({"id": "ok", "text": "Bon."}, record))
    with pytest.raises(InputError) as info:
        read(path)
    assert info.value.message.startswith(f"{path}:2: {message}")


def test_jsonl_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "evidence.jsonl",
        jsonl({"id": "a", "text": "Un."}, {"id": "b", "text": "Deux."}, {"id": "a", "text": "3"}),
    )
    with pytest.raises(InputError) as info:
        read(path)
    assert info.value.message == f"{path}:3: duplicate id 'a' (first used on line 1)"


def test_jsonl_int_and_str_ids_collide(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", jsonl({"id": 7, "text": "Un."}, {"id": "7", "text": "2"}))
    with pytest.raises(InputError, match="duplicate id '7'"):
        read(path)


# --- CSV / TSV ---------------------------------------------------------------------


def test_csv_records(tmp_path: Path) -> None:
    path = write(
        tmp_path / "evidence.csv",
        "ID,Text,Title,Published,Lang,Section\n"
        'a,"Poutine a parlé, puis Pompeo.",Sotchi,15/05/2019,FR,monde\n'
        "\n"
        'b,"Deux lignes\ndans un champ.",,,,\n',
    )
    first, second = read(path)
    assert first.id == "a"
    assert first.text == "Poutine a parlé, puis Pompeo."
    assert first.title == "Sotchi"
    assert first.published == "2019-05-15"
    assert first.lang == "fr"
    assert first.source == f"{path}:2"
    assert first.extra == {"Section": "monde"}
    assert second.text == "Deux lignes\ndans un champ."
    assert second.source == f"{path}:4"


def test_csv_semicolons_and_cp1252(tmp_path: Path) -> None:
    path = write(
        tmp_path / "export.csv", "id;text\n1;Poutine a déclaré qu'il était prêt.\n", "cp1252"
    )
    (doc,) = read(path)
    assert doc.text == "Poutine a déclaré qu'il était prêt."


def test_tsv_records(tmp_path: Path) -> None:
    path = write(tmp_path / "e.tsv", "id\ttext\tpublisher\nx\tUn texte, avec virgule.\tAFP\n")
    (doc,) = read(path)
    assert (doc.id, doc.text, doc.publisher) == ("x", "Un texte, avec virgule.", "AFP")


def test_csv_header_without_required_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "identifier,body\n1,Texte\n")
    with pytest.raises(InputError) as info:
        read(path)
    assert info.value.message.startswith(f"{path}:1: header has no 'id' or 'text' column")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",Texte sans id", "missing field 'id'"),
        ("b,", "field 'text' is empty"),
        ("b", "missing field 'text'"),
        ("b,Texte,en trop", "row has 3 fields but the header has 2"),
        ("a,Doublon", "duplicate id 'a' (first used on line 2)"),
    ],
)
def test_csv_bad_row_names_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path / "e.csv", f"id,text\na,Premier\n{row}\n")
    with pytest.raises(InputError) as info:
        read(path)
    assert info.value.message.startswith(f"{path}:3: {message}")


def test_csv_with_header_only(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "id,text\n\n")
    with pytest.raises(InputError, match=r"e\.csv: no records after the header row"):
        read(path)


def test_csv_unterminated_quote(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", 'id,text\na,"jamais fermé\nb,autre\n')
    with pytest.raises(InputError, match=r"e\.csv:2: not valid CSV"):
        read(path)


# --- Markdown ----------------------------------------------------------------------

MARKDOWN = """---
title: "Rencontre à Sotchi"
url: https://example.org/sotchi
publisher: Exemple
date: 14/05/2019
lang: fr-FR
tags:
  - russie
author: 'A. Auteur'
---

# Poutine et Pompeo

M. Poutine a déclaré qu'il était prêt à rétablir les relations. Il a ajouté que la réunion
était utile.

Le secrétaire d'État a souligné les positions différentes des deux pays sur certaines
questions. **Il a toutefois** salué une attitude constructive.
"""


def test_markdown_front_matter_and_offsets(tmp_path: Path) -> None:
    path = write(tmp_path / "Sotchi Rencontre.md", MARKDOWN)
    (doc,) = read(path)
    assert doc.id == "sotchi-rencontre"
    assert doc.title == "Rencontre à Sotchi"
    assert doc.url == "https://example.org/sotchi"
    assert doc.publisher == "Exemple"
    assert doc.published == "2019-05-14"
    assert doc.lang == "fr"
    assert doc.extra == {"author": "A. Auteur"}
    assert doc.source == str(path)
    assert doc.text.startswith("# Poutine et Pompeo\n\nM. Poutine")
    assert doc.text.endswith("constructive.")
    assert "title:" not in doc.text
    assert_offsets_point_into_file(doc, path)


def test_markdown_title_from_heading_then_stem(tmp_path: Path) -> None:
    with_heading = write(
        tmp_path / "a.md", "```\n# pas un titre\n```\n\n# Le vrai titre #\n\nTexte."
    )
    without = write(tmp_path / "note-2019.markdown", "Juste du texte.\n")
    first, second = read(with_heading, without)
    assert first.title == "Le vrai titre"
    assert first.offset == 0
    assert second.title == "note-2019"
    assert second.id == "note-2019"


def test_markdown_leading_rule_is_not_front_matter(tmp_path: Path) -> None:
    text = "---\nUne phrase qui n'est pas du YAML.\n---\n\nSuite du texte.\n"
    path = write(tmp_path / "a.md", text)
    (doc,) = read(path)
    assert doc.offset == 0
    assert doc.text == text.strip()


def test_markdown_with_only_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "vide.md", "---\ntitle: Rien\n---\n\n")
    with pytest.raises(InputError, match=r"vide\.md: no text after the front matter"):
        read(path)


def test_markdown_offsets_with_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "crlf.md"
    raw = (
        "\ufeff---\r\ntitle: T\r\n---\r\n\r\nPremière phrase du texte. Seconde phrase du texte.\r\n"
    )
    path.write_bytes(raw.encode("utf-8"))
    (doc,) = read(path)
    assert doc.text == "Première phrase du texte. Seconde phrase du texte."
    assert_offsets_point_into_file(doc, path)


# --- Plain text --------------------------------------------------------------------


def test_txt_document_and_offsets(tmp_path: Path) -> None:
    body = (
        "Dernière mise à jour à 08h36 le 15/05\n"
        "Le président russe Vladimir Poutine et Mike Pompeo ont parlé mardi à Sotchi. "
        "M. Poutine a déclaré qu'il était prêt. Il a ajouté que la réunion était utile.\n"
    )
    path = write(tmp_path / "depeche.txt", body, "cp1252")
    (doc,) = read(path)
    assert doc.title == "Dernière mise à jour à 08h36 le 15/05"
    assert doc.text == body
    assert doc.offset == 0
    assert doc.id == "depeche"
    assert_offsets_point_into_file(doc, path)


def test_txt_long_first_line_is_not_a_title(tmp_path: Path) -> None:
    path = write(tmp_path / "long.txt", "mot " * 40 + "\nsuite")
    (doc,) = read(path)
    assert doc.title == "long"


# --- HTML --------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html lang="fr-FR">
<head>
  <meta charset="utf-8">
  <title>Poutine  et
     Pompeo &ndash; Exemple</title>
  <link rel="stylesheet" href="a.css">
  <link rel="canonical" href="https://example.org/canon">
  <meta property="og:url" content="https://example.org/og">
  <meta property="og:site_name" content="Exemple Info">
  <meta property="article:published_time" content="2019-05-14T08:36:00Z">
  <style>body { color: red; }</style>
  <script>var secret = "ne pas indexer";</script>
</head>
<body>
  <nav><a href="/">Accueil</a></nav>
  <article>
    <h1>Rencontre à   Sotchi</h1>
    <p>M. Poutine a <b>déclaré</b> qu&#39;il était&nbsp;prêt.
       Il a ajouté &laquo;&nbsp;merci&nbsp;&raquo;.</p>
    <script type="application/ld+json">{"headline": "caché"}</script>
    <div hidden><p>Texte masqué</p></div>
    <svg><title>icône</title><text>svg text</text></svg>
    <p>Ligne un<br>Ligne deux</p>
    <ul><li>Point A</li><li>Point B</li></ul>
    <noscript>Activez JavaScript</noscript>
    <template><p>modèle</p></template>
  </article>
</body>
</html>
"""


def test_html_visible_text_and_metadata(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", HTML)
    (doc,) = read(path)
    # The article's text only (not the menu), a blank line between paragraphs.
    assert doc.text == (
        "Rencontre à Sotchi\n\n"
        "M. Poutine a déclaré qu'il était prêt. Il a ajouté « merci ».\n\n"
        "Ligne un\n\nLigne deux\n\n"
        "- Point A\n\n"
        "- Point B"
    )
    for hidden in (
        "Accueil",
        "secret",
        "color",
        "caché",
        "masqué",
        "icône",
        "svg text",
        "JavaScript",
        "modèle",
    ):
        assert hidden not in doc.text
    assert doc.title == "Rencontre à Sotchi"
    assert doc.url == "https://example.org/canon"
    assert doc.publisher == "Exemple Info"
    assert doc.published == "2019-05-14"
    assert doc.lang == "fr"
    assert doc.offset == 0
    assert doc.id == "page"


def test_html_fallbacks(tmp_path: Path) -> None:
    page = (
        '<html><head><meta property="og:url" content="https://example.org/og">'
        "<body><h1>Titre  <i>principal</i></h1>"
        '<p>Publié le <time datetime="2019-05-15">15 mai</time>.</p></body></html>'
    )
    path = write(tmp_path / "b.htm", page)
    (doc,) = read(path)
    assert doc.title == "Titre principal"
    assert doc.url == "https://example.org/og"
    assert doc.published == "2019-05-15"
    assert doc.lang == ""
    # A short page is read whole, its sentences not broken at inline elements; the words of
    # a <time> element stay in their sentence.
    assert doc.text == "Titre principal\n\nPublié le 15 mai."


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = write(tmp_path / "vide.html", "<html><head><title>T</title></head><body> </body></html>")
    with pytest.raises(InputError, match=r"vide\.html: no article text found"):
        read(path)


def test_html_news_pages_read_like_articles() -> None:
    """Evidence pages use the article reader: no menus, cookie banners, comments, scripts."""
    data = Path(__file__).parent / "data"
    english, french = read(data / "article-en.html", data / "article-fr.html")
    assert english.title == "Trump and Putin meet in Osaka"
    assert english.url == "https://www.dailyledger.example/world/2019/06/28/trump-putin-osaka"
    assert (english.publisher, english.published, english.lang) == (
        "The Daily Ledger",
        "2019-06-28",
        "en",
    )
    assert english.text.count("\n\n") == 5
    assert french.published == "2019-05-14" and french.lang == "fr"
    assert "secrétaire d’État" in french.text  # windows-1252, as the page declares
    for junk in ("cookies", "Subscribe", "12 percent", "300 percent", "Lire aussi", "abonnés"):
        assert junk not in english.text and junk not in french.text


# --- record size limits -------------------------------------------------------------


def test_jsonl_record_just_over_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_MAX_RECORD_MB", "0.01")
    ok = {"id": "a", "text": "x" * 9_000}
    big = {"id": "b", "text": "y" * 10_000}  # the line is 10,023 bytes
    path = write(tmp_path / "ev.jsonl", jsonl(ok, ok | {"id": "c"}, big))
    with pytest.raises(InputError) as caught:
        read(path)
    assert caught.value.message.startswith(
        f"{path}:3: the record is 10,023 bytes, over the 10,000-byte limit"
    )
    assert "WORKBENCH_MAX_RECORD_MB" in caught.value.message
    monkeypatch.setenv("WORKBENCH_MAX_RECORD_MB", "0.02")
    assert [d.id for d in read(path)] == ["a", "c", "b"]
    for bad in ("lots", "inf", "-1", "nan"):
        monkeypatch.setenv("WORKBENCH_MAX_RECORD_MB", bad)
        with pytest.raises(InputError, match=f"WORKBENCH_MAX_RECORD_MB={bad}: expected a size"):
            read(path)


def test_long_line_found_across_read_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.sources as sources

    # Lines spanning several read chunks, the long one last and without a final newline.
    monkeypatch.setattr(sources, "_SCAN_CHUNK", 64)
    records = [{"id": str(i), "text": "z" * 150} for i in range(5)]
    path = write(
        tmp_path / "ev.jsonl", jsonl(*records) + json.dumps({"id": "x", "text": "w" * 400})
    )
    assert len(read(path)) == 6
    with pytest.raises(
        InputError, match=r"ev\.jsonl:6: the record is more than \d+ bytes, over the 300-byte limit"
    ):
        list(iter_documents([path], max_record=300))
    with pytest.raises(
        InputError, match=r"ev\.jsonl:1: the record is more than \d+ bytes, over the 100-byte limit"
    ):
        list(iter_documents([path], max_record=100))


def test_one_document_files_over_the_limit(tmp_path: Path) -> None:
    text = write(tmp_path / "long.txt", "mot " * 300)
    markdown = write(tmp_path / "long.md", "# Titre\n\n" + "mot " * 300)
    table = write(tmp_path / "t.csv", "id,text\na," + "mot " * 300 + "\n")
    page = write(tmp_path / "p.html", "<html><body><article>" + "<p>mot mot.</p>" * 300)
    for path, message in (
        (text, r"long\.txt: the document is 1\.2 kB, over the 1 kB limit"),
        (markdown, r"long\.md: the document is 1\.2 kB, over the 1 kB limit"),
        (table, r"t\.csv:2: the record's text is 1\.2 kB, over the 1 kB limit"),
        (page, r"p\.html: the page's text is 2\.7 kB, over the 1 kB limit"),
    ):
        with pytest.raises(InputError, match=message):
            list(iter_documents([path], max_record=1_000))
        assert list(iter_documents([path], max_record=5_000))
    with pytest.raises(InputError, match=r"p\.html: the page is 4\.\d kB, over the 2\.5 kB"):
        list(iter_documents([page], max_record=500))


# --- folders and dispatch ----------------------------------------------------------


def test_folder_is_walked_sorted_skipping_hidden_and_unsupported(tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    write(root / "b.txt", "Texte B.")
    write(root / "a.md", "Texte A.")
    write(root / "sub" / "Été 2019.md", "Texte été.")
    write(root / "sub" / "records.jsonl", jsonl({"id": "r1", "text": "Record."}))
    write(root / "notes.pdf", "%PDF-1.4")
    write(root / "image.png", "png")
    write(root / ".hidden.md", "caché")
    write(root / ".git" / "x.md", "caché")
    docs = read(root)
    # Sorted by name within each folder ("r" sorts before "É").
    assert [d.id for d in docs] == ["a", "b", "r1", "sub/ete-2019"]
    assert docs[3].source == str(root / "sub" / "Été 2019.md")


def test_explicit_unsupported_file(tmp_path: Path) -> None:
    path = write(tmp_path / "rapport.pdf", "%PDF")
    with pytest.raises(InputError, match=r"rapport\.pdf: unsupported file type '\.pdf'"):
        read(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent\.jsonl: file or folder not found"):
        read(tmp_path / "absent.jsonl")


def test_errors_from_textio_name_the_file(tmp_path: Path) -> None:
    empty = write(tmp_path / "vide.txt", "")
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(InputError, match=r"vide\.txt: file is empty"):
        read(empty)
    with pytest.raises(InputError, match=r"bin\.md: looks like a binary file"):
        read(binary)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a.jsonl", jsonl({"id": "same", "text": "Un."}))
    second = write(tmp_path / "b.jsonl", jsonl({"id": "same", "text": "Deux."}))
    with pytest.raises(InputError) as info:
        read(first, second)
    assert info.value.message == f"{second}:1: duplicate id 'same' (already used by {first}:1)"


def test_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "Texte.")
    assert len(read(path, tmp_path)) == 1


def test_extensions_are_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path / "NOTE.TXT", "Une note.")
    assert read(path)[0].id == "note"
    assert ".txt" in SUPPORTED_EXTENSIONS


# --- normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-14", "2019-05-14"),
        ("2019-05-14T08:36:00+03:00", "2019-05-14"),
        ("2019-05-14 08:36", "2019-05-14"),
        ("14/05/2019", "2019-05-14"),
        ("4/5/2019", "2019-05-04"),
        ("14.05.2019", "2019-05-14"),
        ("05/31/2019", "05/31/2019"),
        ("2019-02-30", "2019-02-30"),
        ("mai 2019", "mai 2019"),
        ("  2019 ", "2019"),
        ("", ""),
    ],
)
def test_normalize_published(value: str, expected: str) -> None:
    assert normalize_published(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("fr-FR", "fr"), ("EN", "en"), ("en_US", "en"), (" de ", "de"), ("French", "french")],
)
def test_normalize_lang(value: str, expected: str) -> None:
    assert normalize_lang(value) == expected
