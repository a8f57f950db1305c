"""Defect class `slow_peers`: a client that sends or reads at its own pace holds nothing of the server's
but its socket, and not for longer than the server's timeouts.

Over every operation of the document (`swept("slow_peers")`, enumerated at run time), each with a valid
request built from the document (`tools.lattice.engines.race.requests_for`: its own signed-in account, a real
object for its path parameters, a valid body, and where it reads an attachment, stored bytes longer
than the kernel's largest send buffer), five ways of being slow, each with N = pool + overflow + 2
sockets per operation at once:

- head stalled / head trickled: the request line and half of the headers, then nothing, or a byte of a
  header every half second (a timer reset by each byte never fires);
- body stalled / body trickled (operations with a body): the whole head, the valid body, more declared
  and never sent, or sent a byte a tick;
- response unread: the whole request on a socket with a 4 KB receive window that is never read.

While they are held, a bystander (`GET /v1/me` of another account) must answer 2xx within RATIO x the
slowest of its answers measured at rest in the same test (after the server has worked through what
the stalls asked, at most SETTLE_S), and no backend of the API process may sit `idle in transaction`.
Then every stalled socket must have been closed by the server within its timeout (+ slack): the sweep
runs its own API process, with the settings that bound a peer's time (`PEER_TIMEOUTS`) set short.
On a bystander failure the operations that cause it are named, each tried alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from socket import socket

import httpx
import pytest

from tools.lattice.engines.race import bystanders, stalls
from tools.lattice.engines.race.classes import record, swept
from tools.lattice.engines.race.observe import held_in_transaction, rss_bytes
from tools.lattice.engines.race.requests_for import Built, RequestBuilder
from tools.lattice.live.fixtures import START_TIMEOUT_S
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice

pytestmark = pytest.mark.live

CLASS = "slow_peers"
OPERATIONS = swept(CLASS)

# The app's settings that bound a peer's time (docs/api.md): a head must arrive whole within
# head_timeout_s; a body may go body_idle_timeout_s without a byte; an answer whose unsent bytes fill the
# socket's buffer must be drained within send_timeout_s.
HEAD_TIMEOUT = "head_timeout_s"
BODY_IDLE_TIMEOUT = "body_idle_timeout_s"
SEND_TIMEOUT = "send_timeout_s"
PEER_TIMEOUT_S = 8.0  # what the sweep's own API process sets each of them to
CLOSE_SLACK_S = 6.0  # a loaded machine's lateness on top of a timeout
SETTLE_S = 5.0  # at most this long for the server to work through what the stalls asked (< the timeouts)
RATIO = 20.0
STEADY_ANSWERS = 5
TICK_S = 0.5
HELD_AFTER_S = 0.5
# A download longer than the kernel can buffer for a reader that never reads: the sender really blocks.
STORED_BYTES = stalls.send_buffer_max() + (1 << 20)


@dataclass(frozen=True)
class Kind:
    name: str
    open: Callable[[str, Built], socket]
    trickle: bytes | None  # the byte sent each tick, or None for a plain stall
    needs_body: bool
    # The setting whose timeout must close it; None: documented to stay open (a body that keeps coming
    # is read, however slowly: the body's timeout is an idle one).
    closed_by: str | None


CLIENT_PACED = (
    Kind("head stalled", stalls.stall_head, None, False, HEAD_TIMEOUT),
    Kind("head trickled", stalls.stall_head, stalls.TRICKLE_BYTE["head"], False, HEAD_TIMEOUT),
    Kind("body stalled", stalls.stall_body, None, True, BODY_IDLE_TIMEOUT),
    Kind("body trickled", stalls.stall_body, stalls.TRICKLE_BYTE["body"], True, None),
)
UNREAD = Kind("response unread", stalls.stall_read, None, False, SEND_TIMEOUT)


@pytest.fixture(scope="module")
def slow_stack(lattice: WorkerLattice) -> Iterator[LiveStack]:
    """An API process of the sweep's own (no worker) on this worker's planes, its peer timeouts short."""
    fields = type(lattice.settings).model_fields
    overrides: dict[str, object] = {
        name: PEER_TIMEOUT_S for name in (HEAD_TIMEOUT, BODY_IDLE_TIMEOUT, SEND_TIMEOUT) if name in fields
    }
    # Room for an attachment longer than the kernel buffers for a reader that never reads.
    overrides["max_upload_bytes"] = max(lattice.settings.max_upload_bytes, STORED_BYTES)
    settings = lattice.plane.settings(**overrides)
    logs = lattice.plane.names.directory / "slow-peers"
    with start_live_stack(settings, logs, with_worker=False, timeout_s=START_TIMEOUT_S) as stack:
        yield stack


def _held(lattice: WorkerLattice, pid: int) -> list[str]:
    return held_in_transaction(lattice.engine, pid, HELD_AFTER_S)


def _open(
    kind: Kind, stack: LiveStack, built: Built, n: int, trickler: stalls.Trickler
) -> list[stalls.Stall]:
    opened = []
    for _ in range(n):
        sock = kind.open(stack.base_url, built)
        if kind.trickle is not None:
            trickler.add(sock, kind.trickle)
        opened.append(stalls.Stall(kind.name, built.operation.operation_id, sock))
    return opened


def test_client_paced_heads_and_bodies_hold_nothing_and_are_closed_on_every_operation(
    slow_stack: LiveStack, lattice: WorkerLattice
) -> None:
    findings = _sweep(CLIENT_PACED, slow_stack, lattice)
    assert not findings, "slow peers (heads and bodies):\n" + "\n".join(findings)


def test_unread_responses_hold_nothing_and_are_closed_on_every_operation(
    slow_stack: LiveStack, lattice: WorkerLattice
) -> None:
    findings = _sweep((UNREAD,), slow_stack, lattice)
    assert not findings, "slow peers (unread responses):\n" + "\n".join(findings)


def _sweep(kinds: tuple[Kind, ...], stack: LiveStack, lattice: WorkerLattice) -> list[str]:
    """Each kind of stall, pool + overflow + 2 on every operation at once, kind after kind: what broke."""
    settings = stack.settings
    per_operation = 2 * settings.db_pool_size + 2  # the pool, its overflow, and two more
    pid = stack.processes["api"].pid
    bounded = sorted({k.closed_by for k in kinds if k.closed_by is not None})
    findings = [
        f"the app has no setting {name}: nothing closes a peer that slow"
        for name in bounded
        if name not in type(settings).model_fields
    ]
    with httpx.Client(base_url=stack.base_url, timeout=30.0) as api:
        builder = RequestBuilder(api, lattice.mailbox, prefix="slow")
        built = {op.operation_id: builder.build(op, stored_bytes=STORED_BYTES) for op in OPERATIONS}
        watcher = builder.fresh_user()

        def ask(timeout_s: float) -> httpx.Response:
            return api.get("/v1/me", headers=watcher.headers, timeout=timeout_s)

        unit = bystanders.baseline(ask)
        rss_before = rss_bytes(pid)
        trickler = stalls.Trickler(TICK_S)
        held_open: list[stalls.Stall] = []
        failing: dict[Kind, bystanders.Steady] = {}
        worst, requests = 0.0, 0
        try:
            for kind in kinds:
                requests_before = len(held_open)
                for request in built.values():
                    if kind.needs_body and request.body is None:
                        continue
                    held_open += _open(kind, stack, request, per_operation, trickler)
                time.sleep(HELD_AFTER_S)
                held = _held(lattice, pid)
                answered = bystanders.steady(ask, unit, ratio=RATIO, count=STEADY_ANSWERS, within_s=SETTLE_S)
                held += _held(lattice, pid)
                worst = max(worst, answered.worst_s)
                requests += len(held_open) - requests_before + len(answered.answers)
                if held:
                    findings.append(f"{kind.name}: backends held across client I/O: {sorted(set(held))[:4]}")
                if not answered.reached:
                    failing[kind] = answered
            bound = [s for s in held_open if _kind(kinds, s).closed_by is not None]
            open_after = _wait_closed(bound)
        finally:
            for stall in held_open:
                stall.drop()
        rss_growth = rss_bytes(pid) - rss_before
        try:
            for kind, answered in failing.items():
                # Each operation alone (everything else dropped), to name the ones that hold the server.
                culprits = _culprits(kind, stack, built, per_operation, ask, unit, trickler)
                findings.append(
                    f"{kind.name} x{per_operation} on each operation: GET /v1/me did not answer "
                    f"{STEADY_ANSWERS} times in a row within {RATIO:g} x its {unit:.3f}s at rest "
                    f"in {SETTLE_S:g}s ({answered.shown()}); alone, these hold it: {culprits}"
                )
        finally:
            trickler.stop()
    left = _grouped(kinds, open_after)
    findings += [
        f"{what}: not closed by the server within {PEER_TIMEOUT_S:g}s + {CLOSE_SLACK_S:g}s" for what in left
    ]
    record(
        CLASS,
        # Both tests sweep the same operations: counted once, by the one that sweeps heads.
        operations_swept=len(OPERATIONS) if kinds == CLIENT_PACED else 0,
        requests=requests,
        stalled_sockets=len(held_open),
        worst_bystander_latency_s=round(worst, 4),
        worst_bystander_at_rest_s=round(unit, 4),
        rss_growth_bytes=rss_growth,
        leftovers=left,
    )
    return findings


def _kind(kinds: tuple[Kind, ...], stall: stalls.Stall) -> Kind:
    return next(k for k in kinds if k.name == stall.kind)


def _culprits(
    kind: Kind,
    stack: LiveStack,
    built: dict[str, Built],
    n: int,
    ask: bystanders.Ask,
    unit: float,
    trickler: stalls.Trickler,
) -> list[str]:
    """The operations whose `n` stalls of `kind`, alone, keep the bystander from answering in time."""
    found = []
    for operation_id, request in built.items():
        if kind.needs_body and request.body is None:
            continue
        alone = _open(kind, stack, request, n, trickler)
        try:
            answered = bystanders.steady(ask, unit, ratio=RATIO, count=STEADY_ANSWERS, within_s=SETTLE_S)
        finally:
            for stall in alone:
                stall.drop()
        if not answered.reached:
            found.append(f"{operation_id} ({answered.shown()})")
    return found


def _wait_closed(opened: list[stalls.Stall]) -> list[stalls.Stall]:
    """The stalls the server has not closed within the timeout (+ slack) from when each was opened."""
    pending = list(opened)
    while pending:
        now = time.monotonic()
        pending = [s for s in pending if not s.server_closed()]
        late = [s for s in pending if now - s.opened > PEER_TIMEOUT_S + CLOSE_SLACK_S]
        if len(late) == len(pending):
            return late
        time.sleep(0.2)
    return []


def _grouped(kinds: tuple[Kind, ...], left: list[stalls.Stall]) -> list[str]:
    counts: dict[str, int] = {}
    for stall in left:
        key = f"{stall.kind} on {stall.operation_id} (bounded by {_kind(kinds, stall).closed_by})"
        counts[key] = counts.get(key, 0) + 1
    return [f"{key}: {count} socket(s)" for key, count in sorted(counts.items())]
