"""Tests for the rule-based finder of people, organisations and places in French and English."""

from __future__ import annotations

from itertools import pairwise

import pytest

from workbench.extract.entities import Entity, find_entities

SEED_1 = (
    "Le président russe Vladimir Poutine et le Secrétaire d'Etat américain Mike Pompeo ont "
    "indiqué mardi à Sotchi que les deux pays étaient disposés à réparer leurs relations et à "
    "renforcer leur coopération."
)
SEED_2 = (
    "M. Poutine a par ailleurs félicité le procureur spécial américain Robert Mueller pour son "
    '"enquête objective", qui a confirmé l\'absence de toute collusion entre la Russie et le '
    "gouvernement américain."
)
SEED_3 = (
    "Après la réunion, Youri Ouchakov, un assistant du président russe, a indiqué que M. Pompeo "
    "avait déclaré à M. Poutine que Donald Trump était prêt à rencontrer le dirigeant russe au "
    "mois de juin, lors du sommet du G20 à Osaka, au Japon."
)
ARTICLE = "\n".join((SEED_1, SEED_2, SEED_3))

PER, ORG, LOC = "person", "organisation", "place"


def found(sentence: str, lang: str, article: str = "") -> list[tuple[str, str, str]]:
    """(text, kind, normal) of each entity, after checking spans, order and overlaps."""
    entities = find_entities(sentence, lang, article)
    for entity in entities:
        assert sentence[entity.start : entity.end] == entity.text
    for left, right in pairwise(entities):
        assert left.end <= right.start
    return [(e.text, e.kind, e.normal) for e in entities]


# --- the seed article ---------------------------------------------------------------------------


def test_seed_1_titles_and_place() -> None:
    assert found(SEED_1, "fr", ARTICLE) == [
        ("Vladimir Poutine", PER, "Vladimir Poutine"),
        ("Mike Pompeo", PER, "Mike Pompeo"),
        ("Sotchi", LOC, "Sochi"),
    ]


def test_seed_2_honorific_expanded_from_the_article() -> None:
    assert found(SEED_2, "fr", ARTICLE) == [
        ("M. Poutine", PER, "Vladimir Poutine"),
        ("Robert Mueller", PER, "Robert Mueller"),
        ("Russie", LOC, "Russia"),
    ]


def test_seed_3_people_body_and_places() -> None:
    assert found(SEED_3, "fr", ARTICLE) == [
        ("Youri Ouchakov", PER, "Youri Ouchakov"),
        ("M. Pompeo", PER, "Mike Pompeo"),
        ("M. Poutine", PER, "Vladimir Poutine"),
        ("Donald Trump", PER, "Donald Trump"),
        ("G20", ORG, "G20"),
        ("Osaka", LOC, "Osaka"),
        ("Japon", LOC, "Japan"),
    ]


def test_seed_3_spans_are_exact() -> None:
    spans = [(e.start, e.end) for e in find_entities(SEED_3, "fr", ARTICLE)]
    assert spans[0] == (SEED_3.index("Youri"), SEED_3.index("Youri") + len("Youri Ouchakov"))
    assert spans[1] == (SEED_3.index("M. Pompeo"), SEED_3.index("M. Pompeo") + 9)
    assert spans[-1] == (SEED_3.index("Japon"), SEED_3.index("Japon") + 5)


def test_short_names_stay_short_without_the_article() -> None:
    people = [(t, n) for t, k, n in found(SEED_3, "fr") if k == PER]
    assert ("M. Pompeo", "Pompeo") in people
    # ...but a name written in full in the same sentence is enough.
    assert found("Vladimir Poutine est arrivé. M. Poutine a parlé.", "fr")[1][2] == (
        "Vladimir Poutine"
    )


def test_short_name_from_elsewhere_in_the_article() -> None:
    sentence = "M. Ouchakov a expliqué à la presse que la réunion de mardi avait été utile."
    assert found(sentence, "fr", ARTICLE) == [("M. Ouchakov", PER, "Youri Ouchakov")]


def test_as_dict() -> None:
    entity = find_entities(SEED_1, "fr")[2]
    assert entity == Entity(
        "Sotchi", SEED_1.index("Sotchi"), SEED_1.index("Sotchi") + 6, LOC, "Sochi"
    )
    assert entity.as_dict() == {
        "text": "Sotchi",
        "start": entity.start,
        "end": entity.end,
        "kind": LOC,
        "normal": "Sochi",
    }


# --- people ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "lang", "expected"),
    [
        ("President Donald Trump met reporters.", "en", [("Donald Trump", PER, "Donald Trump")]),
        ("Secretary of State Mike Pompeo flew in.", "en", [("Mike Pompeo", PER, "Mike Pompeo")]),
        ("Prime Minister Theresa May spoke.", "en", [("Theresa May", PER, "Theresa May")]),
        ("Russian Foreign Minister Sergei Lavrov spoke.", "en",
         [("Sergei Lavrov", PER, "Sergei Lavrov")]),
        ("Mr. Trump and Mrs May spoke.", "en",
         [("Mr. Trump", PER, "Trump"), ("Mrs May", PER, "May")]),
        ("Mme Le Pen a voté.", "fr", [("Mme Le Pen", PER, "Le Pen")]),
        ("Dr. Anthony Fauci testified.", "en", [("Dr. Anthony Fauci", PER, "Anthony Fauci")]),
        ("Le président Macron a parlé.", "fr", [("Macron", PER, "Macron")]),
        ("Mme Merkel a répondu.", "fr", [("Mme Merkel", PER, "Merkel")]),
        ("Il a vu Charles de Gaulle et Ursula von der Leyen.", "fr",
         [("Charles de Gaulle", PER, "Charles de Gaulle"),
          ("Ursula von der Leyen", PER, "Ursula von der Leyen")]),
        ("Le ministre Jean-Yves Le Drian a parlé.", "fr",
         [("Jean-Yves Le Drian", PER, "Jean-Yves Le Drian")]),
        ("Kim Jong Un met Donald J. Trump.", "en",
         [("Kim Jong Un", PER, "Kim Jong Un"), ("Donald J. Trump", PER, "Donald J. Trump")]),
        ("Putin said the inquiry was fair.", "en", [("Putin", PER, "Putin")]),
        ('"Nous sommes prêts", a déclaré Poutine.', "fr", [("Poutine", PER, "Poutine")]),
    ],
)  # fmt: skip
def test_people(sentence: str, lang: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(sentence, lang) == expected


def test_title_with_name_not_part_of_the_span() -> None:
    sentence = "U.S. Secretary of State Mike Pompeo arrived."
    assert found(sentence, "en") == [
        ("U.S.", LOC, "United States"),
        ("Mike Pompeo", PER, "Mike Pompeo"),
    ]


def test_english_short_name_expanded_from_english_article() -> None:
    article = "President Donald Trump met Russian President Vladimir Putin in Osaka."
    assert found("Mr. Trump told Mr. Putin that talks would go on.", "en", article) == [
        ("Mr. Trump", PER, "Donald Trump"),
        ("Mr. Putin", PER, "Vladimir Putin"),
    ]


# --- places ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "lang", "expected"),
    [
        ("La Russie et les Etats-Unis ont parlé.", "fr",
         [("Russie", LOC, "Russia"), ("Etats-Unis", LOC, "United States")]),
        ("Les États-Unis d'Amérique et la Corée du Sud.", "fr",
         [("États-Unis d'Amérique", LOC, "United States"), ("Corée du Sud", LOC, "South Korea")]),
        ("The United States and the U.S. and the US agree.", "en",
         [("United States", LOC, "United States"), ("U.S.", LOC, "United States"),
          ("US", LOC, "United States")]),
        ("Il a voyagé de Londres à Pékin via Kiev et Genève.", "fr",
         [("Londres", LOC, "London"), ("Pékin", LOC, "Beijing"), ("Kiev", LOC, "Kyiv"),
          ("Genève", LOC, "Geneva")]),
        ("Talks in New York, Moscow and Brussels went on.", "en",
         [("New York", LOC, "New York"), ("Moscow", LOC, "Moscow"), ("Brussels", LOC, "Brussels")]),
        ("Il a visité l'Arabie saoudite et Bruxelles.", "fr",
         [("Arabie saoudite", LOC, "Saudi Arabia"), ("Bruxelles", LOC, "Brussels")]),
        ("Ils se sont vus à Mexico.", "fr", [("Mexico", LOC, "Mexico City")]),
        ("They met in Mexico.", "en", [("Mexico", LOC, "Mexico")]),
        ("Ils se sont vus à Tcheliabinsk.", "fr", [("Tcheliabinsk", LOC, "Tcheliabinsk")]),
        ("The talks were held in Yekaterinburg.", "en", [("Yekaterinburg", LOC, "Yekaterinburg")]),
        ("The Kremlin's view of Russia's role.", "en",
         [("Kremlin", ORG, "Kremlin"), ("Russia", LOC, "Russia")]),
    ],
)  # fmt: skip
def test_places(sentence: str, lang: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(sentence, lang) == expected


def test_nationality_adjectives_and_peoples_are_not_places() -> None:
    assert found("Les Américains et les Russes, le gouvernement américain.", "fr") == []
    assert found("Russian and American officials met.", "en") == []


# --- organisations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "lang", "expected"),
    [
        ("L'OTAN, l'ONU et l'UE ont réagi.", "fr",
         [("OTAN", ORG, "NATO"), ("ONU", ORG, "United Nations"), ("UE", ORG, "European Union")]),
        ("The FBI, the CIA and the WHO disagreed.", "en",
         [("FBI", ORG, "FBI"), ("CIA", ORG, "CIA"), ("WHO", ORG, "World Health Organization")]),
        ("Selon l'OMS, le virus recule.", "fr", [("OMS", ORG, "World Health Organization")]),
        ("La Maison Blanche et le Kremlin ont parlé.", "fr",
         [("Maison Blanche", ORG, "White House"), ("Kremlin", ORG, "Kremlin")]),
        ("The White House said so.", "en", [("White House", ORG, "White House")]),
        ("Le Parti communiste chinois a parlé.", "fr",
         [("Parti communiste chinois", ORG, "Parti communiste chinois")]),
        ("Le Conseil de sécurité de l'ONU se réunit.", "fr",
         [("Conseil de sécurité de l'ONU", ORG, "UN Security Council")]),
        ("La Commission européenne a tranché.", "fr",
         [("Commission européenne", ORG, "European Commission")]),
        ("Moscow State University and Goldman Sachs Group Inc. signed.", "en",
         [("Moscow State University", ORG, "Moscow State University"),
          ("Goldman Sachs Group Inc.", ORG, "Goldman Sachs Group Inc.")]),
        ("The Bank of England raised rates.", "en", [("Bank of England", ORG, "Bank of England")]),
        ("La SNCF a annoncé une grève.", "fr", [("SNCF", ORG, "SNCF")]),
        ("Russian Foreign Ministry spokeswoman Maria Zakharova said so.", "en",
         [("Russian Foreign Ministry", ORG, "Russian Foreign Ministry"),
          ("Maria Zakharova", PER, "Maria Zakharova")]),
        ("Senate Majority Leader Mitch McConnell agreed.", "en",
         [("Senate", ORG, "Senate"), ("Mitch McConnell", PER, "Mitch McConnell")]),
    ],
)  # fmt: skip
def test_organisations(sentence: str, lang: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(sentence, lang) == expected


# --- what is not an entity ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "lang"),
    [
        ("Le gouvernement a annoncé lundi une hausse des impôts.", "fr"),
        ("La réunion a eu lieu Mardi.", "fr"),
        ("Avant la réunion, rien n'avait changé.", "fr"),
        ("Après trois heures, Selon eux, Pour nous, tout va bien.", "fr"),
        ("The meeting took place on Tuesday in March, and I was there.", "en"),
        ("Officials said sanctions would stay.", "en"),
        ("Yesterday was calm. However, Monday was not.", "en"),
        ("He told us who they were, and it may rain in May.", "en"),
        ("Sanctions were lifted in June.", "en"),
        ("Growth rose 2% and GDP fell, the CEO said on TV.", "en"),
    ],
)
def test_no_false_positives(sentence: str, lang: str) -> None:
    assert found(sentence, lang) == []


def test_sentence_initial_words_are_dropped_but_names_kept() -> None:
    assert found("The Kremlin said so.", "en") == [("Kremlin", ORG, "Kremlin")]
    assert found("Après Youri Ouchakov, personne.", "fr") == [
        ("Youri Ouchakov", PER, "Youri Ouchakov")
    ]


def test_entities_are_sorted_and_never_overlap() -> None:
    sentence = (
        "Le Conseil de sécurité de l'ONU, l'OTAN et M. Poutine se sont réunis à Sotchi, "
        "selon la Maison Blanche et le président américain Donald Trump."
    )
    entities = find_entities(sentence, "fr", ARTICLE)
    assert [e.start for e in entities] == sorted(e.start for e in entities)
    assert [e.kind for e in entities] == [ORG, ORG, PER, LOC, ORG, PER]
    assert entities[2].normal == "Vladimir Poutine"


def test_known_body_next_to_a_name_is_split() -> None:
    assert found("Le porte-parole du Kremlin Dmitri Peskov a démenti.", "fr") == [
        ("Kremlin", ORG, "Kremlin"),
        ("Dmitri Peskov", PER, "Dmitri Peskov"),
    ]
    assert found("Washington Post columnist Jamal Khashoggi was killed in Istanbul.", "en") == [
        ("Washington Post", ORG, "Washington Post"),
        ("Jamal Khashoggi", PER, "Jamal Khashoggi"),
        ("Istanbul", LOC, "Istanbul"),
    ]


@pytest.mark.parametrize("sentence", ["", "...", "L'", "M.", "A B C D.", "Plan B was dropped."])
def test_degenerate_input(sentence: str) -> None:
    assert found(sentence, "en") == []
    assert found(sentence, "fr") == []
