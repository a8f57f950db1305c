"""A text attachment is read by its byte-order mark first (app/ingestion/normalise.py: attachment_text).

Each of the five marks names its encoding, the mark itself is not part of the text, and UTF-32-LE's
mark, which begins with UTF-16-LE's, is read as UTF-32 (the table is tried longest first).
"""

from __future__ import annotations

import codecs

import pytest

from app.ingestion.normalise import attachment_text

TEXT = "Überschrift\nmore words"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_each_byte_order_mark_names_the_encoding(bom: bytes, codec: str) -> None:
    # a charset parameter that disagrees: the mark wins
    assert attachment_text("text/plain; charset=latin-1", bom + TEXT.encode(codec)) == TEXT


def test_without_a_mark_the_charset_then_utf8_decide() -> None:
    assert attachment_text("text/plain; charset=latin-1", TEXT.encode("latin-1")) == TEXT
    assert attachment_text("text/plain", TEXT.encode("utf-8")) == TEXT
    assert attachment_text("application/pdf", TEXT.encode("utf-8")) is None
