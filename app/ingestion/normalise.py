"""Pure functions that turn a mark into its ingestion result (no I/O here)."""

from __future__ import annotations

import codecs
from urllib.parse import urlsplit, urlunsplit

TITLE_LIMIT = 300
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    # Split the raw query by hand so kept parameters keep their exact order and encoding.
    kept = [pair for pair in parts.query.split("&") if pair and not pair.lower().startswith("utm_")]
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


def count_words(note: str | None, attachment_text: str | None) -> int:
    return len((note or "").split()) + len((attachment_text or "").split())


def choose_title(title: str | None, attachment_text: str | None, url: str | None) -> str | None:
    if title is not None:
        return title
    if attachment_text is not None:
        for line in attachment_text.splitlines():
            if line.strip():
                return line.strip()[:TITLE_LIMIT]
    if url is not None:
        host = urlsplit(url).hostname
        if host:
            return host.lower()
    return None


# Longest first: UTF-32-LE's mark begins with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def attachment_text(content_type: str, data: bytes) -> str | None:
    """The text of a `text/*` attachment, storable as it is; None for other media types.

    Decoded by its byte-order mark, else its `charset` parameter, else as UTF-8; bytes the encoding
    cannot read are replaced, and what PostgreSQL text cannot hold is taken out (`storable`).
    """
    media_type, _, parameters = content_type.partition(";")
    if not media_type.strip().lower().startswith("text/"):
        return None
    encoding = _bom_encoding(data) or _charset(parameters) or "utf-8"
    try:
        text = data.decode(encoding, errors="replace")
    except (LookupError, UnicodeError, ValueError):  # unknown, or not a text encoding ("base64")
        text = data.decode("utf-8", errors="replace")
    return storable(text)


def storable(text: str) -> str:
    """`text` without what a PostgreSQL text value cannot hold: U+0000 and lone surrogates (as `?`).

    Everything the worker writes goes through here, so no stored value can make its write fail.
    """
    if text.isascii():
        return text.replace("\x00", "")
    return text.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "")


def _bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip() or None
    return None
