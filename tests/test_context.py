"""Tests for decontextualisation: names and relative dates resolved, with their reasons."""

from __future__ import annotations

from pathlib import Path

from workbench.extract.context import resolve_dates, resolve_names, standalone

ARTICLE = (Path(__file__).parent / "fixtures/sotchi-poutine-pompeo.fr.txt").read_text("utf-8")


def test_short_names_become_full_names_from_the_article() -> None:
    result = resolve_names("M. Poutine a reçu M. Pompeo et M. Lavrov.", ARTICLE)
    assert result.text == "Vladimir Poutine a reçu Mike Pompeo et M. Lavrov."
    assert result.resolutions == (
        "M. Poutine -> Vladimir Poutine (full name from the article)",
        "M. Pompeo -> Mike Pompeo (full name from the article)",
    )


def test_weekday_is_dated_back_from_the_article_date() -> None:
    # 15 May 2019 was a Wednesday: "mardi" is the 14th.
    result = resolve_dates("Ils ont indiqué mardi à Sotchi que ...", "fr", "2019-05-15")
    assert result.text == "Ils ont indiqué mardi 14 mai 2019 à Sotchi que ..."
    assert result.resolutions == ("mardi -> 2019-05-14 (weekday up to the article date)",)
    english = resolve_dates("They met on Monday and spoke yesterday.", "en", "2019-05-15")
    assert english.text == "They met on Monday May 13, 2019 and spoke yesterday (May 14, 2019)."
    same_day = resolve_dates("Trump met Putin on Friday.", "en", "2019-06-28")
    assert same_day.text == "Trump met Putin on Friday June 28, 2019."


def test_dates_left_alone_without_an_article_date_or_when_already_dated() -> None:
    assert resolve_dates("Ils ont parlé mardi.", "fr", "").text == "Ils ont parlé mardi."
    dated = resolve_dates("Ils ont parlé mardi 14 mai.", "fr", "2019-05-15")
    assert dated.text == "Ils ont parlé mardi 14 mai." and dated.resolutions == ()


def test_standalone_combines_both_and_keeps_the_original_meaning() -> None:
    sentence = (
        "Le président russe Vladimir Poutine et le Secrétaire d'Etat américain Mike Pompeo "
        "ont indiqué mardi à Sotchi que les deux pays étaient disposés à réparer leurs relations."
    )
    result = standalone(sentence, ARTICLE, "fr", "2019-05-15")
    assert "mardi 14 mai 2019 à Sotchi" in result.text
    assert len(result.resolutions) == 1
