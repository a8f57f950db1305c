"""Whole numbers in client text, read by one grammar: the ASCII digits 0-9 and nothing else.

Every number a client sends here (a byte position in `Range`, a `Content-Length`, `?limit=`) is DIGIT in
its grammar (RFC 9110, RFC 5234: %x30-39). Python's readers are wider: `str.isdigit()` is true for "²"
and the Arabic-Indic digits, `int()` reads those digits, "1_000", " 12 ", "+5" and "12\\n", and
pydantic's lax int also takes "1.0". A check and a conversion that disagree were a 500
(`Range: bytes=²-`); a wider reading than the grammar is a second spelling of a number that the
document does not admit.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")

# Beyond every size, position and count the service handles, and short enough that int() never meets
# Python's 4300-digit conversion limit (a ValueError) or spends time on a megabyte of digits.
CEILING = 10**18


def whole_number(text: str) -> int | None:
    """`text` as a non-negative integer if it is ASCII digits only, else None.

    A value of CEILING or more reads as CEILING: larger than anything it is compared with, so a caller's
    bound refuses it as it would refuse the exact value.
    """
    if not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0")
    if len(significant) >= len(str(CEILING)):
        return CEILING
    return int(significant or "0")
