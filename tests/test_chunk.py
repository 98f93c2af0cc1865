"""Tests sentence splitting and passage chunking in workbench.chunk."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from workbench.chunk import sentence_spans, split_passages

SEED = Path(__file__).parent.parent / "seeds" / "sotchi-poutine-pompeo.fr.txt"


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def passages(text: str, **kwargs: int) -> list[str]:
    return [text[start:end] for start, end in split_passages(text, **kwargs)]


def assert_well_formed(text: str, spans: list[tuple[int, int]]) -> None:
    previous_end = 0
    for start, end in spans:
        assert 0 <= previous_end <= start < end <= len(text), (spans, text)
        piece = text[start:end]
        assert piece == piece.strip(), repr(piece)
        previous_end = end


# --- sentence_spans ----------------------------------------------------------------


def test_french_title_abbreviation() -> None:
    assert sentences("M. Poutine a déclaré. Il a ajouté.") == [
        "M. Poutine a déclaré.",
        "Il a ajouté.",
    ]


def test_middle_initial_and_roman_numeral() -> None:
    assert sentences("Robert S. Mueller III a remis son rapport.") == [
        "Robert S. Mueller III a remis son rapport."
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Mme Dupont et MM. Martin et Durand sont venus avec le Dr. Petit.",
        "Le Pr. Raoult et Mlle. Roux ont parlé à Me. Lenoir.",
        "Il est né en 52 av. J.-C. Rome le savait.",
        "Voir p. 12 et cf. Annexe B du rapport.",
        "Des pays européens, p. ex. France et Allemagne, ont voté.",
        "Mr. Smith met Mrs. Jones and Ms. Brown at St. Paul's.",
        "Prof. Green spoke to Dr. White on Jan. 5 about No. 10.",
        "The U.S. Senate and the U.K. Parliament agreed.",
        "Some fruit, e.g. Apples, and i.e. Pears were sold.",
        "It was Smith vs. Jones in the final.",
        "J. K. Rowling and J.R.R. Tolkien wrote books.",
        "Inflation reached 3.5 % in 2019 according to the bank.",
        "Le taux est passé de 2.5 à 3.75 points.",
        "Il a dit « je ne sais pas… » et il est parti.",
        'He said "I don\'t know..." and left.',
        "Le président [...] a confirmé la rencontre.",
        "Selon l'art. 49.3 de la Constitution, le texte passe.",
    ],
)
def test_no_split_inside_one_sentence(text: str) -> None:
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il pleut. Le match est annulé.", ["Il pleut.", "Le match est annulé."]),
        ("Vraiment ? Oui ! Bien sûr.", ["Vraiment ?", "Oui !", "Bien sûr."]),
        ("It rose. 30 % fell.", ["It rose.", "30 % fell."]),
        ('He left. "Why?" she asked.', ["He left.", '"Why?" she asked.']),
        ("Il a dit : « Non. » Puis il est parti.", ["Il a dit : « Non. »", "Puis il est parti."]),
        ("(Voir plus bas.) Ensuite, rien.", ["(Voir plus bas.)", "Ensuite, rien."]),
        ("Il hésite… Puis il signe.", ["Il hésite…", "Puis il signe."]),
        ("Wait... What happened?", ["Wait...", "What happened?"]),
        ("Il a dit oui. « Bien », a-t-il ajouté.", ["Il a dit oui.", "« Bien », a-t-il ajouté."]),
        ("He told me. Then he left.", ["He told me.", "Then he left."]),
        ("Un vol. Les enquêteurs arrivent.", ["Un vol.", "Les enquêteurs arrivent."]),
    ],
)
def test_splits_between_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_no_split_before_lower_case() -> None:
    assert sentences("Il est arrivé à 8 h. puis il est reparti.") == [
        "Il est arrivé à 8 h. puis il est reparti."
    ]


def test_blank_line_is_always_a_boundary() -> None:
    assert sentences("Sans point final\n\nsuite en minuscule") == [
        "Sans point final",
        "suite en minuscule",
    ]


def test_single_line_break_after_punctuation_is_a_boundary() -> None:
    assert sentences("Fin de phrase.\nnouvelle ligne en minuscule.") == [
        "Fin de phrase.",
        "nouvelle ligne en minuscule.",
    ]


def test_single_line_break_after_heading_or_dateline() -> None:
    text = "Dernière mise à jour à 08h36 le 15/05\nLe président russe a parlé. Il a souri."
    assert sentences(text) == [
        "Dernière mise à jour à 08h36 le 15/05",
        "Le président russe a parlé.",
        "Il a souri.",
    ]


def test_wrapped_line_is_not_a_boundary() -> None:
    text = "Le président russe a déclaré que les deux pays étaient\nprêts à coopérer."
    assert sentences(text) == [text]


def test_hard_wrapped_paragraph_is_joined() -> None:
    text = (
        "The meeting between the two ministers lasted for more than three\n"
        "hours and ended with a joint statement on the situation in Syria and\n"
        "Ukraine, officials said on Tuesday.\n"
    )
    assert sentences(text) == [text.strip()]


def test_abbreviation_at_end_of_line_does_not_split() -> None:
    text = "Avant une réunion avec M.\nPompeo, il a parlé."
    assert sentences(text) == [text]


def test_list_items_and_markdown_headings() -> None:
    text = "# Titre\nIntroduction du texte :\n- premier point\n- second point\n1. Un\n2. Deux"
    assert sentences(text) == [
        "# Titre",
        "Introduction du texte :",
        "- premier point",
        "- second point",
        "1. Un",
        "2. Deux",
    ]


def test_seed_article() -> None:
    text = SEED.read_text(encoding="utf-8")
    found = sentences(text)
    assert found[0] == "Dernière mise à jour à 08h36 le 15/05"
    assert found[1].startswith("Le président russe Vladimir Poutine")
    assert any(
        s.startswith("Avant une réunion à huis clos avec M. Pompeo, M. Poutine") for s in found
    )
    assert all(not s.startswith("Pompeo") and not s.startswith("Poutine") for s in found)
    assert len(found) == 10


def test_empty_and_blank_text() -> None:
    assert sentence_spans("") == []
    assert sentence_spans(" \n\n\t ") == []


def test_offsets_are_into_the_given_text() -> None:
    text = "  \n  Première phrase.   Seconde phrase.  \n"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["Première phrase.", "Seconde phrase."]
    assert spans[0][0] == 5


# --- split_passages ----------------------------------------------------------------


def test_short_text_is_one_passage() -> None:
    text = "\n Titre\n\nUne phrase. Une autre.\n"
    assert split_passages(text) == [(2, len(text) - 1)]


def test_blank_text_has_no_passage() -> None:
    assert split_passages("  \n ") == []


def test_passages_are_whole_sentences_within_limit() -> None:
    sentence = "Le ministre a déclaré que la situation était sous contrôle. "
    text = sentence * 40
    found = passages(text, max_chars=200, min_chars=20)
    assert all(len(p) <= 200 for p in found)
    assert all(p.endswith("contrôle.") and p.startswith("Le ministre") for p in found)
    # Greedy packing: three sentences of 59 characters plus spaces fit in 200.
    assert found[0].count("Le ministre") == 3


def test_passages_do_not_cross_paragraphs() -> None:
    para_a = "Premier paragraphe assez long pour compter comme un vrai passage. " * 2
    para_b = "Second paragraphe, lui aussi assez long pour être un passage. " * 2
    text = para_a.strip() + "\n\n" + para_b.strip()
    assert len(text) > 200
    found = passages(text, max_chars=200, min_chars=40)
    assert found == [para_a.strip(), para_b.strip()]


def test_short_paragraph_joins_the_next() -> None:
    body = "Le texte du premier paragraphe qui suit directement le titre court. " * 3
    text = "Titre\n\n" + body.strip() + "\n\n" + body.strip()
    found = passages(text, max_chars=250, min_chars=80)
    assert found[0].startswith("Titre\n\nLe texte")
    assert len(found) == 2


def test_overlong_sentence_is_cut_at_whitespace() -> None:
    text = " ".join(f"mot{i}" for i in range(300)) + "."
    spans = split_passages(text, max_chars=100, min_chars=10)
    assert len(spans) > 1
    assert_well_formed(text, spans)
    for start, end in spans:
        assert end - start <= 100
        # Never cut inside a word.
        assert start == 0 or text[start - 1] == " "
        assert end == len(text) or text[end] == " "
    assert " ".join(text[s:e] for s, e in spans) == text


def test_overlong_word_is_cut_at_the_limit() -> None:
    text = "x" * 250 + " fin."
    spans = split_passages(text, max_chars=100, min_chars=10)
    assert spans[0] == (0, 100)
    assert all(end - start <= 100 for start, end in spans)
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


def test_seed_passages_point_back_into_the_text() -> None:
    text = SEED.read_text(encoding="utf-8")
    spans = split_passages(text, max_chars=600, min_chars=80)
    assert len(spans) > 1
    assert_well_formed(text, spans)
    assert all(end - start <= 600 for start, end in spans)
    assert text[spans[0][0] : spans[0][1]].startswith("Dernière mise à jour")


def test_invalid_limits() -> None:
    with pytest.raises(ValueError):
        split_passages("abc", max_chars=0)
    with pytest.raises(ValueError):
        split_passages("abc", max_chars=50, min_chars=80)


# --- properties on generated text --------------------------------------------------

_PIECES = [
    "M.",
    "Poutine",
    "a",
    "déclaré",
    "Dr.",
    "U.S.",
    "3.5",
    "etc.",
    "J.-C.",
    "«",
    "»",
    '"',
    "(voir",
    "p.",
    "12)",
    "Il",
    "The",
    "said.",
    "fin.",
    "Quoi ?",
    "Oui !",
    "Hmm…",
    "...",
    "\n",
    "\n\n",
    "\n \n",
    "  ",
    "\t",
    "- item",
    "# Titre",
    "1.",
    "x" * 70,
    "é",
    "",
]


@pytest.mark.parametrize("seed", range(200))
def test_spans_are_ordered_disjoint_in_bounds_and_trimmed(seed: int) -> None:
    rng = random.Random(seed)
    text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 120)))
    spans = sentence_spans(text)
    assert_well_formed(text, spans)
    # Sentences cover every visible character of the text.
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(text.split())

    max_chars = rng.choice([40, 80, 200, 600])
    min_chars = rng.choice([0, 10, 40])
    chunks = split_passages(text, max_chars=max_chars, min_chars=min_chars)
    assert_well_formed(text, chunks)
    assert all(end - start <= max_chars for start, end in chunks)
    joined = "".join(text[s:e] for s, e in chunks)
    assert "".join(joined.split()) == "".join(text.split())
    # Passages start and end at sentence edges, except inside a sentence that alone is
    # longer than max_chars and had to be cut.
    starts = {s for s, _ in spans}
    ends = {e for _, e in spans}
    long_sentences = [(s, e) for s, e in spans if e - s > max_chars]
    for start, end in chunks:
        assert start in starts or any(s < start < e for s, e in long_sentences)
        assert end in ends or any(s < end < e for s, e in long_sentences)
