"""Tests the safe text decoding of workbench.textio."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from workbench.errors import ExitCode, InputError
from workbench.textio import decode_bytes, read_text

FRENCH = "M. Poutine a déclaré qu'il était prêt. Ça coûte 5 €, très cher — n'est-ce pas ?"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_is_read_as_is(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", FRENCH.encode("utf-8"))
    assert read_text(path) == FRENCH


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", codecs.BOM_UTF8 + FRENCH.encode("utf-8"))
    assert read_text(path) == FRENCH


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path = write(tmp_path, "a.txt", bom + FRENCH.encode(encoding))
    assert read_text(path) == FRENCH


def test_utf16_without_bom_is_recognised() -> None:
    assert decode_bytes("Hello, world.\nSecond line.".encode("utf-16-le"), "x") == (
        "Hello, world.\nSecond line."
    )


def test_cp1252_french_is_decoded(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "Poutine a déclaré".encode("cp1252"))
    assert read_text(path) == "Poutine a déclaré"


@pytest.mark.parametrize(
    "text",
    [FRENCH, "Déjà vu", "Le cœur de l’Œuvre « ici »", "Grüße aus München"],
)
def test_legacy_western_text_is_decoded(text: str) -> None:
    assert decode_bytes(text.encode("cp1252"), "x") == text


def test_latin1_text_is_decoded() -> None:
    text = "L'été à Paris, où il fait très chaud."
    assert decode_bytes(text.encode("latin-1"), "x") == text


def test_cyrillic_legacy_text_is_not_read_as_cp1252() -> None:
    text = "Путин заявил, что Россия готова к переговорам с США."
    assert decode_bytes(text.encode("cp1251"), "x") == text


@pytest.mark.parametrize("raw", [b"a\r\nb\rc\n", "a\r\nb\rc\n".encode("utf-16")])
def test_newlines_are_normalised(raw: bytes) -> None:
    assert decode_bytes(raw, "x") == "a\nb\nc\n"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(InputError, match=r"nope\.txt: file not found") as info:
        read_text(path)
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder") as info:
        read_text(tmp_path)
    assert str(tmp_path) in info.value.message


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", codecs.BOM_UTF8 + b"\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "empty.txt", data)
    with pytest.raises(InputError, match=r"empty\.txt: file is empty"):
        read_text(path)


def test_binary_with_nul_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match=r"image\.txt: looks like a binary file"):
        read_text(path)


def test_binary_without_nul_bytes() -> None:
    data = bytes(b % 255 + 1 for b in range(4000))
    with pytest.raises(InputError, match=r"blob: looks like a binary file"):
        decode_bytes(data, "blob")


def test_many_control_characters_are_binary() -> None:
    data = b"text" + b"\x01\x02\x03\x04\x05\x06" * 20 + b"more text"
    with pytest.raises(InputError, match=r"blob: looks like a binary file"):
        decode_bytes(data, "blob")


def test_undeterminable_encoding_says_how_to_fix() -> None:
    # Every high byte in turn: no code page reads that as clean text, and it is not UTF-8.
    data = bytes(range(0x80, 0x100)) * 3
    with pytest.raises(InputError, match=r"mystery\.txt: .*re-save the file as UTF-8"):
        decode_bytes(data, "mystery.txt")


def test_mixed_utf8_and_legacy_bytes_names_the_line() -> None:
    data = "Première ligne é.\nDeuxième à.\n".encode() + "Troisième".encode("cp1252")
    with pytest.raises(InputError, match=r"mixed\.txt: not valid UTF-8 at line 3") as info:
        decode_bytes(data, "mixed.txt")
    assert "UTF-8" in info.value.message
    assert "\n" not in info.value.message


def test_bad_utf16_after_bom() -> None:
    with pytest.raises(InputError, match="x: starts with a UTF-16-LE byte-order mark"):
        decode_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8", "x")


def test_trailing_ctrl_z_is_dropped() -> None:
    assert decode_bytes(b"old DOS file\r\n\x1a", "x") == "old DOS file\n"


def test_size_limit_refuses_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "big.txt", b"a" * 1_000_001)
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args, **kwargs):
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    with pytest.raises(InputError) as info:
        read_text(path, max_bytes=1_000_000, what="the article", hint="raise it with --x")
    assert info.value.message == (
        f"{path}: the article is 1,000,001 bytes, over the 1,000,000-byte limit; raise it with --x"
    )
    assert opened == []  # refused on its size alone
    assert read_text(path, max_bytes=1_000_001) == "a" * 1_000_001


def test_size_limit_holds_when_stat_cannot_tell(tmp_path: Path) -> None:
    """A pipe reports size 0: at most limit + 1 bytes are read, then it is refused."""
    import os
    import threading

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as pipe:
            try:
                for _ in range(100):
                    pipe.write(b"b" * 100_000)  # 10 MB offered
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with pytest.raises(InputError, match=r"pipe\.txt: file is more than 50,001 bytes, over the"):
        read_text(fifo, max_bytes=50_000)
    writer.join(timeout=5)


def test_sizes_read_for_people() -> None:
    from workbench.textio import megabytes, too_large

    assert megabytes(2_000_000) == "2 MB"
    assert megabytes(52_428_800) == "52.4 MB"
    assert megabytes(1_500) == "1.5 kB"
    message = too_large("a.txt", 52_428_800, 2_000_000, "the article", "pass --max").message
    assert message == "a.txt: the article is 52.4 MB, over the 2 MB limit; pass --max"
