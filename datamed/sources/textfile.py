"""Generic reader for the BDPM's headerless, tab-separated text files.

Every quirk documented in SOURCES.md is handled here, once, for every file:

- encoding detected per file: UTF-8 strict, else Windows-1252 (bytes that
  cp1252 leaves undefined are mapped like latin-1 instead of failing);
- lines are split on ``\\n`` only (never on a lone ``\\r``), trailing ``\\r``
  are removed and empty lines skipped, so stray carriage returns vanish;
- a trailing empty field (the older files' trailing tab) is dropped;
- surplus tabs inside a free-text field are merged back into that field;
- fields are stripped (holders carry a leading space), never quoted, and
  every value is kept as a string until typed explicitly.

A line that cannot be split into the expected fields becomes a ``Reject``
with its file, line number and reason: nothing is dropped silently.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

MAX_RAW_CHARS = 300  # how much of a rejected line is kept for the report


@dataclass(frozen=True)
class Reject:
    file: str
    line: int
    reason: str
    raw: str

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "reason": self.reason, "raw": self.raw}


@dataclass
class SplitResult:
    """Fields of the accepted lines, column by column, plus the rejects."""

    columns: dict[str, list[str]]
    line_numbers: list[int]
    rejects: list[Reject] = field(default_factory=list)
    encoding: str = "utf-8"
    n_lines: int = 0  # non-empty lines


class RawFileError(Exception):
    """A whole file is unusable (binary, empty...). Carries file and line."""

    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.message = file, line, message
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {message}")


def _cp1252_fallback(err: UnicodeDecodeError):
    # The five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
    # map to the same C1 code points as latin-1 would.
    bad = err.object[err.start : err.end]
    return "".join(chr(b) for b in bad), err.end


codecs.register_error("cp1252_latin1", _cp1252_fallback)


def decode(data: bytes) -> tuple[str, str]:
    """Decode raw bytes: UTF-8 when strictly valid, else Windows-1252.

    A UTF-8 file cut inside its very last character stays UTF-8 (the cut
    character becomes U+FFFD; the cut line is rejected as truncated) instead of
    turning the whole file into mojibake."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        head = data[: err.start]
        if err.start >= len(data) - 3 and err.reason == "unexpected end of data" and max(head, default=0) >= 0x80:
            return head.decode("utf-8") + "\ufffd", "utf-8"  # the prefix holds valid multi-byte characters
        return data.decode("cp1252", errors="cp1252_latin1"), "cp1252"


def _looks_utf16(data: bytes) -> bool:
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    head = data[:200]
    return len(head) >= 20 and (
        head[1::2].count(0) > 0.8 * len(head[1::2]) or head[0::2].count(0) > 0.8 * len(head[0::2])
    )


def _looks_binary(data: bytes) -> int | None:
    """Line number (1-based) of the first NUL byte, if any."""
    pos = data.find(b"\x00")
    if pos < 0:
        return None
    return data.count(b"\n", 0, pos) + 1


def split_lines(text: str):
    """Yield (line_number, line) for non-empty lines, stray CRs removed."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if "\r" in line:
            line = line.replace("\r", " ")
        if line.strip():
            yield number, line


def split_fields(fields: list[str], n: int, text_index: int) -> list[str] | None:
    """Fit ``fields`` to exactly ``n`` values, or return None.

    A trailing empty field is dropped; surplus fields are merged into the
    free-text column ``text_index`` (a tab typed inside a text).
    """
    if len(fields) > n and fields[-1].strip() == "":
        fields = fields[:-1]
    extra = len(fields) - n
    if extra < 0:
        return None
    if extra > 0:
        merged = " ".join(f.strip() for f in fields[text_index : text_index + extra + 1] if f.strip())
        fields = fields[:text_index] + [merged] + fields[text_index + extra + 1 :]
    return [f.strip() for f in fields]


def read_tab_file(path: Path, columns: list[str], text_column: str, display_name: str | None = None) -> SplitResult:
    """Read a headerless tab-separated BDPM file into string columns."""
    name = display_name or path.name
    data = path.read_bytes()
    if not data.strip():
        raise RawFileError(name, None, "the file is empty")
    if _looks_utf16(data):
        raise RawFileError(name, 1, "UTF-16 text: BDPM files are UTF-8 or Windows-1252 (re-encode the file)")
    nul_line = _looks_binary(data)
    if nul_line is not None:
        raise RawFileError(name, nul_line, "binary content (NUL byte): not a BDPM text file")
    text, encoding = decode(data)
    n = len(columns)
    text_index = columns.index(text_column)
    out: dict[str, list[str]] = {c: [] for c in columns}
    line_numbers: list[int] = []
    rejects: list[Reject] = []
    n_lines = 0
    # a file that does not end with a line break was cut: its last line may be partial
    cut_line = None if text.endswith("\n") else text.count("\n") + 1
    for number, line in split_lines(text):
        n_lines += 1
        if number == cut_line:
            rejects.append(
                Reject(name, number, "last line has no line break: the file looks truncated", line[:MAX_RAW_CHARS])
            )
            continue
        raw_fields = line.split("\t")
        fields = split_fields(raw_fields, n, text_index)
        if fields is None:
            rejects.append(
                Reject(
                    name, number, f"expected {n} tab-separated fields, found {len(raw_fields)}", line[:MAX_RAW_CHARS]
                )
            )
            continue
        for c, v in zip(columns, fields):
            out[c].append(v)
        line_numbers.append(number)
    return SplitResult(out, line_numbers, rejects, encoding, n_lines)
