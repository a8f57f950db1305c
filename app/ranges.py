"""HTTP Range (RFC 9110 §14) for one byte range; anything fancier gets the whole body."""

from __future__ import annotations

from dataclasses import dataclass

from app.numerals import whole_number


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
    """The one range asked for; None means "send everything" (no header, several ranges, or nonsense).

    Positions are ASCII digits only (RFC 9110's DIGIT): "²" or an Arabic-Indic digit is nonsense, not a
    number. A position past numerals.CEILING reads as CEILING, which is past every attachment's end.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    first = whole_number(first_text) if first_text else None
    last = whole_number(last_text) if last_text else None
    if not dash or (first_text and first is None) or (last_text and last is None):
        return None
    if first is None:
        if last is None:
            return None  # `bytes=-`
        # A suffix range: the last n bytes.
        if last == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - last), size - 1)
    if last is not None and last < first:
        return None  # an invalid range-spec: the header is ignored
    # Checked before the open end is filled in, so `bytes=<size>-` is unsatisfiable rather than ignored.
    if first >= size:
        raise Unsatisfiable
    end = last if last is not None else size - 1
    return ByteRange(first, min(end, size - 1))


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
