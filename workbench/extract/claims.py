"""Provides rule-based claim extraction: sentences scored for check-worthiness, with reasons."""

from __future__ import annotations

import re
from collections.abc import Callable

from workbench.chunk import sentence_spans
from workbench.errors import InputError
from workbench.extract.lang import SUPPORTED_LANGUAGES, UNDETERMINED, detect_language
from workbench.models import ExtractedClaim

# ---------------------------------------------------------------------------------------------
# The rules, in one place so a reviewer can see why a sentence was kept.
#
# A sentence first passes hard filters; a sentence that fails one is never a claim and
# `score_sentence` gives it 0.0 with the filter's name as its only reason:
#   "update or publication stamp"  "Dernière mise à jour à 08h36 le 15/05", "Updated 8:36 AM"
#   "dateline"                     "PARIS, 15 mai (AFP) -" on its own
#   "byline"                       "Par Jean Dupont", "By John Smith, Reuters"
#   "photo credit"                 "Photo : AFP / John Doe", "© Reuters"
#   "question"                     ends with "?"
#   "heading without a verb"       no closing punctuation and no verb we recognise
#   "too short to be a claim"      fewer than MIN_WORDS words
#
# Everything else starts at BASE_SCORE (a declarative sentence) and each rule that fires
# adds its weight once; the sum is clipped to [0, 1]:
#   +0.15  contains a date                 months, weekdays, 15/05, 2019, 08h36, hier, yesterday
#   +0.15  contains a number               digits outside dates, "trois", "million", "%"
#   +0.15  names a person or organisation  M./Mr + name, titles (président, Secretary, ...),
#                                          capitalised words past the first, acronyms
#   +0.15  attributed to a speaker         a déclaré, a indiqué, selon, said, according to
#   +0.15  states an event                 a confirmé, a rencontré, sommet, met, signed, summit
#   +0.10  contains a quantity or comparison   plus de, record, hausse, more than, percent
#   +0.15  dated future statement          a future or modal verb with a day, month or year,
#                                          not in the first person: "pourra entrer en vigueur
#                                          le 1er septembre", "se tiendra le 30 juin 2024",
#                                          "will take effect on May 1"
#   +0.15  public statement or reply       a named actor replying or addressing the public:
#                                          "a répondu ... lors d'une allocution télévisée",
#                                          "responded in a televised address"
#   -0.35  hope or wish                    J'espère, nous souhaitons, I hope, hopefully
#   -0.30  first-person opinion            je pense, à mon avis, I think, in my view
#   -0.10  first-person statement          je/nous/I/we with neither of the two above
#   -0.10  speculative or vague future     pourrait, peut-être, might, maybe, probably (not
#                                          when the future is dated: that one is checkable)
# A sentence on which no positive rule fires also gets the reason "no checkable detail".
# DEFAULT_MIN_SCORE keeps a sentence with at least one positive feature and no negative one.
# The weights are hand-set on the seed article and a few English news sentences; a learned
# model replaces them later, and these reasons become its explanation features.
# ---------------------------------------------------------------------------------------------

NON_CLAIM_REASONS = frozenset(
    {
        "update or publication stamp",
        "dateline",
        "byline",
        "photo credit",
        "question",
        "heading without a verb",
        "too short to be a claim",
    }
)
BASE_SCORE = 0.25
DEFAULT_MIN_SCORE = 0.4
MIN_WORDS = 5

# Upper-case letters including accented ones, for the name and dateline patterns.
_UP = "A-ZÀ-ÖØ-Þ"
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
# Name candidates split at elisions, so that "l'Insee" and "d'Etat" expose the capital.
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LEADING_JUNK = " \t\r\n\"'«»“”‘’-–—•*"
_TRAILING_QUOTES = " \t\r\n\"'»”’)]"

# --- hard filters -------------------------------------------------------------------------------

_STAMP = re.compile(
    r"^(?:(?:derni[èe]re\s+)?mise?\s+à\s+jour|mis\s+à\s+jour|actualisé|modifié|publié|posté"
    r"|mis\s+en\s+ligne|(?:last\s+)?updated|(?:first\s+)?published|posted|modified)\b",
    re.IGNORECASE,
)
# "PARIS, 15 mai (AFP) -", "SOCHI, Russia (Reuters) -": an upper-case place, optional detail,
# an agency in parentheses. "WASHINGTON -": an upper-case place and a dash.
_DATELINE = re.compile(
    rf"^(?:[{_UP}][{_UP}'’.\- ]{{1,40}}(?:,\s*[^()\n]{{1,40}}?)?\s*\([A-Za-z. ]{{2,20}}\)"
    rf"\s*[-–—:]?|[{_UP}]{{3,}}(?:[ -][{_UP}]{{2,}})*(?:,\s*[^\n]{{0,40}}?)?\s+[-–—])\s*"
)
_BYLINE = re.compile(
    rf"^(?:Par|By)\s+[{_UP}][\w'’.-]*"
    rf"(?:\s+(?:[{_UP}][\w'’.-]*|et|and|de|du|van|von|avec|with))*\s*(?:[,(|/–—-].{{0,40}})?$"
)
# What may follow a stamp's keyword besides dates and times: "Mis à jour le 15/05 à 08h36",
# "Updated 8:36 AM EDT, Tue May 14, 2019", "Publié par AFP".
_STAMP_FILLER = re.compile(
    r"\b(?:le|la|les|à|a|at|on|by|par|am|pm|[ap]\.m\.|h|heures?|min|edt|est|cet|cest|gmt"
    r"|utc|bst|pdt|pst|the|mon|tue|wed|thu|fri|sat|sun|lun|mer|jeu|ven|sam|dim|ago|il y a"
    r"|hours?|minutes?|days?|jours?)\b",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"^(?:photos?|crédits?(?:\s+photo)?|credits?|photograph|image|illustration|légende|caption)"
    r"\s*(?::|©|by\b|par\b)|©|\b(?:AFP|Reuters|AP|EPA|Getty Images|Sputnik)\s*/\s*\w",
    re.IGNORECASE,
)

# Finite-verb cues, only used to tell a heading ("Sommet de Sotchi") from a headline that
# states something ("Poutine veut réparer les relations"). Deliberately generous.
_VERB = {
    "fr": re.compile(
        r"\b(?:a|ont|est|sont|était|étaient|avait|avaient|sera|seront|serait|seraient|fut|furent"
        r"|ai|avons|avez|suis|sommes|êtes|été|va|vont|peut|peuvent|doit|doivent|veut|veulent"
        r"|fait|font|dit|disent|\w{3,}(?:ait|aient|èrent|era|eront|erait|eraient))\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:is|are|was|were|be|been|has|have|had|do|does|did|will|would|can|could|shall"
        r"|should|may|might|must|said|says|met|meet|meets|told|tells|made|makes|took|takes|gave"
        r"|went|came|got|saw|knew|left|won|wins|lost|held|found|became|began|ran|paid|sent"
        r"|rose|fell|wants|warns|calls|vows|urges|plans|faces|seeks|backs|signs|agrees"
        r"|rejects|\w{3,}ed)\b",
        re.IGNORECASE,
    ),
}

# --- positive features ----------------------------------------------------------------------

_MONTHS_FR = (
    r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre"
    r"|novembre|décembre|decembre"
)
_MONTHS_EN = (
    r"January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\."
)
_DATE_COMMON = (
    r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b|\b(?:1[89]\d{2}|20\d{2})\b"
    r"|\b\d{1,2}[h:]\d{2}\b"
)
_DATE = {
    "fr": re.compile(
        rf"(?:\b\d{{1,2}}(?:er)?\s+)?\b(?:{_MONTHS_FR})\b(?:\s+\d{{4}})?"
        r"|\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|hier|avant-hier"
        r"|aujourd'hui|aujourd’hui|demain)\b|" + _DATE_COMMON,
        re.IGNORECASE,
    ),
    # English month names are matched case-sensitively: "may" and "march" are also verbs.
    "en": re.compile(
        rf"(?:\b\d{{1,2}}(?:st|nd|rd|th)?\s+)?\b(?:{_MONTHS_EN})(?!\w)"
        r"(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+\d{4}\b)?"
        r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
        r"|\b(?:[Yy]esterday|[Tt]oday|[Tt]onight|[Ll]ast\s+(?:week|month|year))\b|" + _DATE_COMMON
    ),
}
# Digits not glued to letters ("G20", "COVID-19" are names, not quantities).
_DIGITS = re.compile(r"(?<![\w-])\d+(?:[.,\u202f\u00a0 ]\d+)*(?![\w])|%")
# Number words, unless they follow a determiner: "les deux pays" / "the two leaders" are
# a way of referring, not a quantity to check.
_NUMBER_WORDS = {
    "fr": re.compile(
        r"(?<!\bles )(?<!\bces )(?<!\bdes )(?<!\bnos )(?<!\bleurs )"
        r"\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente"
        r"|quarante|cinquante|soixante|cent|cents|mille|millions?|milliards?|dizaines?"
        r"|centaines?|milliers)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"(?<!\bthe )(?<!\bthese )(?<!\bthose )(?<!\bboth )"
        r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty"
        r"|fifty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?)\b",
        re.IGNORECASE,
    ),
}
_HONORIFIC = re.compile(rf"(?:^|(?<=\W))(?:M\.|MM\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?)\s+[{_UP}]")
_TITLES = {
    "fr": re.compile(
        r"\b(?:présidente?|ministre|secrétaire d['’](?:É|E)tat|secrétaire général|procureure?"
        r"|chancelière?|sénat(?:eur|rice)|député(?:e)?|maire|gouverneur|juge|porte-parole"
        r"|ambassad(?:eur|rice)|directeur|directrice|PDG|roi|reine|pape|premier ministre)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:President|Secretary|Minister|Prime Minister|Chancellor|Senator|Governor|Mayor"
        r"|Judge|[Pp]rosecutor|spokes(?:man|woman|person)|[Aa]mbassador|CEO|King|Queen|Pope"
        r"|Attorney General|Congress(?:man|woman))\b"
    ),
}
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,}\b")
# Capitalised words that are not names: the English "I", and calendar words (already dates).
_NOT_NAMES = re.compile(
    rf"^(?:I|{_MONTHS_EN}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$"
)
_ATTRIBUTION = {
    "fr": re.compile(
        r"\b(?:a|ont|avait|avaient|aurait|auraient)(?:-t-(?:il|elle|ils|elles|on))?"
        r"(?:\s+[\w'’-]+){0,2}?\s+(?:déclaré|indiqué|affirmé|annoncé|expliqué|souligné|précisé"
        r"|ajouté|assuré|dit|confié|rappelé|reconnu|estimé|jugé|insisté|martelé|averti|prévenu"
        r"|répondu|raconté|révélé|signalé|fait savoir|noté|admis|démenti|nié|soutenu|rapporté"
        r"|écrit|tweeté)\b"
        r"|\b(?:déclare|indique|affirme|annonce|explique|souligne|précise|ajoute|assure|rappelle"
        r"|reconnaît|estime)(?:-t-(?:il|elle|ils|elles|on))?\b"
        r"|\bselon\b(?!\s+(?:moi|nous)\b)|\bd['’]après\b|\baux dires de\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:said|says|told|tells|stated|announced|announces|explained|added|noted|stressed"
        r"|insisted|claimed|claims|argued|warned|wrote|tweeted|reported|declared|acknowledged"
        r"|admitted|denied|asserted|according to|quoted)\b",
        re.IGNORECASE,
    ),
}
_EVENT = {
    "fr": re.compile(
        r"\b(?:confirm[ée]\w*|rencontr\w+|réuni\w*|sommet|sign[ée]\w*|élue?s?|vot[ée]\w*"
        r"|adopt[ée]\w*|approuv[ée]\w*|félicit[ée]\w*|visité\w*|visite|établi\w*"
        r"|conversation téléphonique|entretien téléphonique|eu lieu|s['’]est rendue?"
        r"|arrêté\w*|condamné\w*|tuée?s?|décédé\w*|lancé\w*|remporté\w*|battue?s?|démissionné"
        r"|nommée?s?|augmenté|baissé|chuté|reculé|progressé|publié\w*)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:confirm\w*|met|meet|meets|meeting|summit|signed|signs|elected|voted|passed"
        r"|approved|adopted|visited|visits|held|establish\w*|phone call|called|arrested|killed"
        r"|died|launched|won|lost|rose|fell|increased|decreased|doubled|grew|declined"
        r"|published|released|congratulated|took place|occurred|happened|invaded|attacked"
        r"|resigned|appointed)\b",
        re.IGNORECASE,
    ),
}
_QUANTITY = {
    "fr": re.compile(
        r"\b(?:plus de|moins de|au moins|davantage|record|la plupart|majorité|moitié|tiers|quart"
        r"|doublé|triplé|hausse|baisse|augmentation|diminution|pour cent|le plus|le moins"
        r"|la plus|la moins)\b|%",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:more than|less than|fewer than|at least|at most|majority|half|doubled|tripled"
        r"|record|highest|lowest|largest|smallest|biggest|increase|decrease|percent|per cent"
        r"|compared (?:with|to)|the most|the least)\b|%",
        re.IGNORECASE,
    ),
}

# --- negative features ------------------------------------------------------------------------

_HOPE = {
    "fr": re.compile(
        r"\b(?:j['’]esp[èe]re|nous espérons|espérons|on espère|je souhaite|nous souhaitons"
        r"|souhaitons|j['’]aimerais|nous aimerions|pourvu que|vivement)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:I hope|we hope|hopefully|I wish|we wish|let['’]?s hope|let us hope|I['’]d like)\b",
        re.IGNORECASE,
    ),
}
_OPINION = {
    "fr": re.compile(
        r"\b(?:je|nous)\s+(?:pense|pensons|crois|croyons|trouve|trouvons|estime|estimons"
        r"|considère|considérons|suis convaincue?|sommes convaincue?s)\b"
        r"|\bj['’](?:estime|ai l['’]impression)\b|\bà mon avis\b|\bselon moi\b|\bà nos yeux\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:I|we)\s+(?:think|believe|feel|guess|reckon|suppose|consider)\b"
        r"|\bin my (?:view|opinion)\b|\bpersonally\b|\bI['’]m (?:sure|convinced)\b",
        re.IGNORECASE,
    ),
}
_FIRST_PERSON = {
    "fr": re.compile(r"\b(?:je|nous|j['’]|moi)(?=\W|$)", re.IGNORECASE),
    "en": re.compile(r"\b(?:I|[Ww]e|[Mm]y|[Oo]ur|us)\b"),
}
_SPECULATIVE = {
    "fr": re.compile(
        r"\b(?:pourrai(?:t|ent)|devrai(?:t|ent)|peut-être|sans doute|probablement|un jour"
        r"|à l['’]avenir)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:might|may|could|perhaps|maybe|probably|possibly|someday|one day|in the future)\b"
    ),
}

# A future or a modal verb: with a date, a statement that can be checked against the record
# (what was scheduled, announced or decided), unlike an undated "pourrait".
_FUTURE = {
    "fr": re.compile(
        r"\b(?:sera|seront|aura|auront|fera|feront|ira|iront|pourra|pourront|devra|devront"
        r"|devrait|devraient|pourrait|pourraient|doit|doivent|va|vont"
        r"|\w{3,}(?:era|eront|ira|iront|dra|dront))\b"
        r"|\b(?:entrer|entre|entrera|entreront) en vigueur\b|\bprendr(?:e|a|ont) effet\b"
        r"|\bprévue?s? (?:le|pour|en|à|au|dès|d['’]ici)\b|\bd['’]ici (?:le|au|à la fin)\b"
        r"|\bà (?:compter|partir) du\b",
        re.IGNORECASE,
    ),
    # Case-sensitive, as the speculative rule: "May" is a month.
    "en": re.compile(
        r"\b(?:will|shall|won['’]t|would|could|should|may|might|must|[Ww]ill|[Ss]hall)\b"
        r"|\b(?:due|scheduled|set|expected|slated|planned|going) to\b"
        r"|\b(?:take|takes|took|taking) effect\b|\b(?:come|comes|came|coming) into force\b",
    ),
}
# A named actor answering or addressing the public: the act itself is on the record.
_PUBLIC_STATEMENT = {
    "fr": re.compile(
        r"\b(?:a|ont|avait|avaient)(?:-t-(?:il|elle|ils|elles))?(?:\s+[\w'’-]+){0,2}?\s+"
        r"(?:répondu|réagi|riposté|rétorqué|réplique|répliqué|annoncé|promis|prononcé"
        r"|appelé|exhorté|dénoncé|condamné|salué|démenti)\b"
        r"|\b(?:répond|réagit|riposte|rétorque|réplique)\b"
        r"|\b(?:allocution|discours|conférence de presse|communiqué|interview"
        r"|entretien (?:accordé|au|à|avec)|message vidéo|déclaration (?:publique|solennelle"
        r"|télévisée)|adresse à la nation|tribune)\b|\btélévisée?s?\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:responded|replied|retorted|reacted|hit back|fired back|pledged|vowed|urged"
        r"|denounced|condemned|denied)\b"
        r"|\b(?:televised|address(?:ed)? the nation|speech|press conference|news conference"
        r"|interview|statement|told reporters|video message|op-ed)\b",
        re.IGNORECASE,
    ),
}

_WEIGHTS: dict[str, float] = {
    "contains a date": 0.15,
    "contains a number": 0.15,
    "names a person or organisation": 0.15,
    "attributed to a speaker": 0.15,
    "states an event": 0.15,
    "contains a quantity or comparison": 0.10,
    "dated future statement": 0.15,
    "public statement or reply": 0.15,
    "hope or wish": -0.35,
    "first-person opinion": -0.30,
    "first-person statement": -0.10,
    "speculative or vague future": -0.10,
}


def _has_date(sentence: str, lang: str) -> bool:
    return bool(_DATE[lang].search(sentence))


def _has_precise_date(sentence: str, lang: str) -> bool:
    """A date with a day, a month or a year: "le 1er septembre", "in 2024", "15/05"; not
    "mardi", "demain" or "tonight", which place a future too vaguely to check."""
    month = _MONTHS_FR if lang == "fr" else _MONTHS_EN
    return any(
        re.search(r"\d", m.group()) or re.search(month, m.group(), re.IGNORECASE * (lang == "fr"))
        for m in _DATE[lang].finditer(sentence)
    )


def _has_number(sentence: str, lang: str) -> bool:
    # Dates carry digits too ("3 mai", "15/05"): blank them so a date is not also a number.
    masked = _DATE[lang].sub(lambda m: " " * len(m.group()), sentence)
    return bool(_DIGITS.search(masked) or _NUMBER_WORDS[lang].search(masked))


def _has_name(sentence: str, lang: str) -> bool:
    if _HONORIFIC.search(sentence) or _TITLES[lang].search(sentence):
        return True
    if any(len(m.group()) <= 6 for m in _ACRONYM.finditer(sentence)) and not sentence.isupper():
        return True
    # A capitalised word past the first one is a proper noun in French and English, unless it
    # opens a quotation or follows a colon (where a new sentence may start).
    for match in list(_NAME_TOKEN.finditer(sentence))[1:]:
        word = match.group()
        before = sentence[: match.start()].rstrip()
        if not word[0].isupper() or _NOT_NAMES.match(word):
            continue
        if before and before[-1] in '"«“:.!?':
            continue
        return True
    return False


def _matcher(table: dict[str, re.Pattern[str]]) -> Callable[[str, str], bool]:
    return lambda sentence, lang: bool(table[lang].search(sentence))


_POSITIVE: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("contains a date", _has_date),
    ("contains a number", _has_number),
    ("names a person or organisation", _has_name),
    ("attributed to a speaker", _matcher(_ATTRIBUTION)),
    ("states an event", _matcher(_EVENT)),
    ("contains a quantity or comparison", _matcher(_QUANTITY)),
)


def _word_count(sentence: str) -> int:
    return len(_WORD.findall(sentence))


def _is_stamp(line: str, lang: str) -> bool:
    """Say whether `line` is a stamp: its keyword, dates and times, and at most a name."""
    keyword = _STAMP.match(line)
    if keyword is None or not re.search(r"\d", line):
        return False
    rest = _DATE[lang].sub(" ", line[keyword.end() :])
    rest = _STAMP_FILLER.sub(" ", _DATE["en" if lang == "fr" else "fr"].sub(" ", rest))
    # Two words are left for a source or author ("Publié par Jean Dupont"); a sentence that
    # merely starts with "Published" ("Published figures show ...") has more.
    return len(_NAME_TOKEN.findall(rest)) <= 2


def _non_claim_reason(sentence: str, lang: str) -> str | None:
    """Name the hard filter `sentence` fails, or None when it may be a claim."""
    stripped = sentence.strip().lstrip(_LEADING_JUNK)
    words = _word_count(stripped)
    if _is_stamp(stripped, lang):
        return "update or publication stamp"
    dateline = _DATELINE.match(stripped)
    if dateline and not stripped[dateline.end() :].strip():
        return "dateline"
    if words <= 10 and _BYLINE.match(stripped) and not _VERB[lang].search(stripped[3:]):
        return "byline"
    if words <= 15 and _CREDIT.search(stripped):
        return "photo credit"
    if sentence.rstrip(_TRAILING_QUOTES).endswith("?"):
        return "question"
    closed = sentence.rstrip(_TRAILING_QUOTES)[-1:] in {".", "!", "…", ";"}
    if not closed and not _VERB[lang].search(stripped):
        return "heading without a verb"
    if words < MIN_WORDS:
        return "too short to be a claim"
    return None


def _check_language(lang: str) -> str:
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if code not in SUPPORTED_LANGUAGES:
        raise InputError(
            f"article language is {lang!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}"
        )
    return code


def score_sentence(sentence: str, lang: str) -> tuple[float, tuple[str, ...]]:
    """Score how check-worthy `sentence` is, in [0, 1], with the reasons behind the score.

    A sentence that is not a claim at all (stamp, dateline, byline, credit, question,
    heading, fragment) scores 0.0 with that filter as its single reason. The weights are
    documented at the top of this module.
    """
    lang = _check_language(lang)
    rejected = _non_claim_reason(sentence, lang)
    if rejected is not None:
        return 0.0, (rejected,)
    reasons = [reason for reason, fires in _POSITIVE if fires(sentence, lang)]
    first_person = bool(_FIRST_PERSON[lang].search(sentence))
    # A promise in the first person ("we will ... by 2030") is a pledge, not a record.
    dated_future = (
        not first_person
        and _FUTURE[lang].search(sentence) is not None
        and _has_precise_date(sentence, lang)
    )
    if dated_future:
        reasons.append("dated future statement")
    if "names a person or organisation" in reasons and _PUBLIC_STATEMENT[lang].search(sentence):
        reasons.append("public statement or reply")
    if not reasons:
        reasons.append("no checkable detail")
    if _HOPE[lang].search(sentence):
        reasons.append("hope or wish")
    if _OPINION[lang].search(sentence):
        reasons.append("first-person opinion")
    elif "hope or wish" not in reasons and first_person:
        reasons.append("first-person statement")
    if _SPECULATIVE[lang].search(sentence) and not dated_future:
        reasons.append("speculative or vague future")
    score = BASE_SCORE + sum(_WEIGHTS.get(reason, 0.0) for reason in reasons)
    return round(min(1.0, max(0.0, score)), 3), tuple(reasons)


_BOILERPLATE_LINES = frozenset(
    {"update or publication stamp", "dateline", "byline", "photo credit"}
)


def _trim(text: str, start: int, end: int, lang: str) -> tuple[int, int]:
    """Shrink [start, end) past surrounding whitespace and a leading dateline or stamp line."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    # "PARIS, 15 mai (AFP) - Le président ...": the claim starts after the dateline.
    # (Sliced, not match(text, start): "^" would not anchor at `start`.)
    dateline = _DATELINE.match(text[start:end])
    if dateline and start + dateline.end() < end:
        start += dateline.end()
    # The splitter keeps a line glued to the next when it cannot tell it is a heading (e.g.
    # when it is long); a stamp, byline or credit line is never part of the claim below it.
    newline = text.find("\n", start, end)
    if newline != -1:
        first_line = text[start:newline]
        # A long stamp ("Mis à jour le 15/05 par la rédaction, avec ...") is still a stamp
        # when the next line starts a new sentence; a wrapped sentence goes on in lower case.
        long_stamp = (
            _STAMP.match(first_line.strip()) is not None
            and re.search(r"\d", first_line) is not None
            and text[newline + 1 : end].lstrip()[:1].isupper()
        )
        if long_stamp or _non_claim_reason(first_line, lang) in _BOILERPLATE_LINES:
            return _trim(text, newline + 1, end, lang)
    return start, end


def resolve_language(text: str, lang: str | None) -> str:
    """The article's language: `lang` checked when given, else detected on the text."""
    if lang is not None:
        return _check_language(lang)
    detected, _confidence = detect_language(text)
    if detected == UNDETERMINED:
        raise InputError("could not tell the article language; pass it explicitly (fr or en)")
    if detected not in SUPPORTED_LANGUAGES:
        raise InputError(
            f"article language looks like {detected!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}"
        )
    return detected


def candidate_sentences(text: str, lang: str) -> list[tuple[int, int]]:
    """Spans of the sentences that may be claims: trimmed of datelines and stamp lines, and
    without the non-claims (stamps, datelines, bylines, credits, questions, headings,
    fragments)."""
    spans = []
    for span_start, span_end in sentence_spans(text):
        start, end = _trim(text, span_start, span_end, lang)
        if start < end and _non_claim_reason(text[start:end], lang) is None:
            spans.append((start, end))
    return spans


def extract_claims(
    text: str, lang: str | None = None, min_score: float = DEFAULT_MIN_SCORE
) -> list[ExtractedClaim]:
    """Return the check-worthy sentences of an article by the rules alone, in reading order.

    `lang` is detected on the whole text when not given. Each claim's `start`/`end` are
    offsets into `text` with `text[start:end] == claim.text`. Non-claims (stamps,
    datelines, bylines, credits, questions, headings, fragments) are always left out;
    the rest is kept when its score reaches `min_score`. `workbench.extract.pipeline` adds
    the learned score, attribution, splitting, decontextualisation and merging.
    """
    if not text.strip():
        raise InputError("article text is empty")
    lang = resolve_language(text, lang)
    claims = []
    for start, end in candidate_sentences(text, lang):
        sentence = text[start:end]
        score, reasons = score_sentence(sentence, lang)
        if score >= min_score:
            claims.append(ExtractedClaim(sentence, start, end, lang, score, reasons))
    return claims
