"""A text attachment whose first line held U+0000 (any UTF-16 file) was ingested for ever.

What broke: the worker decoded every `text/*` attachment as UTF-8, so a UTF-16 file's first line kept
its NUL bytes; PostgreSQL text cannot hold U+0000, so writing the title failed. That write sat outside
the job's error handling (app/ingestion/process.py): the row stayed `processing` with attempts above the
maximum (4 of 3), and the requeue loop, which ignored the maximum, sent it again every 10 minutes for
ever, each time logging a traceback whose SQL parameters quoted the attachment's text. Found by a
grey-box probe (issue 26, defect 2).

What fixed it: every value the worker stores goes through `storable` (no NUL, no lone surrogate), text
is decoded by its byte-order mark or charset; any failure after the claim, the result's write included,
is retried while attempts remain and then recorded `failed`; a delivery past the last attempt records
`failed` instead of working; the requeue loop sends nothing past the maximum and closes spent versions;
errors name the exception's type only, and SQL errors hide their parameters.

Locked reproduction: each kind of value a client can store that the worker transforms (other encodings,
NUL anywhere, a huge first line, invalid UTF-8, empty, binary sent as text, codecs that are no text
encoding or yield surrogates) ends `success` within one attempt; a result write the database refuses
(a trigger quoting the title) ends `failed` after exactly the maximum attempts; a spent version is
closed by the requeue loop, not sent; and no log record, traceback included, holds the attachment's
text. Checked: on the code before the fix the UTF-16 cases stay `processing` with attempts 4, the
refused write does too, and the logs quote the text; with the fix all pass.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.ingestion.outbox import requeue_unsent
from app.settings import Settings
from tests.integration.flows import create_mark, get_mark, paused, upload
from tests.regression.conftest import refusing
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

SECRET = "Zebra-" + uuid.uuid4().hex[:12]  # what no log line may hold
LINE = f"{SECRET} heading\nsecond line words"


def _payloads() -> dict[str, tuple[bytes, str]]:
    return {
        "utf16-bom": (LINE.encode("utf-16"), "text/plain"),
        "utf16le-no-bom": (LINE.encode("utf-16-le"), "text/plain"),
        "utf16be-charset": (LINE.encode("utf-16-be"), "text/plain; charset=UTF-16BE"),
        "utf32-bom": (LINE.encode("utf-32"), "text/markdown"),
        "latin1-charset": (f"café {LINE}".encode("latin-1"), 'text/plain; charset="iso-8859-1"'),
        "nul-in-first-line": (f"{SECRET}\x00title\nrest".encode(), "text/plain"),
        "nul-everywhere": (f"\x00{SECRET}\x00\n\x00\x00\n".encode(), "text/plain"),
        "only-nul": (b"\x00" * 64, "text/plain"),
        "huge-first-line": ((SECRET + "x" * (1 << 20)).encode(), "text/plain"),
        "invalid-utf8": (SECRET.encode() + b" \xff\xfe\xc3\x28 \xed\xa0\x80 tail", "text/plain"),
        "empty": (b"", "text/plain"),
        "binary-as-text": (bytes(range(256)) * 16 + SECRET.encode(), "text/plain"),
        "not-a-text-codec": (f"{SECRET}\x00x".encode(), "text/plain; charset=base64"),
        "surrogate-codec": (f"{SECRET} \\ud800 x".encode(), "text/plain; charset=unicode_escape"),
        "unknown-codec": (f"{SECRET}\x00y".encode(), "text/plain; charset=no-such-thing"),
        "binary-type": (b"\x00\xff" * 100 + SECRET.encode(), "application/octet-stream"),
    }


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    for record in caplog.records:
        shown = record.getMessage() + (
            logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        )
        assert SECRET not in shown, f"user content in the log ({record.name}): {shown[:300]}"


def _settle(lattice: WorkerLattice, worker: DrainableWorker, settings: Settings) -> None:
    """Drain the queue, then prove nothing is left to send: no open version, none resent."""
    worker.join(fail_fast=False)
    again = requeue_unsent(
        lattice.engine,
        worker.queue,
        stale_after=timedelta(seconds=-1),
        max_attempts=settings.ingest_max_attempts,
    )
    assert (again.sent, again.closed, again.unsent) == (0, 0, frozenset()), again


@pytest.mark.parametrize("name", list(_payloads()))
def test_each_stored_value_ends_in_success(
    name: str,
    lattice: WorkerLattice,
    api: httpx.Client,
    user: SignedInUser,
    worker: DrainableWorker,
    settings: Settings,
    logs: pytest.LogCaptureFixture,
) -> None:
    data, content_type = _payloads()[name]
    mark = create_mark(api, user.headers, url="https://host.example/p")
    upload(api, user.headers, mark["id"], data, content_type)
    _settle(lattice, worker, settings)
    ingestion = get_mark(api, user.headers, mark["id"])["ingestion"]
    assert (ingestion["status"], ingestion["version"], ingestion["attempts"]) == ("success", 2, 1), ingestion
    title = ingestion["result"]["title"]
    assert "\x00" not in title
    assert len(title) <= 300
    if name.startswith(("utf", "latin1", "nul-in")):
        assert SECRET in title, f"the text was not decoded: {title!r}"


@pytest.fixture
def refusing_success(db: Session) -> Iterator[None]:
    """A real database refusal of the result's write, whose message quotes the title it refuses."""
    with refusing(
        db,
        "refuse_success",
        "BEFORE UPDATE ON ingestions",
        "IF NEW.status = 'success' THEN RAISE EXCEPTION 'refused title %', NEW.title; END IF; RETURN NEW;",
    ):
        yield


def test_a_refused_result_write_ends_failed_within_the_attempts(
    lattice: WorkerLattice,
    api: httpx.Client,
    user: SignedInUser,
    worker: DrainableWorker,
    settings: Settings,
    refusing_success: None,
    logs: pytest.LogCaptureFixture,
) -> None:
    mark = create_mark(api, user.headers, note="n", title=SECRET)
    _settle(lattice, worker, settings)
    ingestion = get_mark(api, user.headers, mark["id"])["ingestion"]
    assert ingestion["status"] == "failed", ingestion
    assert ingestion["attempts"] == settings.ingest_max_attempts
    assert SECRET not in ingestion["error"]


def test_a_spent_version_is_closed_not_sent(
    lattice: WorkerLattice,
    api: httpx.Client,
    user: SignedInUser,
    worker: DrainableWorker,
    settings: Settings,
    db: Session,
) -> None:
    """Its worker died in the last attempt, long ago: the loop records `failed` and sends nothing."""
    with paused(worker):
        mark = create_mark(api, user.headers, note="n")
        worker.flush()  # its message went with the dead worker
    db.execute(
        text(
            "UPDATE ingestions SET status = 'processing', attempts = :n, "
            "queued_at = now() - interval '1 hour' WHERE mark_id = :m"
        ),
        {"n": settings.ingest_max_attempts, "m": uuid.UUID(mark["id"])},
    )
    db.commit()
    done = requeue_unsent(
        lattice.engine,
        worker.queue,
        stale_after=timedelta(minutes=10),
        max_attempts=settings.ingest_max_attempts,
    )
    assert (done.sent, done.closed) == (0, 1)
    assert worker.pending() == 0
    ingestion = get_mark(api, user.headers, mark["id"])["ingestion"]
    assert (ingestion["status"], ingestion["attempts"]) == ("failed", settings.ingest_max_attempts)
