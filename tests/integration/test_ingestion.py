"""Ingestion through a real Dramatiq worker: result fields (normalized_url, word_count, title precedence),
new versions, at-least-once safety (duplicate, stale and deleted-mark messages change nothing), retries
then `failed` on corrupt bytes, and `success` final for its version."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.ingestion.process import RetryLater
from app.settings import Settings
from tests.integration.flows import Json, create_mark, get_mark, patch_mark, paused, upload
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.seam.accounts import SignedInUser


def _ingested(api: httpx.Client, user: SignedInUser, worker: DrainableWorker, mark: Json) -> Json:
    worker.join()
    ingestion: Json = get_mark(api, user.headers, mark["id"])["ingestion"]
    assert ingestion["status"] == "success", ingestion
    return ingestion


def _row(db: Session, mark_id: str) -> dict[str, Any]:
    """The ingestion row exactly as stored (read fresh, not through the API)."""
    row = db.execute(
        text("SELECT * FROM ingestions WHERE mark_id = :m"), {"m": uuid.UUID(mark_id)}
    ).mappings()
    return dict(row.one())


def _corrupt_blob(db: Session, settings: Settings, mark_id: str) -> None:
    blob_id = db.execute(
        text("SELECT blob_id FROM attachments WHERE mark_id = :m"), {"m": uuid.UUID(mark_id)}
    ).scalar_one()
    hex_id = uuid.UUID(str(blob_id)).hex
    path = settings.blob_dir / hex_id[:2] / hex_id
    path.write_bytes(path.read_bytes() + b"tampered")


def test_success_sets_result_attempts_and_time(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker
) -> None:
    mark = create_mark(api, user.headers, url="https://Example.org/Path", note="three small words")
    ingestion = _ingested(api, user, worker, mark)
    assert ingestion["version"] == 1
    assert ingestion["attempts"] == 1
    assert ingestion["error"] is None
    assert ingestion["ingested_at"] is not None
    assert ingestion["result"] == {
        "normalized_url": "https://example.org/Path",
        "word_count": 3,
        "title": "example.org",
    }


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTPS://EXAMPLE.ORG/A/b", "https://example.org/A/b"),
        ("http://example.org:80/x", "http://example.org/x"),
        ("https://example.org:443/x", "https://example.org/x"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("http://example.org:443/x", "http://example.org:443/x"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org?q=1", "https://example.org/?q=1"),
        ("https://example.org/p#frag", "https://example.org/p"),
        (
            "https://example.org/p?utm_source=x&a=1&UTM_Medium=y&Utm_campaign=z&b=2",
            "https://example.org/p?a=1&b=2",
        ),
        ("https://example.org/p?utm_source=x&utm_medium=y", "https://example.org/p"),
        ("https://example.org/p?z=1&a=2&m=3", "https://example.org/p?z=1&a=2&m=3"),
        ("https://example.org/p?q=a%20b&r=%2F&s=x+y", "https://example.org/p?q=a%20b&r=%2F&s=x+y"),
        ("https://example.org/p?notutm_x=1&utm=2", "https://example.org/p?notutm_x=1&utm=2"),
        ("https://example.org/p?utm_source=x#frag", "https://example.org/p"),
        ("https://Ex.Org:443?utm_a=1#f", "https://ex.org/"),
    ],
)
def test_normalized_url(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, url: str, normalized: str
) -> None:
    mark = create_mark(api, user.headers, url=url)
    assert mark["url"] == url, "the given url is kept as given"
    assert _ingested(api, user, worker, mark)["result"]["normalized_url"] == normalized


def test_no_url_gives_null_normalized_url_and_title(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker
) -> None:
    mark = create_mark(api, user.headers, note="just a note")
    result = _ingested(api, user, worker, mark)["result"]
    assert result == {"normalized_url": None, "word_count": 3, "title": None}


@pytest.mark.parametrize(
    ("note", "attachment", "content_type", "words"),
    [
        (None, None, None, 0),
        ("one", None, None, 1),
        ("  spaced\tout\nwords  here ", None, None, 4),
        ("a b", b"c d e", "text/plain", 5),
        ("a b", b"c d e", "text/markdown; charset=utf-8", 5),
        ("a b", b"c d e", "application/octet-stream", 2),
        (None, b"caf\xc3\xa9 \xff\xfe bad", "text/plain", 3),
        (None, b"", "text/plain", 0),
    ],
    ids=[
        "nothing",
        "one",
        "whitespace",
        "text",
        "text-params",
        "binary-not-counted",
        "invalid-utf8",
        "empty",
    ],
)
def test_word_count(
    api: httpx.Client,
    user: SignedInUser,
    worker: DrainableWorker,
    note: str | None,
    attachment: bytes | None,
    content_type: str | None,
    words: int,
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", **({"note": note} if note else {}))
    if attachment is not None:
        assert content_type is not None
        upload(api, user.headers, mark["id"], attachment, content_type)
    assert _ingested(api, user, worker, mark)["result"]["word_count"] == words


@pytest.mark.parametrize(
    ("fields", "attachment", "title"),
    [
        ({"url": "https://Host.Example:8080/p", "title": "Given"}, b"Line\n", "Given"),
        ({"url": "https://host.example/p"}, b"\n   \n  First line  \nsecond\n", "First line"),
        ({"url": "https://host.example/p"}, b"x" * 400, "x" * 300),
        ({"url": "https://host.example/p"}, b"  \n\t\n", "host.example"),
        ({"url": "https://Host.Example:8080/p"}, None, "host.example"),
        ({"note": "n"}, b"From the file", "From the file"),
        ({"note": "n"}, None, None),
        ({"url": "https://host.example/p"}, b"Binary first line", "host.example"),
    ],
    ids=["given", "first-text-line", "cut-to-300", "blank-text", "host", "text-no-url", "nothing", "binary"],
)
def test_title_precedence(
    api: httpx.Client,
    user: SignedInUser,
    worker: DrainableWorker,
    fields: Json,
    attachment: bytes | None,
    title: str | None,
) -> None:
    mark = create_mark(api, user.headers, **fields)
    if attachment is not None:
        content_type = "application/octet-stream" if attachment.startswith(b"Binary") else "text/plain"
        upload(api, user.headers, mark["id"], attachment, content_type)
    assert _ingested(api, user, worker, mark)["result"]["title"] == title


def test_url_change_is_processed_as_a_new_version(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker
) -> None:
    mark = create_mark(api, user.headers, url="https://one.example/")
    _ingested(api, user, worker, mark)
    patch_mark(api, user.headers, mark["id"], url="https://two.example/?utm_x=1")
    ingestion = _ingested(api, user, worker, mark)
    assert (ingestion["version"], ingestion["attempts"]) == (2, 1)
    assert ingestion["result"]["normalized_url"] == "https://two.example/"
    assert ingestion["result"]["title"] == "two.example"


def test_upload_is_processed_as_a_new_version(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker
) -> None:
    mark = create_mark(api, user.headers, note="n")
    _ingested(api, user, worker, mark)
    upload(api, user.headers, mark["id"], b"Heading\nmore words here", "text/plain")
    ingestion = _ingested(api, user, worker, mark)
    assert ingestion["version"] == 2
    assert ingestion["result"] == {"normalized_url": None, "word_count": 5, "title": "Heading"}


def test_only_the_latest_of_quick_changes_ends_in_success(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    with paused(worker):
        mark = create_mark(api, user.headers, url="https://v1.example/")
        for n in (2, 3, 4):
            patch_mark(api, user.headers, mark["id"], url=f"https://v{n}.example/")
        assert worker.pending() == 4
    ingestion = _ingested(api, user, worker, mark)
    assert ingestion["version"] == 4
    assert ingestion["result"]["normalized_url"] == "https://v4.example/"
    assert _row(db, mark["id"])["attempts"] == 1, "stale versions must not be claimed"


def test_duplicate_message_for_a_finished_version_changes_nothing(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", note="n")
    _ingested(api, user, worker, mark)
    before = _row(db, mark["id"])
    for _ in range(3):
        worker.queue.enqueue(uuid.UUID(mark["id"]), 1)
    worker.join()
    assert _row(db, mark["id"]) == before


def test_stale_message_for_an_older_version_changes_nothing(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    mark = create_mark(api, user.headers, url="https://old.example/")
    _ingested(api, user, worker, mark)
    patch_mark(api, user.headers, mark["id"], url="https://new.example/")
    _ingested(api, user, worker, mark)
    before = _row(db, mark["id"])
    worker.queue.enqueue(uuid.UUID(mark["id"]), 1)
    worker.join()
    assert _row(db, mark["id"]) == before
    assert (before["version"], before["normalized_url"]) == (2, "https://new.example/")


def test_stale_message_while_the_new_version_is_pending_changes_nothing(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    mark = create_mark(api, user.headers, url="https://old.example/")
    _ingested(api, user, worker, mark)
    with paused(worker):
        patch_mark(api, user.headers, mark["id"], url="https://new.example/")
        worker.flush()  # lose the real message: only the stale one is delivered
        worker.queue.enqueue(uuid.UUID(mark["id"]), 1)
    worker.join()
    row = _row(db, mark["id"])
    assert (row["status"], row["version"], row["attempts"]) == ("pending", 2, 0)


def test_future_version_message_changes_nothing(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    mark = create_mark(api, user.headers, note="n")
    _ingested(api, user, worker, mark)
    before = _row(db, mark["id"])
    worker.queue.enqueue(uuid.UUID(mark["id"]), 99)
    worker.join()
    assert _row(db, mark["id"]) == before


def test_message_for_a_deleted_mark_is_dropped_without_error(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session
) -> None:
    mark = create_mark(api, user.headers, note="n")
    _ingested(api, user, worker, mark)
    assert api.delete(f"/v1/marks/{mark['id']}", headers=user.headers).status_code == 204
    worker.queue.enqueue(uuid.UUID(mark["id"]), 1)
    worker.queue.enqueue(uuid.uuid4(), 1)
    assert worker.join(fail_fast=True) == []
    assert db.execute(text("SELECT count(*) FROM ingestions")).scalar() == 0


def test_mark_deleted_before_its_first_message_is_delivered(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, settings: Settings
) -> None:
    with paused(worker):
        mark = create_mark(api, user.headers, note="n")
        upload(api, user.headers, mark["id"], b"bytes", "text/plain")
        assert api.delete(f"/v1/marks/{mark['id']}", headers=user.headers).status_code == 204
    assert worker.join(fail_fast=True) == []


def test_corrupt_bytes_are_retried_then_failed(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session, settings: Settings
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", note="n")
    upload(api, user.headers, mark["id"], b"original text", "text/plain")
    _ingested(api, user, worker, mark)
    _corrupt_blob(db, settings, mark["id"])
    patch_mark(api, user.headers, mark["id"], url="https://example.org/next")  # version 3 reads the bytes
    errors = worker.join(fail_fast=False)
    assert len(errors) == settings.ingest_max_attempts - 1
    assert all(isinstance(e, RetryLater) for e in errors)
    ingestion = get_mark(api, user.headers, mark["id"])["ingestion"]
    assert ingestion["status"] == "failed"
    assert ingestion["version"] == 3
    assert ingestion["attempts"] == settings.ingest_max_attempts
    assert "AttachmentCorrupt" in ingestion["error"]
    assert ingestion["result"] is None
    assert ingestion["ingested_at"] is None


def test_a_new_version_recovers_from_failed(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session, settings: Settings
) -> None:
    mark = create_mark(api, user.headers, note="n")
    upload(api, user.headers, mark["id"], b"text", "text/plain")
    _ingested(api, user, worker, mark)
    _corrupt_blob(db, settings, mark["id"])
    patch_mark(api, user.headers, mark["id"], url="https://example.org/")
    worker.join(fail_fast=False)
    assert get_mark(api, user.headers, mark["id"])["ingestion"]["status"] == "failed"
    upload(api, user.headers, mark["id"], b"fresh bytes", "text/plain")
    ingestion = _ingested(api, user, worker, mark)
    assert (ingestion["version"], ingestion["attempts"], ingestion["error"]) == (4, 1, None)


def test_success_never_goes_back_for_its_version(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker, db: Session, settings: Settings
) -> None:
    mark = create_mark(api, user.headers, note="n")
    upload(api, user.headers, mark["id"], b"good bytes", "text/plain")
    _ingested(api, user, worker, mark)
    before = _row(db, mark["id"])
    _corrupt_blob(db, settings, mark["id"])  # a redelivery would now fail, if it were claimed
    for _ in range(3):
        worker.queue.enqueue(uuid.UUID(mark["id"]), before["version"])
    assert worker.join(fail_fast=True) == []
    assert _row(db, mark["id"]) == before
