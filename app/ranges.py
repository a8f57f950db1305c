"""HTTP Range (RFC 9110 §14) for one byte range; anything fancier gets the whole body."""

from __future__ import annotations

from dataclasses import dataclass


class Unsatisfiable(Exception):
    """A well-formed single range that lies outside the body."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for; None means "send everything" (no header, several ranges, or nonsense)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if (
        not dash
        or not (first.isdigit() or last.isdigit())
        or any(p and not p.isdigit() for p in (first, last))
    ):
        return None
    if not first:  # suffix range: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec: the header is ignored
    # Checked before the open end is filled in, so `bytes=<size>-` is unsatisfiable rather than ignored.
    if start >= size:
        raise Unsatisfiable
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def if_range_holds(if_range: str | None, etag: str) -> bool:
    """Whether a Range may be honoured under `If-Range` (RFC 9110 §13.1.5).

    Only a strong, identical entity tag holds: a weak tag never does, and a date cannot (attachments have
    no Last-Modified), so the client gets the whole, current body instead of a part of another one.
    """
    return if_range is None or if_range.strip() == etag
