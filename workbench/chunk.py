"""Provides rule-based sentence splitting and sentence-aware passage chunking with offsets.

All spans are half-open (start, end) character offsets into the text given, trimmed of
surrounding whitespace, so `text[start:end]` is exactly the sentence or passage. The
splitter is tuned for French and English news text: it is fast and predictable rather
than clever, and errs towards not splitting when a period is ambiguous.
"""

from __future__ import annotations

import re

# Punctuation that can end a sentence, then anything that may close it: quotes and
# brackets, or a French closing guillemet written after a (non-breaking) space.
_END_RE = re.compile(r"[.!?…]+(?:[^\S\n]*»|[\"'”’)\]}])*(?=\s)")
_LINE_END_RE = re.compile(r"[.!?…]+(?:[^\S\n]*»|[\"'”’)\]}])*$")
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")
_LIST_ITEM_RE = re.compile(r"\s*(?:[-*+•–—]|\d{1,3}[.)])\s")
# Several one-letter parts joined by dots: U.S., e.g., i.e., J.-C., a.m.
_DOTTED_INITIALS_RE = re.compile(r"(?:[^\W\d_]\.-?)+[^\W\d_]")

_OPENERS = "\"'([{«“‘„¿¡—–"
_CLOSERS = "\"'”’)]}»"
# Markdown emphasis may wrap the first word of a sentence.
_EMPHASIS = "*_"

# Abbreviations matched with their case, because the lower-case word is ordinary and
# may well end a sentence ("he told me." vs "Me Dupont", "the col." vs "Col. Smith").
_CASED_ABBREVIATIONS = frozenset(
    {
        # French titles
        "M",
        "MM",
        "Mme",
        "Mmes",
        "Mlle",
        "Mlles",
        "Dr",
        "Pr",
        "Me",
        "Mgr",
        "St",
        "Ste",
        "Sté",
        # English titles
        "Mr",
        "Mrs",
        "Ms",
        "Messrs",
        "Prof",
        "Rev",
        "Gen",
        "Sen",
        "Rep",
        "Gov",
        "Lt",
        "Col",
        "Capt",
        "Sgt",
        "Hon",
        "Mt",
        "Ft",
        # English months, usually followed by a capital-free day number
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Sept",
        "Oct",
        "Nov",
        "Dec",
        # et al.
        "al",
    }
)
# Abbreviations that are never ordinary words, matched in any case.
_ANY_CASE_ABBREVIATIONS = frozenset(
    {
        "cf",
        "ex",
        "env",
        "vs",
        "av",
        "apr",
        "approx",
        "ca",
        "resp",
        "ibid",
        "op",
        "cit",
        "éd",
        "coll",
        "janv",
        "févr",
        "fevr",
        "avr",
        "juil",
        "déc",
    }
)
# Abbreviations that only stay inside a sentence before a number ("No. 5", "p. 12",
# "art. 3"), since the bare word can end one ("un vol.", "said no.").
_NUMBER_ABBREVIATIONS = frozenset(
    {"No", "no", "Nos", "nos", "n", "p", "pp", "art", "Art", "vol", "Vol", "fig", "Fig",
     "chap", "ch", "tél", "tel", "Tél", "Tel"}
)  # fmt: skip

# A line without final punctuation shorter than this may be a heading or dateline.
_MAX_HEADING_CHARS = 80
# Hard-wrapped text (e.g. at 72 columns) has many lines close to the wrap width; a
# line that long is a wrapped line, not a heading.
_WRAP_MIN_WIDTH = 50
_WRAP_MAX_WIDTH = 100
_WRAP_RATIO = 0.8

Span = tuple[int, int]


def sentence_spans(text: str) -> list[Span]:
    """Split `text` into sentences; return trimmed, ordered (start, end) spans.

    A sentence ends after . ! ? or … (with any closing quotes or brackets) when
    whitespace and then a capital letter, digit or opening quote follow, except after
    known abbreviations, initials ("J. Smith", "U.S.") and elisions ("[…]"). A blank
    line always ends a sentence; a single line break does when the line before ends
    with sentence punctuation, looks like a heading or dateline (short, no final
    punctuation), or the next line starts a list item, heading or table row.
    Every non-whitespace character of `text` lies in exactly one span.
    """
    spans: list[Span] = []
    for block in _blocks(text):
        for seg_start, seg_end in _segments(text, block):
            _split_segment(text, seg_start, seg_end, spans)
    return spans


def split_passages(text: str, max_chars: int = 600, min_chars: int = 80) -> list[Span]:
    """Pack consecutive sentences of `text` into passages of at most `max_chars`.

    Passages are whole sentences, except that a single sentence longer than
    `max_chars` is cut at the last whitespace before the limit (or at the limit when
    there is none). A passage does not cross a paragraph break (blank line) unless it
    is still shorter than `min_chars`, so headings join the paragraph that follows.
    Returns trimmed, ordered, non-overlapping (start, end) spans; a text of at most
    `max_chars` (once trimmed) is a single span, and a blank text gives none.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    if min_chars > max_chars:
        raise ValueError("min_chars must not exceed max_chars")
    start, end = _trim(text, 0, len(text))
    if start == end:
        return []
    if end - start <= max_chars:
        return [(start, end)]

    pieces: list[tuple[int, int, int]] = []
    paragraph = 0
    previous_end: int | None = None
    for sent_start, sent_end in sentence_spans(text):
        if previous_end is not None and _BLANK_LINE_RE.search(text, previous_end, sent_start):
            paragraph += 1
        for piece_start, piece_end in _cut_long(text, sent_start, sent_end, max_chars):
            pieces.append((piece_start, piece_end, paragraph))
        previous_end = sent_end

    passages: list[Span] = []
    cur_start, cur_end, cur_paragraph = pieces[0]
    for piece_start, piece_end, piece_paragraph in pieces[1:]:
        fits = piece_end - cur_start <= max_chars
        joinable = piece_paragraph == cur_paragraph or cur_end - cur_start < min_chars
        if fits and joinable:
            cur_end, cur_paragraph = piece_end, piece_paragraph
        else:
            passages.append((cur_start, cur_end))
            cur_start, cur_end, cur_paragraph = piece_start, piece_end, piece_paragraph
    passages.append((cur_start, cur_end))
    return passages


def _blocks(text: str) -> list[list[Span]]:
    """Group lines into blocks separated by blank lines; each line is (start, end)."""
    blocks: list[list[Span]] = []
    current: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        line_end = pos + len(line)
        if line.strip():
            current.append((pos, line_end))
        elif current:
            blocks.append(current)
            current = []
        pos = line_end + 1
    if current:
        blocks.append(current)
    return blocks


def _segments(text: str, lines: list[Span]) -> list[Span]:
    """Cut a block at the single line breaks that end a sentence."""
    widths = [len(text[start:end].rstrip()) for start, end in lines]
    wrap_width = max(widths)
    wrapped = (
        _WRAP_MIN_WIDTH <= wrap_width <= _WRAP_MAX_WIDTH
        and sum(1 for width in widths if width >= _WRAP_RATIO * wrap_width) >= 2
    )
    segments: list[Span] = []
    seg_start = lines[0][0]
    for index in range(len(lines) - 1):
        line, next_line = lines[index], lines[index + 1]
        if _line_break_ends_sentence(text, line, next_line, wrap_width if wrapped else None):
            segments.append((seg_start, line[1]))
            seg_start = next_line[0]
    segments.append((seg_start, lines[-1][1]))
    return segments


def _line_break_ends_sentence(
    text: str, line: Span, next_line: Span, wrap_width: int | None
) -> bool:
    previous = text[line[0] : line[1]].rstrip()
    following = text[next_line[0] : next_line[1]]
    stripped_following = following.lstrip()
    if (
        _LIST_ITEM_RE.match(following)
        or stripped_following.startswith(("#", "|"))
        or previous.lstrip().startswith(("#", "|"))
    ):
        return True

    end = _LINE_END_RE.search(previous)
    if end is not None:
        run_start = line[0] + end.start()
        run = _run(end.group())
        # "M.\nPoutine": a line wrapped after an abbreviation does not end a sentence.
        return not (run == "." and _is_abbreviation(text, run_start, stripped_following[:1]))

    # No final punctuation: a heading, dateline or byline when short and followed by
    # what looks like the start of a sentence.
    content = previous.strip()
    last = content[-1:]
    if not (last.isalnum() or last in _CLOSERS or last in _EMPHASIS):
        return False
    if len(content) >= _MAX_HEADING_CHARS:
        return False
    if wrap_width is not None and len(previous) >= _WRAP_RATIO * wrap_width:
        return False
    return _starts_sentence(following, len(following) - len(stripped_following), len(following))


def _split_segment(text: str, start: int, end: int, out: list[Span]) -> None:
    sentence_start = start
    for match in _END_RE.finditer(text, start, end):
        next_pos = match.end()
        while next_pos < end and text[next_pos].isspace():
            next_pos += 1
        if next_pos >= end:
            break
        if not _starts_sentence(text, next_pos, end):
            continue
        run_start = match.start()
        # "[…]" or "(...)" marks words left out of a quotation, not a sentence end.
        if run_start > 0 and text[run_start - 1] in "[(":
            continue
        run = _run(match.group())
        if run == "." and _is_abbreviation(text, run_start, text[next_pos]):
            continue
        _emit(text, sentence_start, match.end(), out)
        sentence_start = next_pos
    _emit(text, sentence_start, end, out)


def _run(match_text: str) -> str:
    """Return the terminal punctuation of an end match, without closing quotes."""
    return match_text[: len(match_text) - len(match_text.lstrip(".!?…"))]


def _starts_sentence(text: str, pos: int, end: int) -> bool:
    while pos < end and text[pos] in _EMPHASIS:
        pos += 1
    if pos >= end:
        return False
    char = text[pos]
    if char in _OPENERS or char.isdigit() or char.isupper():
        return True
    # Scripts without case (CJK, Arabic, Hebrew...) give no capital-letter signal.
    return char.isalpha() and not char.islower()


def _is_abbreviation(text: str, dot: int, next_char: str) -> bool:
    """Say whether the period at `dot` ends an abbreviation rather than a sentence."""
    token_start = dot
    while token_start > 0 and not text[token_start - 1].isspace():
        token_start -= 1
    token = text[token_start:dot].lstrip(_OPENERS)
    # French elision: "l'art. 5", "d'av. J.-C." carry the abbreviation after the apostrophe.
    token = re.split(r"['’]", token)[-1]
    if not token:
        return False
    if token in _CASED_ABBREVIATIONS or token.lower() in _ANY_CASE_ABBREVIATIONS:
        return True
    if token in _NUMBER_ABBREVIATIONS and next_char.isdigit():
        return True
    # A single capital is an initial ("J. Smith", "Robert S. Mueller", "M. Poutine").
    if len(token) == 1 and token.isupper():
        return True
    if _DOTTED_INITIALS_RE.fullmatch(token):
        return True
    # "1. First item" at the start of a line is a list number, not a sentence.
    if token.isdigit() and len(token) <= 3:
        line_start = text.rfind("\n", 0, token_start) + 1
        return not text[line_start:token_start].strip()
    return False


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[Span]:
    """Cut one over-long sentence at whitespace so that no piece exceeds max_chars."""
    pieces: list[Span] = []
    while end - start > max_chars:
        cut = -1
        for pos in range(start + max_chars, start, -1):
            if text[pos].isspace():
                cut = pos
                break
        if cut == -1:
            cut = start + max_chars
        piece = _trim(text, start, cut)
        pieces.append(piece)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _emit(text: str, start: int, end: int, out: list[Span]) -> None:
    start, end = _trim(text, start, end)
    if start < end:
        out.append((start, end))
