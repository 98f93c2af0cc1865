"""Provides attribution parsing: who makes a claim, and the claim's content apart from its frame.

A news sentence often reports a claim: "M. Poutine a déclaré qu'au cours de sa conversation
téléphonique du 3 mai ...", "..., a déclaré le président russe", "selon Youri Ouchakov, ...",
"Putin said the two countries ...", "'...,' Pompeo told reporters". The reporting frame names
the claimant; what is checked is the content. Frames nest ("Ouchakov a indiqué que M. Pompeo
avait déclaré à M. Poutine que Donald Trump était prêt ..."): the claimant is the outer
speaker (the one the article quotes), the chain keeps the inner ones, and the content is the
innermost clause.

Speakers are found by pattern: a name (with or without honorific), a subject noun phrase
before the reporting verb, or a title the article attaches to a name earlier ("le président
russe" -> "Vladimir Poutine"). A subject pronoun as speaker ("a-t-il ajouté", "he said") is
left for the caller to resolve from the previous sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from workbench.extract.claimant import expand_name

_UP = "A-ZÀ-ÖØ-Þ"
_ADVERBS_FR = (
    r"(?:\s+(?:par ailleurs|aussi|également|encore|ensuite|enfin|notamment|toutefois|pourtant"
    r"|cependant|lui-même|elle-même|déjà|récemment|publiquement|mardi|lundi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|hier|dimanche soir|[^\W\d_]+ment))*"
)
_VERBS_FR = (
    r"déclaré|indiqué|affirmé|annoncé|expliqué|souligné|précisé|ajouté|assuré|dit|confié"
    r"|rappelé|reconnu|estimé|jugé|insisté|martelé|averti|prévenu|répondu|raconté|révélé"
    r"|signalé|fait savoir|noté|admis|démenti|nié|soutenu|rapporté|écrit|tweeté|confirmé"
    r"|promis|prétendu|laissé entendre|fait valoir|dénoncé|accusé|lancé|observé|relevé"
)
_PRESENT_FR = (
    r"déclare|indique|affirme|annonce|explique|souligne|précise|ajoute|assure|rappelle"
    r"|reconnaît|estime|juge|insiste|martèle|avertit|prévient|répond|raconte|révèle|note"
    r"|dit|confie|soutient|écrit|confirme|dénonce|observe|relève|conclut|poursuit"
)
_AUX_FR = r"(?:a|ont|avait|avaient|aurait|auraient)"
_VERBS_EN = (
    r"said|says|told|tells|stated|states|announced|announces|explained|added|adds|noted|notes"
    r"|stressed|insisted|claimed|claims|argued|argues|warned|warns|wrote|writes|tweeted"
    r"|reported|declared|acknowledged|admitted|denied|asserted|asserts|confirmed|promised"
    r"|suggested|indicated|revealed|recalled|maintained|contended|alleged|predicted|vowed"
    r"|believes|believed|thinks|thought|estimated|estimates|testified|posted"
)
_HONORIFIC = r"(?:M\.|MM\.|Mme|Mmes|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?)"
_THAT = r"(?:que\s+|qu['’]|that\s+)"

_ADVERBS_EN = (
    r"(?:\s+(?:also|again|later|earlier|previously|repeatedly|publicly|recently|never|always"
    r"|then|[a-z]+ly))*"
)
_OBJECT_EN = (
    r"(?:\s+(?:reporters|journalists|the press|the media|lawmakers|supporters|him|her|them|us"
    r"|[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*))?"
)
_WHEN_EN = r"(?:\s+(?:on|in|at|last|this|late|early|earlier|later|during)\b[^,.;\"”]*)?"
# Frame before the content: "SPEAKER [, apposition,] a [adv] déclaré [à X] que CONTENT".
_PRE = {
    "fr": re.compile(
        rf"(?P<subject>[^\"«“]*?)\s*\b(?:{_AUX_FR}{_ADVERBS_FR}\s+(?:{_VERBS_FR})"
        rf"|(?:{_PRESENT_FR}))\b(?P<to>[^\"«“]{{0,60}}?)\s+{_THAT}",
        re.IGNORECASE,
    ),
    # English with "that": "Pompeo told reporters on Tuesday that ...".
    "en": re.compile(
        rf"(?P<subject>[^\"“]*?)\s*\b(?:(?:has|had|have){_ADVERBS_EN}\s+)?(?:{_VERBS_EN})\b"
        rf"(?P<to>[^\"“,]{{0,60}}?)\s+that\s+",
        re.IGNORECASE,
    ),
}
# English without "that": "Putin said the two countries ..." (the verb right before content).
_PRE_BARE_EN = re.compile(
    rf"(?P<subject>[^\"“,]*?)\s*\b(?:(?:has|had|have){_ADVERBS_EN}\s+)?"
    rf"(?:said|says|claimed|claims|argued|argues|believes|thinks|warned|warns|added|noted"
    rf"|insisted|stressed|wrote|tweeted|announced|predicted|alleged|maintained)"
    rf"{_WHEN_EN}\s+(?=[\w\"“])",
)
# Frame after the content: "CONTENT, a déclaré SPEAKER." / "CONTENT, a-t-il ajouté."
_POST = {
    "fr": re.compile(
        rf"(?:[,\"»”]\s*)+(?:{_AUX_FR}(?:-t-)?{_ADVERBS_FR}\s+(?:{_VERBS_FR})"
        rf"|(?:{_PRESENT_FR})(?:-t-)?|{_AUX_FR}-t-(?P<pron>il|elle|ils|elles|on)"
        rf"{_ADVERBS_FR}\s+(?:{_VERBS_FR}))"
        rf"(?![^,.;]{{0,60}}\b(?:que|qu['’]))(?:\s+(?P<speaker>(?:{_HONORIFIC}|[^,.;]){{1,80}}?))?(?P<tail>[,;][^.]*)?\s*[.!…]?\s*$",
        re.IGNORECASE,
    ),
    "en": re.compile(
        rf"(?:[,\"”]\s*)+(?:(?P<speaker>(?:{_HONORIFIC}|[^,.;\"”]){{1,80}}?)(?:\s+(?:has|had|have))?{_ADVERBS_EN}"
        rf"\s+(?:{_VERBS_EN}){_OBJECT_EN}|(?:{_VERBS_EN})(?![^,.;]{{0,60}}\bthat\b)\s+(?P<speaker2>(?:{_HONORIFIC}|[^,.;]){{1,80}}?))"
        rf"{_WHEN_EN}(?P<tail>[,;][^.]*)?\s*[.!…]?\s*$",
    ),
}
_ACCORDING = {
    "fr": re.compile(r"\b(?:selon|d['’]après|aux dires de)\s+(?!moi\b|nous\b)", re.IGNORECASE),
    "en": re.compile(r"\baccording to\s+(?!me\b|us\b)", re.IGNORECASE),
}
_PRONOUNS = frozenset(
    {"il", "elle", "ils", "elles", "on", "nous", "je", "vous", "he", "she", "they", "it"}
    | {"we", "i", "you"}
)
_NAME = re.compile(
    rf"(?:{_HONORIFIC}\s+)?[{_UP}][\w'’-]+(?:\s+(?:de\s+|van\s+|von\s+|bin\s+)?[{_UP}][\w'’-]+)*"
)
# Capitalised words that head a title or open a sentence, never part of a person's name.
_NOT_NAME = frozenset(
    {
        *("Le", "La", "Les", "L", "Un", "Une", "Des", "Du", "De", "The", "A", "An", "Ce"),
        *("Président", "President", "Secrétaire", "Secretary", "Ministre", "Minister"),
        *("Premier", "Prime", "Etat", "État", "State", "Avant", "Après", "Before", "After"),
        *("Selon", "According", "Pour", "For", "Mais", "But", "Et", "And", "Il", "Elle"),
        *("He", "She", "They", "We", "It", "Dans", "In", "Lors", "During", "Au", "At"),
        *("Sénateur", "Senator", "Gouverneur", "Governor", "Chancelier", "Chancellor"),
        *("Porte-parole", "Procureur", "Juge", "Judge", "Général", "General", "Attorney"),
    }
)
_TITLE_WORDS = (
    r"(?:le |la |l['’]|the )?(?:présidente?|ministre|premier ministre|secrétaire d['’]\w+"
    r"|secrétaire général|procureure?|chancelière?|porte-parole|dirigeante?|chef|assistante?"
    r"|conseill(?:er|ère)|ambassad(?:eur|rice)|président|president|secretary of state"
    r"|secretary|minister|prime minister|chancellor|spokes(?:man|woman|person)|leader"
    r"|prosecutor|adviser|advisor|aide|ambassador)"
    r"(?:\s+(?:spéciale?|américaine?|russe|français[e]?|chinoise?|ukrainienne?|allemande?"
    r"|britannique|japonaise?|special|american|russian|french|chinese|ukrainian|german"
    r"|british|japanese|us|u\.s\.)){0,2}"
)
# Case-insensitive for the title only: the name must be capitalised.
_TITLE_THEN_NAME = re.compile(
    rf"\b((?i:{_TITLE_WORDS}))\s+((?:[{_UP}][\w'’-]+\s+){{0,2}}[{_UP}][\w'’-]+)"
)
_BARE_TITLE = re.compile(rf"^\s*{_TITLE_WORDS}\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Attribution:
    """Who makes a claim and where its content lies in the sentence.

    `content_start`/`content_end` are offsets into the sentence; `claimant` is '' when the
    sentence reports nobody, or the speaker's fullest name; `chain` lists the speakers from
    the outermost frame in; `speakers` are those of the innermost frame only, together
    ("Poutine et Pompeo ont indiqué": both; "Ouchakov a dit que Pompeo avait déclaré":
    Pompeo); `pronoun` is set when the speaker is only a pronoun."""

    claimant: str = ""
    chain: tuple[str, ...] = ()
    content_start: int = 0
    content_end: int = 0
    frame: str = ""
    quoted: bool = False
    pronoun: str = ""
    speakers: tuple[str, ...] = ()

    def content(self, sentence: str) -> str:
        return sentence[self.content_start : self.content_end]


@lru_cache(maxsize=64)
def title_names(article: str) -> dict[str, str]:
    """Titles the article attaches to a name: {'président russe': 'Vladimir Poutine'}.

    A title used for two different people is dropped: it would not say which one."""
    found: dict[str, str] = {}
    clashes: set[str] = set()
    for match in _TITLE_THEN_NAME.finditer(article):
        title = _normal_title(match.group(1))
        name = _strip_name(match.group(2))
        if not name or " " not in name:
            continue
        if title in found and found[title] != name:
            clashes.add(title)
        found.setdefault(title, name)
    return {t: n for t, n in found.items() if t not in clashes}


def _normal_title(title: str) -> str:
    title = re.sub(r"^(?:le |la |l['’]|the )", "", title.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", title).lower()


def _strip_name(name: str) -> str:
    words = [w for w in re.split(r"\s+", name.strip()) if w]
    while words and words[0].rstrip(".") in _NOT_NAME | {"M", "Mme", "Mr", "Mrs", "Ms", "Dr"}:
        words.pop(0)
    return " ".join(words)


def speaker_names(phrase: str, article: str = "") -> list[str]:
    """The people a subject phrase names ("M. Poutine et Mike Pompeo" -> two), expanded to
    the full names the article gives; a bare title the article ties to one name becomes it."""
    phrase = phrase.strip(' ,;:"«»“”')
    if not phrase:
        return []
    names = []
    for match in _NAME.finditer(phrase):
        name = _strip_name(match.group())
        before = phrase[: match.start()].rstrip().lower()
        # "avec M. Pompeo" / "à M. Poutine" / "with Pompeo": a companion, not the speaker.
        if not name or re.search(r"(?:\bavec|\bà|\bwith|\bto)$", before):
            continue
        names.append(expand_name(name, article) if " " not in name else name)
    if names:
        return list(dict.fromkeys(names))
    title = _normal_title(phrase)
    if _BARE_TITLE.match(phrase):
        mapped = title_names(article).get(title) if article else None
        return [mapped] if mapped else [phrase.strip()]
    return [phrase] if len(phrase.split()) <= 6 and phrase.lower() not in _PRONOUNS else []


def _subject(text: str) -> str:
    """The subject phrase just before a reporting verb, past any opening adjunct.

    "Avant une réunion avec M. Pompeo, M. Poutine" -> "M. Poutine"; "Youri Ouchakov, un
    assistant du président russe," -> "Youri Ouchakov" (an apposition is skipped)."""
    text = text.strip()
    if text.endswith(","):
        # "NAME, apposition," : the name comes before the apposition.
        parts = text[:-1].split(",")
        if len(parts) >= 2:
            return parts[-2].strip()
    return text.rsplit(",", 1)[-1].strip()


def _speakers(subject: str, article: str) -> tuple[list[str], str]:
    word = subject.strip().lower()
    if word in _PRONOUNS:
        return [], word
    return speaker_names(subject, article), ""


def parse_attribution(sentence: str, lang: str, article: str = "") -> Attribution:
    """Find the reporting frame of `sentence`: claimant, nested speakers and content span."""
    lang = lang if lang in _PRE else "en"
    end = len(sentence.rstrip())
    # Content inside quotes followed by a frame: '"...", a indiqué M. Poutine.'
    post = _POST[lang].search(sentence)
    if post is not None and post.start() > 0:
        speaker = post.group("speaker") or (post.groupdict().get("speaker2") or "")
        pronoun = (post.groupdict().get("pron") or "").lower()
        names, pron = _speakers(speaker, article) if speaker else ([], pronoun)
        if names or pron:
            content_end = post.start()
            quoted = sentence[content_end : content_end + 1] in '"»”' or sentence[
                max(0, content_end - 1) : content_end
            ] in ('"', "»", "”")
            start = _skip_open_quote(sentence, 0)
            inner = parse_attribution(sentence[start:content_end], lang, article)
            if inner.chain:
                span = (start + inner.content_start, start + inner.content_end)
            else:
                span = (start, _trim_end(sentence, start, content_end))
            return Attribution(
                _join(names, lang),
                tuple(names) + inner.chain,
                *span,
                sentence[post.start() :].strip(" ,"),
                quoted,
                pron,
                inner.speakers if inner.chain else tuple(names),
            )
    according = _ACCORDING[lang].search(sentence)
    if according is not None:
        rest = sentence[according.end() :]
        comma = rest.find(",")
        speaker = rest[:comma] if comma != -1 else rest.rstrip(" .")
        names = speaker_names(speaker, article)
        if names:
            if according.start() < 3 and comma != -1:  # "Selon X, CONTENT."
                start = according.end() + comma + 1
                start += len(sentence[start:]) - len(sentence[start:].lstrip())
                return Attribution(
                    _join(names, lang), tuple(names), start, end, "", False, "", tuple(names)
                )
            # "CONTENT, selon X."
            return Attribution(
                _join(names, lang),
                tuple(names),
                0,
                _trim_end(sentence, 0, according.start()),
                sentence[according.start() :],
                speakers=tuple(names),
            )
    pre = _PRE[lang].search(sentence)
    if pre is None and lang == "en":
        pre = _PRE_BARE_EN.match(sentence)
    if pre is not None:
        names, pron = _speakers(_subject(pre.group("subject")), article)
        if (names or pron) and pre.end() < end:
            inner = parse_attribution(sentence[pre.end() :], lang, article)
            offset = pre.end()
            if inner.chain or inner.pronoun:
                return Attribution(
                    _join(names, lang),
                    tuple(names) + inner.chain,
                    offset + inner.content_start,
                    offset + inner.content_end,
                    sentence[: pre.end()].strip(),
                    inner.quoted,
                    pron,
                    inner.speakers if inner.chain else tuple(names),
                )
            return Attribution(
                _join(names, lang),
                tuple(names),
                offset,
                end,
                sentence[: pre.end()].strip(),
                False,
                pron,
                tuple(names),
            )
    return Attribution(content_start=0, content_end=end)


def _join(names: list[str], lang: str) -> str:
    return (" et " if lang == "fr" else " and ").join(names)


def _skip_open_quote(sentence: str, start: int) -> int:
    while start < len(sentence) and sentence[start] in " \"«“‘'\u00a0":
        start += 1
    return start


def _trim_end(sentence: str, start: int, end: int) -> int:
    while end > start and sentence[end - 1] in " ,\"»”’'\u00a0":
        end -= 1
    return end
