"""The integration flows over a real port: uvicorn and a separate `retrace worker` process.

Everything goes through HTTP on 127.0.0.1 (sign-in by the code in the Maildir, marks, attachments
with Range and ETag, ingestion observed by polling the API, tokens, deleting the account), so the
lifespan, serialisation, chunked bodies and the process boundary between API and worker are real.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text

from tests.integration.flows import (
    assert_problem,
    create_mark,
    get_mark,
    patch_mark,
    unique_email,
    upload,
    wait_for_ingestion,
    walk_marks,
)
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in

pytestmark = pytest.mark.live


@pytest.fixture
def person(live: httpx.Client, mailbox: Mailbox) -> SignedInUser:
    """A new user signed in over HTTP, with an API token."""
    return sign_in(live, mailbox, unique_email("live"), with_api_token=True)


def test_health_and_openapi_over_the_port(live: httpx.Client, live_stack: LiveStack) -> None:
    assert live.get("/healthz").json() == {"status": "ok"}
    assert live.get("/readyz").status_code == 200
    document = live.get("/openapi.json").json()
    assert "/v1/marks" in document["paths"]
    assert live_stack.processes["worker"].poll() is None, "the retrace worker process died"


def test_sign_in_and_me(live: httpx.Client, person: SignedInUser) -> None:
    me = live.get("/v1/me", headers=person.headers)
    assert me.status_code == 200
    assert me.json()["email"] == person.email
    assert live.get("/v1/me", headers=person.api_headers).json()["id"] == str(person.id)
    assert_problem(live.get("/v1/me"), 401, "unauthenticated")


def test_the_worker_process_ingests_a_mark(live: httpx.Client, person: SignedInUser) -> None:
    mark = create_mark(
        live, person.headers, url="HTTP://Example.ORG:80/a?utm_source=x&b=2#top", note="two words"
    )
    done = wait_for_ingestion(live, person.headers, mark["id"])
    assert done["ingestion"]["status"] == "success", done["ingestion"]
    assert done["ingestion"]["attempts"] == 1
    assert done["ingestion"]["result"] == {
        "normalized_url": "http://example.org/a?b=2",
        "word_count": 2,
        "title": "example.org",
    }
    changed = patch_mark(live, person.headers, mark["id"], url="https://example.net/")
    assert changed["ingestion"]["version"] == 2
    again = wait_for_ingestion(live, person.headers, mark["id"], version=2)
    assert again["ingestion"]["result"]["normalized_url"] == "https://example.net/"


def test_attachment_round_trip_with_ranges_and_etag(live: httpx.Client, person: SignedInUser) -> None:
    mark = create_mark(live, person.headers, note="with a file")
    data = b"First line of the file\n" + os.urandom(200_000)
    body = upload(live, person.headers, mark["id"], data, "text/plain")
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    url = f"/v1/marks/{mark['id']}/attachment"

    whole = live.get(url, headers=person.headers)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["etag"] == f'"{body["sha256"]}"'
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(data))

    part = live.get(url, headers={**person.headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = live.get(url, headers={**person.headers, "Range": "bytes=-10"})
    assert tail.content == data[-10:]
    not_modified = live.get(url, headers={**person.headers, "If-None-Match": whole.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    refused = live.get(url, headers={**person.headers, "Range": f"bytes={len(data)}-"})
    assert_problem(refused, 416, "range_not_satisfiable")
    assert refused.headers["content-range"] == f"bytes */{len(data)}"

    done = wait_for_ingestion(live, person.headers, mark["id"], version=2)
    assert done["ingestion"]["status"] == "success"
    assert done["ingestion"]["result"]["title"] == "First line of the file"


def test_a_chunked_upload_without_length_is_411_and_an_oversized_one_413(
    live: httpx.Client, person: SignedInUser, live_stack: LiveStack
) -> None:
    mark = create_mark(live, person.headers, note="n")
    url = f"/v1/marks/{mark['id']}/attachment"

    def chunks() -> Iterator[bytes]:
        yield b"abc"
        yield b"def"

    # A generator body goes out with Transfer-Encoding: chunked, which only a real server shows.
    assert_problem(live.put(url, content=chunks(), headers=person.headers), 411, "length_required")
    too_big = b"x" * (live_stack.settings.max_upload_bytes + 1)
    assert_problem(live.put(url, content=too_big, headers=person.headers), 413, "payload_too_large")
    assert get_mark(live, person.headers, mark["id"])["attachment"] is None


def test_cursor_walk_sees_each_mark_once(live: httpx.Client, person: SignedInUser) -> None:
    created = [create_mark(live, person.headers, note=f"note {i}")["id"] for i in range(7)]
    seen = [m["id"] for m in walk_marks(live, person.headers, limit=3)]
    assert seen == list(reversed(created))


def test_tokens_over_http(live: httpx.Client, person: SignedInUser) -> None:
    created = live.post("/v1/tokens", json={"name": "ci", "expires_in_days": 7}, headers=person.headers)
    assert created.status_code == 201
    token = created.json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert live.get("/v1/me", headers=headers).status_code == 200
    listed = live.get("/v1/tokens", headers=person.headers).json()
    assert token["id"] in {t["id"] for t in listed}
    assert live.delete(f"/v1/tokens/{token['id']}", headers=person.headers).status_code == 204
    assert_problem(live.get("/v1/me", headers=headers), 401, "unauthenticated")


def test_nobody_reaches_another_users_mark(
    live: httpx.Client, person: SignedInUser, mailbox: Mailbox
) -> None:
    stranger = sign_in(live, mailbox, unique_email("stranger"))
    mark = create_mark(live, person.headers, note="private")
    for response in (
        live.get(f"/v1/marks/{mark['id']}", headers=stranger.headers),
        live.patch(f"/v1/marks/{mark['id']}", json={"note": "x"}, headers=stranger.headers),
        live.delete(f"/v1/marks/{mark['id']}", headers=stranger.headers),
        live.get(f"/v1/marks/{mark['id']}/attachment", headers=stranger.headers),
    ):
        assert_problem(response, 404, "not_found")
    assert walk_marks(live, stranger.headers) == []


def test_delete_me_takes_everything(live: httpx.Client, person: SignedInUser, lattice: WorkerLattice) -> None:
    mark = create_mark(live, person.headers, note="doomed")
    upload(live, person.headers, mark["id"], b"bytes on disk")
    wait_for_ingestion(live, person.headers, mark["id"], version=2)
    blobs = [p for p in lattice.settings.blob_dir.glob("*/*") if p.is_file()]
    assert len(blobs) == 1

    assert live.delete("/v1/me", headers=person.headers).status_code == 204

    assert_problem(live.get("/v1/me", headers=person.headers), 401, "unauthenticated")
    assert_problem(live.get("/v1/me", headers=person.api_headers), 401, "unauthenticated")
    assert not blobs[0].exists(), "the attachment's bytes outlived the account"
    with lattice.engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM marks WHERE id = :m"), {"m": uuid.UUID(mark["id"])}
        ).scalar()
    assert left == 0


def test_errors_over_the_port_are_problem_bodies(live: httpx.Client, person: SignedInUser) -> None:
    assert_problem(live.get("/v1/nowhere"), 404, "not_found")
    assert_problem(live.get(f"/v1/marks/{uuid.uuid4()}", headers=person.headers), 404, "not_found")
    response = live.post(
        "/v1/marks", content=b"{not json", headers={**person.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation_failed")


def test_an_oversized_content_length_is_refused_before_the_body_is_sent(
    live: httpx.Client, live_stack: LiveStack, person: SignedInUser
) -> None:
    """413 from the declared length alone: a handler that read first and counted later would wait here
    for 10 GB that never come (the in-process 413 tests send real oversized bodies and cannot tell)."""
    mark = create_mark(live, person.headers, note="too big")
    where = urlsplit(live_stack.base_url)
    head = (
        f"PUT /v1/marks/{mark['id']}/attachment HTTP/1.1\r\nHost: retrace.test\r\n"
        f"Authorization: Bearer {person.session_token}\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: 10000000000\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(head.encode())
        answer = b""  # no body byte is ever sent; read the whole answer (it may come in parts)
        while b"payload_too_large" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"payload_too_large" in answer
    assert live.get(f"/v1/marks/{mark['id']}/attachment", headers=person.headers).status_code == 404
