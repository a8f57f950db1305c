"""The expected state the machines keep beside the service, and the strategies that feed them.

Expected ingestion results are written out by hand from api.md (the URL pool with its normalised
forms), not computed by the service's own functions, so a wrong normaliser cannot agree with itself.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

# url -> (normalized_url, host title), per api.md's rules.
URLS: dict[str, tuple[str, str]] = {
    "https://Example.org": ("https://example.org/", "example.org"),
    "http://example.org:80/a?utm_source=x&b=2#frag": ("http://example.org/a?b=2", "example.org"),
    "HTTPS://Docs.Example.COM:443/path/?q=1&UTM_Medium=m": (
        "https://docs.example.com/path/?q=1",
        "docs.example.com",
    ),
    "https://example.net:8443/x?utm_campaign=y": ("https://example.net:8443/x", "example.net"),
    "http://example.org/p?a=%20b&utm_=1&c": ("http://example.org/p?a=%20b&c", "example.org"),
}
# Composed and decomposed "Café", and a tag with spaces around it: one tag each once normalised.
TAG_POOL = ["Read", "read", "later", "Work", "x", "long-tag-" + "t" * 30, "Caf\u00e9", "cafe\u0301", " read "]

# Letters, digits, spaces (incl. no-break space) and newlines: words the way str.split() sees them.
_TEXT = st.characters(categories=("L", "Nd", "Zs"), include_characters="\n\t", codec="utf-8")
notes = st.none() | st.text(_TEXT, max_size=40)
titles = st.none() | st.text(_TEXT, min_size=0, max_size=20)
urls = st.none() | st.sampled_from(sorted(URLS))
tag_lists = st.lists(st.sampled_from(TAG_POOL), max_size=4)


@st.composite
def mark_fields(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    url, note = draw(urls), draw(notes)
    if url is None and note is None:
        note = ""
    for name, value in (("url", url), ("note", note), ("title", draw(titles))):
        if value is not None or draw(st.booleans()):
            fields[name] = value
    if draw(st.booleans()):
        fields["tags"] = draw(tag_lists)
    return fields


@st.composite
def mark_changes(draw: st.DrawFn) -> dict[str, Any]:
    """A PATCH body: any subset of the fields; may clear url/note/title, may leave both empty (422)."""
    changes: dict[str, Any] = {}
    if draw(st.booleans()):
        changes["url"] = draw(urls)
    if draw(st.booleans()):
        changes["note"] = draw(notes)
    if draw(st.integers(0, 3)) == 0:
        changes["title"] = draw(titles)
    if draw(st.integers(0, 3)) == 0:
        changes["tags"] = draw(tag_lists)
    return changes


@st.composite
def attachments(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["text", "text-bad-utf8", "binary", "large"]))
    if kind == "text":
        body = draw(st.text(_TEXT, max_size=120)).encode()
        return body, draw(st.sampled_from(["text/plain", "text/markdown; charset=utf-8"]))
    if kind == "text-bad-utf8":
        return draw(st.binary(max_size=60)) + b"\xff\xfe word", "text/plain"
    if kind == "binary":
        return draw(st.binary(max_size=200)), draw(st.sampled_from(["application/octet-stream", "image/png"]))
    # Large enough to stream in several chunks (64 KiB each), cheap to build.
    return bytes(range(256)) * draw(st.integers(300, 1200)), "application/octet-stream"


def merged_tags(tags: list[str]) -> list[str]:
    # docs/api.md: surrounding whitespace removed, lower-cased, NFC (the pool has no other invisibles).
    return list(dict.fromkeys(unicodedata.normalize("NFC", tag.strip().lower()) for tag in tags))


# docs/api.md, Ingestion: decoded by the byte-order mark, else the charset parameter, else UTF-8, unreadable
# bytes replaced, U+0000 removed. (The only charset the machine sends is utf-8, the default.)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def attachment_text(data: bytes, content_type: str) -> str | None:
    if not content_type.lower().startswith("text/"):
        return None
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    text = data.decode(encoding, errors="replace")
    return text.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")


@dataclass
class Attached:
    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ModelMark:
    id: str
    owner: str  # the owning user's id
    url: str | None
    title: str | None
    note: str | None
    tags: list[str]
    created_at: datetime
    version: int = 1
    attachment: Attached | None = None
    blob_ids: set[str] = field(
        default_factory=set
    )  # every blob this mark ever had (for "deleted means gone")
    deleted: bool = False
    # Ingestion as the model expects it: `pending` after a new version, `success` once delivered.
    status: str = "pending"
    result: dict[str, Any] | None = None
    messages: dict[int, int] = field(default_factory=dict)  # version -> messages sent for it

    def sent(self, version: int) -> None:
        self.messages[version] = self.messages.get(version, 0) + 1

    def new_version(self) -> None:
        self.version += 1
        self.status, self.result = "pending", None
        self.sent(self.version)

    def expected_result(self) -> dict[str, Any]:
        """What ingesting the mark as it is now must produce (api.md, Ingestion)."""
        text = (
            attachment_text(self.attachment.data, self.attachment.content_type) if self.attachment else None
        )
        words = len((self.note or "").split()) + len((text or "").split())
        title = self.title
        if title is None and text is not None:
            title = next((line.strip()[:300] for line in text.splitlines() if line.strip()), None)
        if title is None and self.url is not None:
            title = URLS[self.url][1]
        return {
            "normalized_url": URLS[self.url][0] if self.url is not None else None,
            "word_count": words,
            "title": title,
        }
