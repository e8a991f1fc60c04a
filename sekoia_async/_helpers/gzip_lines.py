"""Export files (gzip or plain JSON lines) checked and split into lines. Pure: no I/O.

Export downloads are large and can be cut short; these classes take the bytes as they arrive
and (1) tell whether a gzip stream is whole and uncorrupted, (2) produce complete lines. Both
inflate in bounded steps, so memory stays small even for a highly compressible chunk.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from ..errors import APIResponseValidationError

__all__ = ["GzipCheck", "JsonLinesDecoder"]

_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_STEP = 1 << 18


class GzipCheck:
    """Checks that a gzip download is complete (a cut-off body is the usual failure)."""

    def __init__(self) -> None:
        self._inflater: Any = None
        self._checked = False
        self._head = b""

    def feed(self, chunk: bytes) -> None:
        if not self._checked:
            self._head += chunk
            if len(self._head) < 2:
                return
            self._checked = True
            data, self._head = self._head, b""
            if data[:2] != _GZIP_MAGIC:
                return  # not gzip (e.g. plain JSON lines): nothing to verify
            self._inflater = zlib.decompressobj(wbits=31)
            chunk = data
        if self._inflater is None:
            return
        while chunk:
            if self._inflater.eof:
                # A further gzip member (concatenated gzip is valid).
                self._inflater = zlib.decompressobj(wbits=31)
            try:
                # Bounded output per step: the inflated bytes are only counted, never kept.
                self._inflater.decompress(chunk, _INFLATE_STEP)
            except zlib.error as exc:
                raise APIResponseValidationError(
                    f"the export file is not valid gzip ({exc}); download it again"
                ) from None
            inflater = self._inflater
            chunk = inflater.unused_data if inflater.eof else inflater.unconsumed_tail

    def finish(self) -> None:
        if self._inflater is not None and not self._inflater.eof:
            raise APIResponseValidationError(
                "the export file ended before the end of its gzip stream (the download was "
                "cut short); download it again"
            )


class JsonLinesDecoder:
    """Bytes of a (gzip or plain) JSON-lines file in, complete lines out. Pure, no I/O.

    Inflation is done in bounded steps and lines are produced lazily, so memory stays small
    even for a highly compressible chunk.
    """

    def __init__(self) -> None:
        self._head = b""
        self._sniffed = False
        self._inflater: Any = None
        self._partial = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if not self._sniffed:
            self._head += chunk
            if len(self._head) < 2:
                return
            self._sniffed = True
            chunk, self._head = self._head, b""
            if chunk[:2] == _GZIP_MAGIC:
                self._inflater = zlib.decompressobj(wbits=31)
        if self._inflater is None:
            yield from self._split(chunk)
            return
        while chunk:
            if self._inflater.eof:
                self._inflater = zlib.decompressobj(wbits=31)
            try:
                data = self._inflater.decompress(chunk, _INFLATE_STEP)
            except zlib.error as exc:
                raise APIResponseValidationError(
                    f"the export file is not valid gzip ({exc}); download it again"
                ) from None
            inflater = self._inflater
            chunk = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            yield from self._split(data)

    def _split(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        yield from lines

    def finish(self) -> Iterator[bytes]:
        if not self._sniffed and self._head:
            self._sniffed = True
            yield from self._split(self._head)
        if self._inflater is not None and not self._inflater.eof:
            raise APIResponseValidationError(
                "the export file ended before the end of its gzip stream (the download was "
                "cut short); read it again"
            )
        if self._partial:
            last, self._partial = self._partial, b""
            yield last
