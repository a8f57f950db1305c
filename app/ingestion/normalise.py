"""Pure functions that turn a mark into its ingestion result (no I/O here)."""

from __future__ import annotations

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


def attachment_text(content_type: str, data: bytes) -> str | None:
    """The text of a `text/*` attachment, decoded as UTF-8 with bad bytes replaced; None otherwise."""
    if not content_type.lower().split(";", 1)[0].strip().startswith("text/"):
        return None
    return data.decode("utf-8", errors="replace")
