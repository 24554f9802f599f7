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
import itertools
from typing import BinaryIO, Iterator

from sentiment import config
from sentiment.files.formats import DataError, split_lines

# cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; Windows maps them to
# the C1 controls of the same number, as latin-1 does. Decoding as latin-1 and
# mapping the other 0x80-0x9F bytes to cp1252 gives that without failing.
_CP1252_FROM_LATIN1 = {
    byte: bytes([byte]).decode("cp1252")
    for byte in range(0x80, 0xA0)
    if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


def decode_cp1252(raw: bytes) -> str:
    """Bytes as Windows-1252, undefined bytes as their C1 control; never fails."""
    return raw.decode("latin-1").translate(_CP1252_FROM_LATIN1)


# Files are read in blocks and split into lines in C; a Python step per line
# made reading three times slower than pandas.
_BLOCK = 1 << 20


class DecodedLines:
    """Iterate over a binary file's lines as text.

    ``lines_read`` counts the lines handed out so far (a block at a time, so
    :mod:`csv`'s ``line_num`` is the exact position) and ``bytes_read`` the
    bytes behind them. Raises DataError naming the line for a NUL byte, a
    line over ``max_line_bytes``, or (UTF-16 only) bytes that do not decode.
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
        self.lines_read = 0
        self.bytes_read = 0
        self.fallback: list[int] = []  # the first lines read as cp1252
        self.fallback_count = 0
        self._handle = handle
        utf16 = encoding.startswith("utf-16")
        blocks = self._utf16_blocks() if utf16 else self._utf8_blocks()
        self._lines = itertools.chain.from_iterable(blocks)

    def __iter__(self) -> Iterator[str]:
        return self._lines

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

    def _utf8_blocks(self) -> Iterator[list[str]]:
        carry = b""
        first = True
        while True:
            block = self._handle.read(_BLOCK)
            if first and block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8) :]
            first = False
            data = carry + block
            if not block:  # the end: the last line has no line break
                if data:
                    yield self._decode_utf8([data])
                return
            lines = data.splitlines(keepends=True)  # bytes: only CR, LF, CRLF
            # The last line may go on in the next block (a CR may be a CRLF's).
            carry = b"" if lines[-1].endswith(b"\n") else lines.pop()
            if len(carry) > self.max_line_bytes:
                raise DataError(
                    self._too_long(len(lines), f"{self.max_line_bytes:,} bytes")
                )
            if lines:
                yield self._decode_utf8(lines)

    def _decode_utf8(self, lines: list[bytes]) -> list[str]:
        """Decode a block of whole lines as UTF-8; a line that is not, as cp1252."""
        joined = b"".join(lines)
        if b"\x00" in joined:
            at = next(i for i, line in enumerate(lines) if b"\x00" in line)
            raise DataError(self._nul_message(self.lines_read + at + 1))
        try:
            # Line by line: ten times faster than cutting one decoded block
            # with split_lines, and the same lines (CR and LF bytes are never
            # inside a UTF-8 character).
            decoded = [line.decode("utf-8") for line in lines]
        except UnicodeDecodeError:
            decoded = [self._decode_line(line, i) for i, line in enumerate(lines)]
        self.lines_read += len(lines)
        self.bytes_read += len(joined)
        return decoded

    def _decode_line(self, line: bytes, index: int) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.fallback_count += 1
            if len(self.fallback) < config.FALLBACK_LINES_NAMED:
                self.fallback.append(self.lines_read + index + 1)
            return decode_cp1252(line)

    def _utf16_blocks(self) -> Iterator[list[str]]:
        text = io.TextIOWrapper(self._handle, encoding=self.encoding, newline="")
        limit = self.max_line_bytes // 2
        carry = ""
        while True:
            try:
                block = text.read(_BLOCK)
            except UnicodeDecodeError as e:
                raise DataError(
                    f"{self.name}: after line {self.lines_read:,}, bytes cannot be "
                    f"decoded as {self.encoding} ({e.reason}). Save the file as UTF-8 "
                    "and try again."
                ) from e
            if not self.lines_read and not carry:
                block = block.removeprefix("\ufeff")
            data = carry + block
            lines = split_lines(data)
            if block and lines:
                carry = "" if lines[-1].endswith("\n") else lines.pop()
            else:
                carry = ""
            if len(carry) > limit:
                raise DataError(self._too_long(len(lines), f"{limit:,} characters"))
            if any("\x00" in line for line in lines):
                at = next(i for i, line in enumerate(lines) if "\x00" in line)
                raise DataError(self._nul_message(self.lines_read + at + 1))
            self.lines_read += len(lines)
            self.bytes_read += 2 * len(block)
            if lines:
                yield lines
            if not block:
                text.detach()  # the caller closes the binary file
                return

    def _nul_message(self, line: int) -> str:
        return (
            f"{self.name}: line {line:,} contains a NUL byte, which text files do "
            "not have: is this a binary file, or UTF-16 saved without a byte-order "
            "mark? Export it as CSV (UTF-8), or remove the NUL characters."
        )

    def _too_long(self, complete_lines: int, limit: str) -> str:
        return (
            f"{self.name}: line {self.lines_read + complete_lines + 1:,} is longer "
            f"than {limit}. Is it a text file with line breaks? Split very "
            "long posts, or export the file again as CSV."
        )
