"""Provides safe decoding of user text files into normalised Python strings.

Every offset the workbench stores is an index into the text returned here, that is
after the byte-order mark is dropped and line endings are normalised to "\\n". A
person opening the file in an editor sees the same characters, so offsets stay
meaningful; they are not byte offsets into the raw file.
"""

from __future__ import annotations

import codecs
import math
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from workbench.errors import InputError

# Binary sniffing looks at the head of the file only, as `file` and git do.
_SNIFF_BYTES = 8192
# Sample of decoded text used for the control-character check; enough to be
# representative without scanning large files twice.
_SNIFF_CHARS = 65536
# More than this share of control characters means the "text" is really binary.
_MAX_CONTROL_SHARE = 0.02
# charset_normalizer's mess ratio: 0 is clean text, 0.2 is its own give-up threshold.
_MAX_MESS = 0.15
# Control characters that ordinary text files legitimately contain.
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")

_FIX_HINT = "re-save the file as UTF-8"

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def read_text(path: Path, max_bytes: int | None = None, what: str = "file", hint: str = "") -> str:
    """Read a text file and return its decoded text with newlines normalised to "\\n".

    Offsets into the returned string are the offsets the rest of the workbench uses.
    Raises InputError naming the path when the file is missing, a folder, empty,
    binary, in an encoding that cannot be determined, or larger than `max_bytes` (see
    `read_bytes`).
    """
    return decode_bytes(read_bytes(path, max_bytes, what, hint), str(path))


def read_bytes(
    path: Path, max_bytes: int | None = None, what: str = "file", hint: str = ""
) -> bytes:
    """The raw bytes of a file, refused before it is read when over `max_bytes`.

    The refusal names the file, its size and the limit: "`what` is 52.4 MB, over the 2 MB
    limit; `hint`" (the hint says how to raise the limit). At most max_bytes + 1 bytes are
    ever read, so a pipe or a file growing meanwhile cannot exhaust memory either."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError(f"{name}: file not found")
    if path.is_dir():
        raise InputError(f"{name}: is a folder, expected a file")
    try:
        if max_bytes is not None:
            size = path.stat().st_size
            if size > max_bytes:
                raise too_large(name, size, max_bytes, what, hint)
        with path.open("rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror or exc})") from exc
    if max_bytes is not None and len(data) > max_bytes:
        # stat said less (a pipe, /proc, a file being written): the size is a lower bound.
        raise too_large(name, len(data), max_bytes, what, hint, at_least=True)
    return data


MB = 1_000_000


def limit_bytes(value: float | str, name: str) -> int:
    """A size limit given in MB (a number, or the text of an option or variable) in bytes;
    `name` says where it came from in the one-line refusal of anything not a finite size
    above 0 ("inf" included: a limit is what bounds memory and time)."""
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = 0.0
    if not (math.isfinite(megabytes) and megabytes > 0):
        raise InputError(f"{name}={value}: expected a size in MB above 0, e.g. 10")
    return int(megabytes * MB)


def megabytes(size: float) -> str:
    """A size for people, in the unit limits are given in: "2 MB", "52.4 MB", "1.5 kB"."""
    if size >= MB / 10:
        return f"{size / MB:.1f}".removesuffix(".0") + " MB"
    return f"{size / 1000:.1f}".removesuffix(".0") + " kB"


def too_large(
    name: str, size: int, limit: int, what: str, hint: str = "", at_least: bool = False
) -> InputError:
    """The one-line refusal of an input over a size limit, naming size and limit."""
    shown, cap = megabytes(size), megabytes(limit)
    if shown == cap:
        # 2,000,001 bytes reads "2 MB" like the limit: say the exact numbers instead.
        shown, cap = f"{size:,} bytes", f"{limit:,}-byte"
    more = "more than " if at_least else ""
    return InputError(
        f"{name}: {what} is {more}{shown}, over the {cap} limit" + (f"; {hint}" if hint else "")
    )


def decode_bytes(data: bytes, name: str) -> str:
    """Decode raw file bytes to text with "\\n" newlines; `name` is used in error messages.

    Order: byte-order mark (UTF-8/16/32), strict UTF-8, UTF-16 without a BOM, then
    detection (cp1252 preferred when it reads cleanly, as it is the usual legacy
    encoding of French and English text).
    """
    if not data:
        raise InputError(f"{name}: file is empty")
    text = _decode(data, name)
    # Ctrl-Z is the old DOS end-of-file marker, harmless at the very end.
    text = text.rstrip("\x1a")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{name}: file is empty (only whitespace)")
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise InputError(f"{name}: looks like a binary file (control characters), expected text")
    return text


def _decode(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{name}: starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} (byte {exc.start + len(bom)}); {_FIX_HINT}"
                ) from exc

    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        # Text in UTF-16 without a BOM is mostly NUL bytes at one parity; anything else
        # with NULs is binary.
        text = _utf16_without_bom(data)
        if text is None:
            raise InputError(f"{name}: looks like a binary file (NUL bytes), expected text")
        return text

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc

    if _mostly_utf8(data):
        # A few bad bytes inside otherwise valid UTF-8: guessing a legacy encoding would
        # garble every other accented letter, so say where the problem is instead.
        line = data.count(b"\n", 0, utf8_error.start) + 1
        raise InputError(
            f"{name}: not valid UTF-8 at line {line} (byte {utf8_error.start}) although the "
            f"rest is; the file mixes encodings; {_FIX_HINT}"
        )

    return _detect(data, name)


def _detect(data: bytes, name: str) -> str:
    best = from_bytes(data).best()
    # charset_normalizer alone often picks cp1250 or a Mac code page for short French
    # text, because they decode the same bytes without "mess". cp1252 is far more
    # likely for our users, so take it whenever it reads as clean as the best guess.
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None:
        western_mess = mess_ratio(western[:_SNIFF_CHARS], 1.0)
        best_mess = best.chaos if best is not None else 1.0
        if western_mess <= _MAX_MESS and western_mess <= best_mess + 0.01:
            return western
    if best is None or best.chaos > _MAX_MESS:
        if _looks_binary(data):
            raise InputError(f"{name}: looks like a binary file, expected text")
        raise InputError(f"{name}: could not determine the text encoding; {_FIX_HINT}")
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:_SNIFF_BYTES]
    even, odd = sample[0::2], sample[1::2]
    if not odd:
        return None
    # ASCII-range text in UTF-16 has a NUL as the high byte of nearly every unit.
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        encoding = "utf-16-le"
    elif even.count(0) >= 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return text if _control_share(text) <= _MAX_CONTROL_SHARE else None


def _mostly_utf8(data: bytes) -> bool:
    decoded = data.decode("utf-8", errors="replace")
    bad = decoded.count("\ufffd")
    non_ascii = len(decoded) - len(decoded.encode("ascii", errors="ignore"))
    good = non_ascii - bad
    return good > 0 and good >= 2 * bad


def _looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    controls = sum(1 for b in head if b < 32 and b not in b"\t\n\r\f\v")
    return controls > _MAX_CONTROL_SHARE * len(head)


def _control_share(text: str) -> float:
    sample = text[:_SNIFF_CHARS]
    controls = sum(
        1
        for ch in sample
        if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc" and ch != "\x85"
    )
    return controls / len(sample)
