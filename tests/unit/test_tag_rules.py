"""The tag rule's table of invisible characters is the running Python's Unicode, whole and no more."""

from __future__ import annotations

import re
import sys
import unicodedata

from app.tags import INVISIBLE, VISIBLE_TAG_PATTERN

_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def test_the_table_is_every_whitespace_control_and_format_character() -> None:
    expected = {
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in _CATEGORIES or chr(code).isspace()
    }
    # A newer Unicode adds format characters (15.0 added U+13439..U+1343F): extend app/tags.py's table.
    assert sorted(expected - INVISIBLE) == [], f"Unicode {unicodedata.unidata_version}: add these"
    assert sorted(INVISIBLE - expected) == [], "the table holds characters that are visible"


def test_the_pattern_refuses_exactly_the_tags_of_invisible_characters() -> None:
    pattern = re.compile(VISIBLE_TAG_PATTERN)
    for char in sorted(INVISIBLE):
        assert not pattern.match(char * 3), f"U+{ord(char):04X} alone was accepted"
        assert pattern.match(char + "a" + char) or char == "\x00", f"U+{ord(char):04X} around a letter"
    assert pattern.match("\u0301")  # a combining mark alone is not invisible
