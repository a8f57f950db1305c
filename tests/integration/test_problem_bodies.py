"""Every problem body shape the service answers, one named case each, pinned by a syrupy snapshot.

`assert_problem` checks what every problem must have (status, code, media type, non-empty fields); the
snapshot (`__snapshots__/test_problem_bodies.ambr`) pins the rest, exactly: the title, the detail's
wording, the `errors` of a validation problem and the headers a client acts on (WWW-Authenticate,
Retry-After, Allow, Content-Range). Ids and timestamps are masked (tests/snapshots.py). A deliberate
change of wording is reviewed as a snapshot diff: `nox -s integration -- --snapshot-update`.

Not here: 408, 414, 431 and 400 `malformed_chunk` (written by app/server.py before the app:
tests/unit/test_head_refusal.py), 500
`internal_error` (a bug: no request provokes one), 503 `service_busy` (every request slot of the pool
held past its timeout) and `queue_unavailable` (a mark saved while the broker is down goes through the
outbox instead). No route answers 403 (another user's object is a 404, like a missing one) or 415 (a
body not JSON is a 422).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.testclient import TestClient
from syrupy.assertion import SnapshotAssertion

from app.main import create_app
from app.settings import Settings
from tests.integration.flows import assert_problem, create_mark, request_code, unique_email, upload
from tests.snapshots import exchange, mask_volatile
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser

# Nothing listens on port 1: every connection of an app built with these fails at once.
DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/x"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@dataclass(frozen=True)
class Scene:
    """What a case may use to provoke its answer."""

    api: httpx.Client
    user: SignedInUser
    other_user: SignedInUser
    mailbox: Mailbox
    settings: Settings
    lattice: WorkerLattice

    def outage(self, **dead: str) -> TestClient:
        """A second app on this worker's planes whose `dead` services do not answer."""
        app = create_app(self.lattice.plane.settings(**dead, db_connect_timeout_s=1, redis_timeout_s=1))
        return TestClient(app, base_url="http://retrace.test")


@pytest.fixture
def scene(
    api: httpx.Client,
    user: SignedInUser,
    other_user: SignedInUser,
    mailbox: Mailbox,
    settings: Settings,
    lattice: WorkerLattice,
) -> Scene:
    return Scene(api, user, other_user, mailbox, settings, lattice)


def _others_mark(s: Scene) -> httpx.Response:
    theirs = create_mark(s.api, s.other_user.headers, note="not yours")
    return s.api.get(f"/v1/marks/{theirs['id']}", headers=s.user.headers)


def _wrong_code(s: Scene) -> httpx.Response:
    email = unique_email("wrong")
    challenge = request_code(s.api, email)
    wrong = f"{(int(s.mailbox.latest_code(email)) + 1) % 1_000_000:06d}"
    return s.api.post("/v1/auth/otp/verify", json={"challenge_id": str(challenge), "code": wrong})


def _locked(s: Scene) -> httpx.Response:
    email = unique_email("locked")
    challenge = request_code(s.api, email)
    wrong = f"{(int(s.mailbox.latest_code(email)) + 1) % 1_000_000:06d}"
    for _ in range(5):
        s.api.post("/v1/auth/otp/verify", json={"challenge_id": str(challenge), "code": wrong})
    code = s.mailbox.latest_code(email)
    return s.api.post("/v1/auth/otp/verify", json={"challenge_id": str(challenge), "code": code})


def _rate_limited(s: Scene) -> httpx.Response:
    email = unique_email("limited")
    for _ in range(5):
        request_code(s.api, email)
    return s.api.post("/v1/auth/otp", json={"email": email})


def _no_length(s: Scene) -> httpx.Response:
    mark = create_mark(s.api, s.user.headers, note="n")

    def chunks() -> Iterator[bytes]:
        yield b"streamed without a length"

    return s.api.put(f"/v1/marks/{mark['id']}/attachment", content=chunks(), headers=s.user.headers)


def _too_large(s: Scene) -> httpx.Response:
    mark = create_mark(s.api, s.user.headers, note="n")
    too_big = b"x" * (s.settings.max_upload_bytes + 1)
    return s.api.put(f"/v1/marks/{mark['id']}/attachment", content=too_big, headers=s.user.headers)


def _json_too_large(s: Scene) -> httpx.Response:
    body = b'{"note": "n"' + b" " * s.settings.max_json_body_bytes + b"}"
    headers = {**s.user.headers, "Content-Type": "application/json"}
    return s.api.post("/v1/marks", content=body, headers=headers)


def _unsatisfiable(s: Scene) -> httpx.Response:
    mark = create_mark(s.api, s.user.headers, note="n")
    upload(s.api, s.user.headers, mark["id"], b"x" * 1000)
    headers = {**s.user.headers, "Range": "bytes=1000-"}
    return s.api.get(f"/v1/marks/{mark['id']}/attachment", headers=headers)


def _odd_content_type(s: Scene) -> httpx.Response:
    mark = create_mark(s.api, s.user.headers, note="n")
    headers = {**s.user.headers, "Content-Type": "application/" + "x" * 260}
    return s.api.put(f"/v1/marks/{mark['id']}/attachment", content=b"x", headers=headers)


def _clear_url_and_note(s: Scene) -> httpx.Response:
    mark = create_mark(s.api, s.user.headers, url="https://example.org/", note="n")
    body = {"url": None, "note": None}
    return s.api.patch(f"/v1/marks/{mark['id']}", json=body, headers=s.user.headers)


def _database_down(s: Scene) -> httpx.Response:
    with s.outage(database_url=DEAD_DATABASE) as client:
        response: httpx.Response = client.get("/v1/me", headers=s.user.headers)
    return response


def _nothing_ready(s: Scene) -> httpx.Response:
    with s.outage(database_url=DEAD_DATABASE, redis_url=DEAD_REDIS) as client:
        response: httpx.Response = client.get("/readyz")
    return response


Provoke = Callable[[Scene], httpx.Response]

# (status, code, how to provoke it): one row per shape, named after what the client did.
PROBLEMS: list[pytest.ParameterSet] = [
    pytest.param(401, "unauthenticated", lambda s: s.api.get("/v1/me"), id="no-token"),
    pytest.param(
        401,
        "unauthenticated",
        lambda s: s.api.get("/v1/me", headers={"Authorization": "Bearer rt_not-a-real-token"}),
        id="unknown-token",
    ),
    pytest.param(401, "otp_invalid", _wrong_code, id="wrong-code"),
    pytest.param(
        404,
        "not_found",
        lambda s: s.api.get(f"/v1/marks/{uuid.uuid4()}", headers=s.user.headers),
        id="unknown-mark",
    ),
    # No 403 anywhere: someone else's mark is answered exactly as a missing one (same snapshot body).
    pytest.param(404, "not_found", _others_mark, id="someone-elses-mark"),
    pytest.param(
        404,
        "not_found",
        lambda s: s.api.delete(f"/v1/tokens/{uuid.uuid4()}", headers=s.user.headers),
        id="unknown-token-id",
    ),
    pytest.param(404, "not_found", lambda s: s.api.get("/v1/nothing-here"), id="unknown-path"),
    pytest.param(
        405,
        "method_not_allowed",
        lambda s: s.api.put("/v1/marks", headers=s.user.headers),
        id="method-not-allowed",
    ),
    pytest.param(411, "length_required", _no_length, id="upload-without-length"),
    pytest.param(413, "payload_too_large", _too_large, id="upload-over-the-limit"),
    pytest.param(413, "payload_too_large", _json_too_large, id="json-body-over-the-limit"),
    pytest.param(416, "range_not_satisfiable", _unsatisfiable, id="range-past-the-end"),
    pytest.param(
        422,
        "validation_failed",
        lambda s: s.api.post("/v1/marks", json={"note": "n", "colour": "red"}, headers=s.user.headers),
        id="body-against-the-schema",
    ),
    pytest.param(
        422,
        "validation_failed",
        lambda s: s.api.get("/v1/marks/42", headers=s.user.headers),
        id="malformed-path-id",
    ),
    pytest.param(
        422,
        "validation_failed",
        lambda s: s.api.post(
            "/v1/tokens", content=b"\x80", headers={**s.user.headers, "Content-Type": "application/json"}
        ),
        id="undecodable-body",
    ),
    pytest.param(422, "validation_failed", _clear_url_and_note, id="patch-clearing-url-and-note"),
    pytest.param(422, "validation_failed", _odd_content_type, id="attachment-content-type-too-long"),
    pytest.param(
        422,
        "invalid_cursor",
        lambda s: s.api.get("/v1/marks", params={"cursor": "not-a-cursor"}, headers=s.user.headers),
        id="foreign-cursor",
    ),
    pytest.param(429, "otp_locked", _locked, id="five-wrong-codes"),
    pytest.param(429, "rate_limited", _rate_limited, id="sixth-code-in-the-window"),
    pytest.param(503, "service_unavailable", _database_down, id="database-down"),
    pytest.param(503, "not_ready", _nothing_ready, id="readyz-without-services"),
]


@pytest.mark.parametrize(("status", "code", "provoke"), PROBLEMS)
def test_problem_body(
    scene: Scene, snapshot: SnapshotAssertion, status: int, code: str, provoke: Provoke
) -> None:
    response = provoke(scene)
    assert_problem(response, status, code)
    assert exchange(response) == snapshot(matcher=mask_volatile)
