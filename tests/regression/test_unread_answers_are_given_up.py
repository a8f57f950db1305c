"""An answer its client never read held its socket and its task for ever.

What broke: the server bounded how long a request head and body may take (issue 26, defects 11 and 10),
but not the other direction. A client that asked for a download (or any answer longer than the socket
buffers, ~6 KB of JSON with a small window) and never read kept the connection and the task sending to
it until it went away: 22 such sockets per operation stayed open for as long as the sweep watched.
Found by the race suite's slow_peers sweep (tests/race/test_sweep_slow_peers.py), on the download and
on marks-create/get/update.

What fixed it: a send timeout (`RETRACE_SEND_TIMEOUT_S`, app/server.py): while an answer's bytes wait,
the client must acknowledge 16 KiB of them (or all, when less waits) in every interval, else the
connection is reset and its task ends; a finished answer still queued when the keep-alive timeout comes
is watched the same way (app/tcpstate.py reads what the kernel knows).

Locked reproduction: an API process with a 2 s send timeout; a 6 MiB attachment requested on a socket
with a 4 KB receive window that is never read, and a JSON answer the same way; the server must have
closed both within the timeout and a margin. Checked: on the code before the fix the download stays
open (this case fails; this JSON answer fits the client's window, so it is closed either way, and is kept
as the watch on a finished answer); with the fix both are closed in ≈ 2-4 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.flows import create_mark, unique_email, upload
from tools.lattice.engines.race import rawhttp, stalls
from tools.lattice.live.fixtures import START_TIMEOUT_S
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import sign_in

pytestmark = pytest.mark.live

SEND_TIMEOUT_S = 2.0
MARGIN_S = 8.0  # a loaded machine's lateness, and a second interval for a window that crept open once
BIG = 6 << 20


@pytest.fixture
def impatient_stack(lattice: WorkerLattice) -> Iterator[LiveStack]:
    lattice.reset()
    settings = lattice.plane.settings(send_timeout_s=SEND_TIMEOUT_S, max_upload_bytes=BIG)
    logs = lattice.plane.names.directory / "unread-answers"
    with start_live_stack(settings, logs, with_worker=False, timeout_s=START_TIMEOUT_S) as stack:
        yield stack
    lattice.reset()


def test_answers_nobody_reads_are_given_up(impatient_stack: LiveStack, lattice: WorkerLattice) -> None:
    with impatient_stack.client() as client:
        person = sign_in(client, lattice.mailbox, unique_email("never-reads"))
        mark = create_mark(client, person.headers, note="n" * 5000)
        upload(client, person.headers, mark["id"], b"z" * BIG)
    auth = {"Authorization": person.headers["Authorization"]}
    requests = {
        "download": rawhttp.head("GET", f"/v1/marks/{mark['id']}/attachment", auth),
        "json": rawhttp.head("GET", "/v1/marks?limit=100", auth),
    }
    held = {}
    for name, request in requests.items():
        sock = rawhttp.connect(impatient_stack.base_url, rcvbuf=stalls.SMALL_RCVBUF)
        sock.sendall(request)
        held[name] = stalls.Stall(name, name, sock)
    try:
        deadline = time.monotonic() + SEND_TIMEOUT_S + MARGIN_S
        while time.monotonic() < deadline and not all(s.server_closed() for s in held.values()):
            time.sleep(0.2)
        still_open = sorted(name for name, s in held.items() if not s.server_closed())
    finally:
        for stall in held.values():
            stall.drop()
    assert not still_open, (
        f"unread answers still holding their sockets {SEND_TIMEOUT_S + MARGIN_S:g} s on: {still_open}"
    )


def test_a_client_that_reads_gets_the_whole_answer(
    impatient_stack: LiveStack, lattice: WorkerLattice
) -> None:
    with impatient_stack.client() as client:
        person = sign_in(client, lattice.mailbox, unique_email("reads"))
        mark = create_mark(client, person.headers, note="read me")
        upload(client, person.headers, mark["id"], b"r" * BIG)
        with client.stream("GET", f"/v1/marks/{mark['id']}/attachment", headers=person.headers) as answer:
            got = sum(len(chunk) for chunk in answer.iter_bytes())
    assert isinstance(answer, httpx.Response)
    assert got == BIG
