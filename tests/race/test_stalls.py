"""Stalls and abuse over raw sockets, each with the resources it must not take.

- a stalled upload body (`Content-Length: 100`, 10 bytes sent, held open) leaves no connection of the
  API `idle in transaction` in pg_stat_activity, and more stalled uploads than the pool holds (10 + 10)
  do not make other requests fail;
- headers sent a line at a time hold nothing either, and are answered once complete;
- a client that vanishes mid-upload leaves no ERROR line in the API's log, no partial file, no row;
- a header of megabytes is refused (431, or the connection closed) without the API's RSS growing
  by more than a bound;
- an oversized `Content-Length` is answered 413 from the headers alone, before any body is sent.

The API process is found by pid; its database connections by the client ports it holds
(`tools.lattice.engines.race.observe.backends_of`), so other workers' and other runs' connections never count.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.integration.flows import assert_problem, create_mark
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.figures import probe
from tools.lattice.engines.race.observe import (
    LogTail,
    backends_of,
    blob_files,
    error_lines,
    held_in_transaction,
    poll,
    rss_bytes,
)
from tools.lattice.engines.race.options import RaceOptions
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

pytestmark = pytest.mark.live

# A backend idle in its transaction this long while the request's body is awaited counts as held.
HELD_AFTER_S = 0.5
# How long the stalls are watched for a held connection: the handler reached its auth within it.
WATCH_S = 2.5
HUGE_HEADER_BYTES = 8 * 1024 * 1024
RSS_GROWTH_BOUND = 32 * 1024 * 1024
POOL = 20  # app/db.py: pool_size 10 + max_overflow 10


def _api_pid(live_stack: LiveStack) -> int:
    return live_stack.processes["api"].pid


def _held(lattice: WorkerLattice, pid: int) -> list[str]:
    return held_in_transaction(lattice.engine, pid, HELD_AFTER_S)


def _watch_for_held(lattice: WorkerLattice, pid: int, seconds: float, *, enough: int = 1) -> list[str]:
    """The held backends seen within `seconds`: returns once `enough` are held at the same time."""
    deadline = time.monotonic() + seconds
    most: list[str] = []
    while time.monotonic() < deadline:
        held = _held(lattice, pid)
        most = held if len(held) > len(most) else most
        if len(most) >= enough:
            break
        time.sleep(0.1)
    return most


def test_a_stalled_upload_holds_no_transaction(
    live: httpx.Client, live_stack: LiveStack, person: SignedInUser, lattice: WorkerLattice
) -> None:
    mark = create_mark(live, person.headers, note="stalled")
    sock = rawhttp.stalled_upload(
        live_stack.base_url, f"/v1/marks/{mark['id']}/attachment", person.headers, declared=100, sent=10
    )
    try:
        held = _watch_for_held(lattice, _api_pid(live_stack), WATCH_S)
    finally:
        rawhttp.reset(sock)
    probe("stall_one", held_backends=len(held))
    assert not held, f"a stalled upload (10 of 100 bytes sent) holds a transaction: {held}"


def test_more_stalled_uploads_than_the_pool_do_not_fail_others(
    live: httpx.Client,
    live_stack: LiveStack,
    person: SignedInUser,
    lattice: WorkerLattice,
    race_options: RaceOptions,
) -> None:
    stalled_mark = create_mark(live, person.headers, note="stalled")
    other_mark = create_mark(live, person.headers, note="other")
    pid = _api_pid(live_stack)
    path = f"/v1/marks/{stalled_mark['id']}/attachment"
    sockets = []
    try:
        for _ in range(race_options.stalled):
            sockets.append(
                rawhttp.stalled_upload(live_stack.base_url, path, person.headers, declared=100, sent=10)
            )
        # Watch the whole window (or until the pool is surely taken), then ask for other things.
        held = _watch_for_held(lattice, pid, WATCH_S, enough=POOL)
        connections = len(backends_of(lattice.engine, pid))
        began = time.monotonic()
        answers = {
            "GET /v1/me": live.get("/v1/me", headers=person.headers).status_code,
            "GET /v1/marks": live.get("/v1/marks", headers=person.headers).status_code,
            "PUT attachment": live.put(
                f"/v1/marks/{other_mark['id']}/attachment", content=b"fine", headers=person.headers
            ).status_code,
        }
        others_s = time.monotonic() - began
    finally:
        for sock in sockets:
            rawhttp.reset(sock)
    probe(
        "stall_many",
        stalled=len(sockets),
        held_backends=len(held),
        api_db_connections=connections,
        others_s=round(others_s, 2),
        answers=answers,
    )
    assert answers == {"GET /v1/me": 200, "GET /v1/marks": 200, "PUT attachment": 200}, (
        f"with {len(sockets)} stalled uploads, other requests answered {answers} "
        f"({len(held)} backend(s) idle in transaction, {connections} connection(s) of the API)"
    )
    assert not held, f"{len(held)} stalled uploads hold transactions: {held[:3]}"


def test_slow_headers_hold_nothing_and_are_answered(
    live: httpx.Client, live_stack: LiveStack, person: SignedInUser, lattice: WorkerLattice
) -> None:
    lines = [f"{name}: {value}\r\n".encode() for name, value in person.headers.items()]
    lines += [f"X-Slow-{n}: {'s' * 20}\r\n".encode() for n in range(4)] + [b"\r\n"]
    sockets = [rawhttp.connect(live_stack.base_url) for _ in range(30)]
    for sock in sockets:
        sock.sendall(b"GET /v1/me HTTP/1.1\r\nHost: race.test\r\n")
    meanwhile = []
    for line in lines:
        for sock in sockets:
            sock.sendall(line)
        meanwhile.append(live.get("/v1/me", headers=person.headers).status_code)
        assert not _held(lattice, _api_pid(live_stack))
    answers = []
    for sock in sockets:
        try:
            answers.append(rawhttp.read_response(sock, timeout_s=20).status)
        except rawhttp.Closed:
            answers.append(0)
        finally:
            sock.close()
    probe(
        "slow_headers", clients=len(sockets), answers=sorted(set(answers)), meanwhile=sorted(set(meanwhile))
    )
    assert set(meanwhile) == {200}, f"requests during the slow headers answered {meanwhile}"
    assert set(answers) == {200}, f"slow-header requests answered {answers} (0: closed)"


def test_aborted_uploads_log_no_errors_and_leave_nothing(
    live: httpx.Client, live_stack: LiveStack, person: SignedInUser, lattice: WorkerLattice
) -> None:
    mark = create_mark(live, person.headers, note="aborted")
    log = LogTail(live_stack.logs / "api.log")
    blob_dir = lattice.settings.blob_dir
    aborts = 5
    for _ in range(aborts):
        sock = rawhttp.connect(live_stack.base_url)
        headers = {**person.headers, "Content-Type": "application/octet-stream", "Content-Length": "200000"}
        sock.sendall(rawhttp.head("PUT", f"/v1/marks/{mark['id']}/attachment", headers) + b"y" * 50_000)
        # Wait until the server is writing the body (a .part file), then vanish mid-body.
        poll(lambda: blob_files(blob_dir), bool, timeout_s=10, what="the upload's partial file")
        rawhttp.reset(sock)
        poll(lambda: blob_files(blob_dir), lambda f: not f, timeout_s=10, what="the partial file removed")
    assert live.get("/v1/me", headers=person.headers).status_code == 200
    # The abort is logged (if at all) as the upload unwinds; give the log a moment to show it.
    errors: list[str] = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        errors += error_lines(log.take())
        time.sleep(0.1)
    probe("aborted_uploads", aborts=aborts, error_lines=len(errors))
    assert live.get(f"/v1/marks/{mark['id']}", headers=person.headers).json()["attachment"] is None
    assert not errors, f"{aborts} aborted uploads wrote {len(errors)} ERROR line(s): {errors[:4]}"


def test_a_huge_header_is_refused_without_growing_the_api(
    live: httpx.Client, live_stack: LiveStack, person: SignedInUser
) -> None:
    pid = _api_pid(live_stack)
    ordinary = live.get("/v1/me", headers={**person.headers, "X-Ordinary": "o" * 4000})
    assert ordinary.status_code == 200, "a 4 KB header must still be fine"
    rss_before = rss_bytes(pid)
    began = time.monotonic()
    answer = rawhttp.huge_header_request(live_stack.base_url, "/healthz", HUGE_HEADER_BYTES)
    took = time.monotonic() - began
    growth = rss_bytes(pid) - rss_before
    shown = answer if isinstance(answer, str) else answer.status
    probe(
        "huge_header",
        header_mb=HUGE_HEADER_BYTES // 2**20,
        answer=shown,
        rss_growth_mb=round(growth / 2**20, 1),
        seconds=round(took, 2),
    )
    assert live.get("/healthz").status_code == 200, "the API must survive a huge header"
    assert shown in (431, "closed"), f"a {HUGE_HEADER_BYTES // 2**20} MB header was answered {shown}"
    assert growth <= RSS_GROWTH_BOUND, f"the API's RSS grew by {growth / 2**20:.0f} MB on one header"


def test_an_oversized_content_length_is_refused_before_the_body(
    live_stack: LiveStack, live: httpx.Client, person: SignedInUser
) -> None:
    mark = create_mark(live, person.headers, note="too big")
    limit = live_stack.settings.max_upload_bytes
    sock = rawhttp.connect(live_stack.base_url)
    try:
        headers = {
            **person.headers,
            "Content-Type": "application/octet-stream",
            "Content-Length": str(limit + 1),
        }
        sock.sendall(rawhttp.head("PUT", f"/v1/marks/{mark['id']}/attachment", headers))
        try:
            answer = rawhttp.read_response(sock, timeout_s=10)
        except TimeoutError:
            pytest.fail("no answer to an oversized Content-Length until the body is sent")
    finally:
        sock.close()
    probe("oversized_content_length", answer=answer.status)
    assert answer.status == 413, answer
    problem = httpx.Response(413, headers=answer.headers, content=answer.body)
    assert_problem(problem, 413, "payload_too_large")
