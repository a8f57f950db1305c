"""Tags: the one normal form a tag is stored and filtered in, and which tags there can be.

A tag is compared as people read it. "Café" typed on two keyboards can arrive composed (NFC) or
decomposed (NFD), and "read" with a trailing space or a zero-width space looks like "read": each
would be a second tag no one can tell from the first. So a tag is stored, and a `?tag=` filter looked
up, as `normal_form(text)`: surrounding invisible characters removed, lower-cased, then NFC.

A tag with nothing but invisible characters (whitespace, control and format characters: Unicode general
categories Zs, Zl, Zp, Cc, Cf) has no normal form to show; the schema refuses it (422) with a `pattern`
the document carries, so a client sees the same rule the service applies.
"""

from __future__ import annotations

import unicodedata

# Every code point whose general category is Cc, Cf, Zs, Zl or Zp, or that str.isspace() calls
# whitespace, as of the Unicode version of this Python (tests/unit/test_tag_rules.py checks the table
# against unicodedata, so a newer Unicode that adds one fails there rather than letting it through).
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x20),
    (0x7F, 0xA0),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x2064),
    (0x2066, 0x206F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char(code: int) -> str:
    # BMP characters as \uXXXX escapes (Python, ECMA-262 and Rust regex all read them); astral ones as
    # the character itself, which all three read inside a class (ECMA-262 with the `u` flag, as JSON
    # Schema validators compile patterns).
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


_INVISIBLE_CLASS = "".join(
    _char(first) if first == last else f"{_char(first)}-{_char(last)}" for first, last in INVISIBLE_RANGES
)
INVISIBLE = frozenset(chr(c) for first, last in INVISIBLE_RANGES for c in range(first, last + 1))

# No NUL anywhere (PostgreSQL text cannot hold it), and at least one character that is not invisible.
VISIBLE_TAG_PATTERN = rf"^[^\x00]*[^{_INVISIBLE_CLASS}][^\x00]*$"

_STRIPPED = "".join(sorted(INVISIBLE))


def normal_form(tag: str) -> str:
    """The tag as stored and as looked up: no surrounding invisible characters, lower-case, NFC."""
    return unicodedata.normalize("NFC", tag.strip(_STRIPPED).lower())
