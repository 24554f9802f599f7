"""A user's text file as decoded lines, each decoded on its own.

Files that mix encodings are common (rows pasted from several exports): a
whole-file guess turns either the UTF-8 rows or the others into mojibake. So
each physical line is decoded as UTF-8 and, only if that fails, as
Windows-1252 (cp1252, which never fails here); :attr:`DecodedLines.fallback`
lists those lines so the user is told which ones to check. UTF-16 files are
decoded as a whole (their line breaks are two bytes).

Lines end at LF, CRLF or a lone CR, as ``open(newline="")`` reads them, and
keep their endings, so :mod:`csv` sees exactly what is in the file.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import BinaryIO, Iterator

from sentiment import config
from sentiment.files.formats import DataError

# cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; Windows maps them to
# the C1 controls of the same number, as latin-1 does. Decoding as latin-1 and
# mapping the other 0x80-0x9F bytes to cp1252 gives that without failing.
_CP1252_FROM_LATIN1 = {
    byte: bytes([byte]).decode("cp1252")
    for byte in range(0x80, 0xA0)
    if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


_CR_LINES_RE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def decode_cp1252(raw: bytes) -> str:
    """Bytes as Windows-1252, undefined bytes as their C1 control; never fails."""
    return raw.decode("latin-1").translate(_CP1252_FROM_LATIN1)


class DecodedLines:
    """Iterate over a binary file's lines as text; ``line_number`` is the last read.

    Raises DataError naming the line for a NUL byte, a line over
    ``max_line_bytes``, or (UTF-16 only) bytes that do not decode.
    """

    def __init__(
        self,
        handle: BinaryIO,
        encoding: str,
        name: str,
        max_line_bytes: int = config.MAX_LINE_BYTES,
    ) -> None:
        self.encoding = encoding
        self.name = name
        self.max_line_bytes = max_line_bytes
        self.line_number = 0
        self.fallback: list[int] = []  # the first lines read as cp1252
        self.fallback_count = 0
        self._handle = handle
        self._lines = (
            self._utf16_lines() if encoding.startswith("utf-16") else self._utf8_lines()
        )

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._lines)

    def warning(self) -> str | None:
        """What to tell the user about lines read as cp1252; None if there were none."""
        if not self.fallback_count:
            return None
        named = ", ".join(f"{n:,}" for n in self.fallback)
        more = self.fallback_count - len(self.fallback)
        rest = f" and {more:,} more" if more else ""
        return (
            f"{self.name}: {self.fallback_count:,} line(s) are not valid UTF-8 and "
            f"were read as Windows-1252 (cp1252): line(s) {named}{rest}. Check that "
            "their accents and symbols are right; save the file as UTF-8 to be sure."
        )

    def _utf8_lines(self) -> Iterator[str]:
        first = True
        for raw in self._raw_lines():
            self.line_number += 1
            if first and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            first = False
            if b"\x00" in raw:
                raise DataError(self._nul_message())
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.fallback_count += 1
                if len(self.fallback) < config.FALLBACK_LINES_NAMED:
                    self.fallback.append(self.line_number)
                yield decode_cp1252(raw)

    def _raw_lines(self) -> Iterator[bytes]:
        limit = self.max_line_bytes
        while raw := self._handle.readline(limit + 1):
            if len(raw) > limit:
                raise DataError(self._too_long_message(f"{limit:,} bytes"))
            if b"\r" in raw and not (raw.endswith(b"\r\n") and raw.count(b"\r") == 1):
                yield from _CR_LINES_RE.findall(raw)
            else:
                yield raw

    def _utf16_lines(self) -> Iterator[str]:
        text = io.TextIOWrapper(self._handle, encoding=self.encoding, newline="")
        limit = self.max_line_bytes // 2
        while True:
            try:
                line = text.readline(limit + 1)
            except UnicodeDecodeError as e:
                raise DataError(
                    f"{self.name}: line {self.line_number + 1:,} cannot be decoded as "
                    f"{self.encoding} ({e.reason}). Save the file as UTF-8 and try "
                    "again."
                ) from e
            if not line:
                text.detach()  # the caller closes the binary file
                return
            if len(line) > limit:
                raise DataError(self._too_long_message(f"{limit:,} characters"))
            self.line_number += 1
            if "\x00" in line:
                raise DataError(self._nul_message())
            yield line.lstrip("\ufeff") if self.line_number == 1 else line

    def _nul_message(self) -> str:
        return (
            f"{self.name}: line {self.line_number:,} contains a NUL byte, which text "
            "files do not have: is this a binary file, or UTF-16 saved without a "
            "byte-order mark? Export it as CSV (UTF-8), or remove the NUL characters."
        )

    def _too_long_message(self, limit: str) -> str:
        return (
            f"{self.name}: line {self.line_number + 1:,} is longer than {limit}. "
            "Is it a text file with line breaks? Split very long posts, or export "
            "the file again as CSV."
        )
