"""Tests for attribution (claimant, frame, content), clause splitting and pronoun resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.extract.attribution import parse_attribution, title_names
from workbench.extract.context import resolve_pronouns, weekday_dates
from workbench.extract.split import split_clauses

ARTICLE = (Path(__file__).parent / "fixtures/sotchi-poutine-pompeo.fr.txt").read_text("utf-8")
LINES = ARTICLE.splitlines()
EN_ARTICLE = "Russian President Vladimir Putin met Yuri Ushakov and Mike Pompeo in Sochi."


def _attr(sentence: str, lang: str = "fr", article: str = ARTICLE):
    found = parse_attribution(sentence, lang, article)
    return found.claimant, found.chain, found.content(sentence)


@pytest.mark.parametrize(
    ("sentence", "claimant", "content_start"),
    [
        # preposed frame, two speakers
        (LINES[1], "Vladimir Poutine et Mike Pompeo", "les deux pays étaient disposés"),
        # an adjunct with a companion ("avec M. Pompeo") before the speaker
        (LINES[2], "Vladimir Poutine", "au cours de sa conversation téléphonique du 3 mai"),
        # postposed frame with a bare title the article ties to a name
        (LINES[5], "Vladimir Poutine", "La Russie et les Etats-Unis ont des intérêts communs"),
        # an apposition between the speaker and the verb
        (LINES[7], "Youri Ouchakov", "Donald Trump était prêt à rencontrer"),
        ("Selon Youri Ouchakov, la réunion a été utile et fructueuse.", "Youri Ouchakov",
         "la réunion a été utile"),
        ("La réunion a été utile et fructueuse, selon M. Ouchakov.", "Youri Ouchakov",
         "La réunion a été utile et fructueuse"),
    ],
)  # fmt: skip
def test_french_frames(sentence: str, claimant: str, content_start: str) -> None:
    found, _chain, content = _attr(sentence)
    assert found == claimant
    assert content.startswith(content_start)


def test_nested_frames_keep_the_chain_and_the_innermost_content() -> None:
    _claimant, chain, content = _attr(LINES[7])
    assert chain == ("Youri Ouchakov", "Mike Pompeo")
    assert content.endswith("lors du sommet du G20 à Osaka, au Japon.")


def test_speakers_are_the_innermost_frame_together() -> None:
    nested = parse_attribution(LINES[7], "fr", ARTICLE)
    assert nested.speakers == ("Mike Pompeo",)
    both = parse_attribution(
        "Vladimir Poutine et Mike Pompeo ont indiqué qu'il était prêt à venir.", "fr", ARTICLE
    )
    assert both.chain == both.speakers == ("Vladimir Poutine", "Mike Pompeo")
    alone = parse_attribution("M. Poutine a déclaré qu'il était satisfait.", "fr", ARTICLE)
    assert alone.speakers == ("Vladimir Poutine",)


def test_quote_then_frame() -> None:
    sentence = (
        "J'espère que les conditions nécessaires à cela sont maintenant en train d'être "
        'créées", a indiqué M. Poutine à M. Pompeo.'
    )
    found = parse_attribution(sentence, "fr", ARTICLE)
    assert found.claimant == "Vladimir Poutine"  # not the person spoken to
    assert found.quoted
    assert found.content(sentence).endswith("en train d'être créées")


@pytest.mark.parametrize(
    ("sentence", "claimant", "content"),
    [
        ("Putin said the two countries were ready to restore full relations.",
         "Vladimir Putin", "the two countries were ready to restore full relations."),
        ('"We have always said we want full relations," Putin told Pompeo.',
         "Vladimir Putin", "We have always said we want full relations"),
        ("According to Ushakov, Trump is ready to meet Putin in June.",
         "Yuri Ushakov", "Trump is ready to meet Putin in June."),
        ("Unemployment fell to 3.5% in May, the Labor Department said on Friday.",
         "Labor Department", "Unemployment fell to 3.5% in May"),
        ("The Mueller report did not establish a conspiracy, Attorney General William Barr "
         "wrote.", "William Barr", "The Mueller report did not establish a conspiracy"),
        ("Secretary of State Mike Pompeo told reporters that the talks were productive.",
         "Mike Pompeo", "the talks were productive."),
    ],
)  # fmt: skip
def test_english_frames(sentence: str, claimant: str, content: str) -> None:
    assert _attr(sentence, "en", EN_ARTICLE)[0::2] == (claimant, content)


def test_pronoun_speakers_are_left_to_the_caller_and_plain_statements_have_no_frame() -> None:
    found = parse_attribution("He said that the economy grew by 3% last year.", "en")
    assert (found.claimant, found.pronoun) == ("", "he")
    plain = "La Russie et les Etats-Unis ont des intérêts communs."
    found = parse_attribution(plain, "fr")
    assert (found.claimant, found.content(plain)) == ("", plain.rstrip())


def test_titles_map_to_names_only_when_unambiguous() -> None:
    assert title_names(ARTICLE)["président russe"] == "Vladimir Poutine"
    two = "Le ministre Jean Dupont a parlé. Le ministre Paul Durand a répondu."
    assert "ministre" not in title_names(two)


def _pieces(sentence: str, lang: str) -> list[str]:
    return [sentence[s:e] for s, e in split_clauses(sentence, 0, len(sentence), lang)]


def test_repeated_complementiser_splits_under_one_frame() -> None:
    sentence = LINES[8]
    found = parse_attribution(sentence, "fr", ARTICLE)
    spans = split_clauses(sentence, found.content_start, found.content_end, "fr")
    assert [sentence[s:e] for s, e in spans] == [
        "la réunion de mardi n'avait pas permis une avancée décisive dans les relations entre "
        "la Russie et les Etats-Unis",
        "la discussion avait tout de même été utile et fructueuse",
        "la partie américaine avait fait preuve d'une attitude constructive en vue d'une "
        "amélioration des relations bilatérales.",
    ]


@pytest.mark.parametrize(
    ("sentence", "lang", "expected"),
    [
        ("Unemployment fell to 3.5% in May, and inflation rose to 2% in June.", "en",
         ["Unemployment fell to 3.5% in May", "inflation rose to 2% in June."]),
        ("Prices rose 3%; wages fell 2% over the same period.", "en",
         ["Prices rose 3%", "wages fell 2% over the same period."]),
        ("Le chômage a baissé de 2 % en mai, et les prix ont augmenté de 3 % sur un an.", "fr",
         ["Le chômage a baissé de 2 % en mai", "les prix ont augmenté de 3 % sur un an."]),
        # shared subject: the right side would not stand alone
        ("Washington et Moscou avaient des positions différentes, mais partageaient certains "
         "intérêts.", "fr", None),
        # a coordinated object, not a second statement
        ("The company hired 500 people and opened two plants in Ohio.", "en", None),
    ],
)  # fmt: skip
def test_independent_clauses(sentence: str, lang: str, expected: list[str] | None) -> None:
    assert _pieces(sentence, lang) == (expected or [sentence])


def test_pronouns_resolved_only_with_a_clear_antecedent() -> None:
    text = (
        "M. Poutine a déclaré qu'au cours de sa conversation avec Donald Trump, il avait eu "
        "l'impression que ce dernier était prêt."
    )
    people = [(0, "Vladimir Poutine"), (57, "Donald Trump")]
    result = resolve_pronouns(text, "fr", people, ("Vladimir Poutine",), content_start=24)
    assert "Vladimir Poutine avait eu l'impression que Donald Trump était prêt" in result.text
    assert result.resolutions == (
        "il -> Vladimir Poutine (pronoun: the reported speaker)",
        "ce dernier -> Donald Trump (pronoun: the last person named)",
    )
    # Two speakers: "il" is not clear.
    two = resolve_pronouns(text, "fr", people, (), content_start=24)
    assert "il avait eu" in two.text
    # A sentence opening with "He" after a sentence naming one person.
    opening = resolve_pronouns("He met Pompeo on Tuesday.", "en", [], (), 0, ("Vladimir Putin",))
    assert opening.text == "Vladimir Putin met Pompeo on Tuesday."
    unclear = resolve_pronouns("He met Pompeo.", "en", [], (), 0, ("Putin A", "Trump B"))
    assert unclear.text == "He met Pompeo."


def test_weekday_dates_say_their_rule() -> None:
    found = weekday_dates("la réunion de mardi", "fr", "2019-05-15")
    assert [(f.text, f.value, f.rule) for f in found] == [
        ("mardi", "2019-05-14", "weekday up to the article date")
    ]
    assert weekday_dates("la réunion de mardi", "fr", "") == []
