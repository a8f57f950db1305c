"""Crash debris, swept over every write operation of the document (`swept("crash_debris")`, enumerated
at run time): SIGKILL the API and the worker while writes are in flight, restart, and look.

The API is restarted on its own port with its Redis URL through a proxy that can keep its writes back
(tools.lattice.engines.race.holdproxy; and no statement timeout, so a blocked request stays blocked), then:
1. wave 1: COPIES requests of every write operation, each as a user of its own, answered before the
   kill (acknowledged); the worker finishes their ingestions, so it holds nothing when it dies;
2. in flight at the kill, for every write operation: a request with a body stalled one byte short
   (a `.part` file, for a binary body); a request on a path whose row the test holds locked (for a
   binary upload: its blob is complete, its row not committed); and, with the proxy holding, wave 2:
   COPIES more requests each — those that commit a version and then send its message stay blocked
   in the send (committed, not sent); the others are answered (acknowledged too);
3. SIGKILL of both processes (the worker, idle, before step 2: its requeue loop must not send what the
   proxy holds back); the proxy drops what it held; both restart on the stack's own settings.
Then:
- after start-up, no `.part` file and no blob file without its attachment row (nor a row without its
  file), within STARTUP_S;
- every version committed before the kill (every ingestion of the sweep's users not yet final) reaches
  `success` or `failed` within INGESTED_WITHIN_S, far below RETRACE_REQUEUE_AFTER_S;
- every acknowledged write is there: what a POST created is read back through its linked GET (or, for
  a credential it returned, authenticates); a PUT/PATCH's values are what its path's GET shows; a
  DELETE's object is gone from its path's GET (401 for an account) and from its parent's listing.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from tests.integration.flows import unique_email
from tools.lattice.engines.contract import Operation, operations
from tools.lattice.engines.race.classes import record, swept
from tools.lattice.engines.race.documented import Builder, Built, same_path
from tools.lattice.engines.race.holdproxy import HoldProxy
from tools.lattice.engines.race.inflight import HeldBody
from tools.lattice.engines.race.observe import blob_names, poll
from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser, sign_in

pytestmark = pytest.mark.live

CLASS = "crash_debris"
COPIES = 2
STORED_BYTES = 64 * 1024
STARTUP_S = 10.0  # after the restarted API answers, debris must be gone within this
IN_FLIGHT_S = 20.0  # how long the in-flight state may take to build up before the kill
QUIET_S = 1.0  # no answer for this long: whatever is still in flight is blocked

_ATTACHMENTS = text("SELECT blob_id FROM attachments")
_OPEN = text(
    "SELECT i.mark_id, i.version, i.status FROM ingestions i JOIN marks m ON m.id = i.mark_id"
    " WHERE m.user_id = ANY(:users) AND i.status NOT IN ('success', 'failed')"
)
_STATUS = text(
    "SELECT i.mark_id, i.version, i.status FROM ingestions i JOIN marks m ON m.id = i.mark_id"
    " WHERE m.user_id = ANY(:users)"
)


@dataclass
class Sent:
    op: Operation
    user: SignedInUser
    built: Built
    wave: str
    response: httpx.Response | None = None
    error: str | None = None


@dataclass
class Crash:
    live: httpx.Client
    stack: LiveStack
    lattice: WorkerLattice
    users: list[SignedInUser] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    worst_bystander_s: float = 0.0

    def user(self) -> tuple[SignedInUser, Builder]:
        user = sign_in(self.live, self.lattice.mailbox, unique_email("crash"))
        self.users.append(user)
        return user, Builder(self.live, self.lattice.mailbox, user, STORED_BYTES)

    def prepared(self, op: Operation, wave: str) -> Sent:
        user, builder = self.user()
        return Sent(op, user, builder.build(op), wave)

    def send(self, item: Sent, client: httpx.Client) -> None:
        self.requests += 1
        try:
            item.response = item.built.send(client)
        except httpx.HTTPError as exc:
            item.error = f"{type(exc).__name__}: {exc}"
        self.sent.append(item)

    def debris(self) -> list[str]:
        files = blob_names(self.lattice.settings.blob_dir)
        with self.lattice.engine.connect() as conn:
            rows = {r.blob_id.hex for r in conn.execute(_ATTACHMENTS)}
        partial = sorted(f"partial file {n}" for n in files if n.endswith(".part"))
        orphans = sorted(f"blob without a row {n}" for n in set(files) - rows if not n.endswith(".part"))
        missing = sorted(f"row without its blob {n}" for n in rows - set(files))
        return partial + orphans + missing

    def open_ingestions(self) -> list[Any]:
        with self.lattice.engine.connect() as conn:
            return list(conn.execute(_OPEN, {"users": [u.id for u in self.users]}))


def _lockable_table(op: Operation) -> str | None:
    """The table of the row an operation's path names (`mark_id` -> marks), if the path names one."""
    params = [p["name"] for p in op.parameters("path")]
    return params[0].removesuffix("_id") + "s" if params else None


@contextlib.contextmanager
def _row_locked(database_url: str, schema: str, table: str, row_id: str) -> Iterator[None]:
    with psycopg.connect(database_url) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        lock = sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR UPDATE").format(sql.Identifier(table))
        conn.execute(lock, (uuid.UUID(row_id),))
        try:
            yield
        finally:
            conn.rollback()


def _present(crash: Crash, item: Sent) -> str | None:
    """Why an acknowledged write is not there (None: it is)."""
    op, built, response = item.op, item.built, item.response
    assert response is not None
    client, headers = crash.live, item.user.headers
    body: Any = response.json() if response.headers.get("content-type", "").endswith("json") else None
    if op.method == "post":
        if isinstance(body, dict):
            for secret in ("token", "access_token"):
                if isinstance(body.get(secret), str):
                    seen = client.get("/v1/me", headers={"Authorization": f"Bearer {body[secret]}"})
                    return None if seen.status_code == 200 else f"its {secret} answers {seen.status_code}"
            for target, link in op.links().items():
                reader = next(
                    (o for o in operations() if o.operation_id == target and o.method == "get"), None
                )
                if reader is None:
                    continue
                ((name, expression),) = link["parameters"].items()
                value = body.get(expression.removeprefix("$response.body#/"))
                seen = client.get(reader.url({name: str(value)}), headers=headers)
                return (
                    None if seen.status_code == 200 else f"{reader.operation_id} answers {seen.status_code}"
                )
            if "challenge_id" in body:
                code = crash.lattice.mailbox.latest_code(built.json_body["email"])
                seen = client.post(
                    "/v1/auth/otp/verify", json={"challenge_id": body["challenge_id"], "code": code}
                )
                return None if seen.status_code == 200 else f"its challenge verifies {seen.status_code}"
        return None
    reader = same_path(op, "get")
    if op.method in ("put", "patch") and reader is not None:
        seen = client.get(built.path, headers=headers)
        if seen.status_code != 200:
            return f"{reader.operation_id} answers {seen.status_code}"
        if built.content is not None:
            return None if seen.content == built.content else f"{reader.operation_id} serves other bytes"
        missing = [v for v in built.written if v not in seen.text]
        return f"values not stored: {missing}" if missing else None
    if op.method == "delete":
        if reader is not None:
            seen = client.get(built.path, headers=headers)
            if seen.status_code not in (401, 404):
                return f"{reader.operation_id} still answers {seen.status_code}"
        parent = built.path.rsplit("/", 1)[0]
        if built.params and same_path_get(parent):
            listing = client.get(parent, headers=headers)
            if any(v in listing.text for v in built.params.values()):
                return f"still listed by GET {parent}"
    return None


def same_path_get(path: str) -> bool:
    return any(o.method == "get" and o.path == path for o in operations())


def _after_restart(
    crash: Crash, settings: Any, killed_at: float, ingested_within_s: float, problems: list[str]
) -> tuple[list[str], float | None, list[Sent]]:
    """Debris after start-up, versions committed before the kill, acknowledged writes: what is left."""
    # debris gone after start-up
    try:
        left = poll(
            crash.debris, lambda found: not found, timeout_s=STARTUP_S, what="no debris after start-up"
        )
    except AssertionError:
        left = crash.debris()
        problems.append(f"debris {STARTUP_S:.0f}s after the restarted API answered: {left}")
    # versions committed before the kill, ingested promptly
    ingest_s = None
    try:
        poll(
            crash.open_ingestions,
            lambda rows: not rows,
            timeout_s=ingested_within_s,
            what="committed versions ingested",
        )
        ingest_s = round(time.monotonic() - killed_at, 2)
    except AssertionError:
        stuck = crash.open_ingestions()
        problems.append(
            f"{len(stuck)} version(s) committed before the kill not ingested within {ingested_within_s:.0f}s"
            f" of the restart (RETRACE_REQUEUE_AFTER_S is {settings.requeue_after_s:.0f}s): "
            f"{[(str(r.mark_id), r.version, r.status) for r in stuck][:6]}"
        )
    # every acknowledged write present
    acknowledged = [s for s in crash.sent if s.response is not None and 200 <= s.response.status_code < 300]
    for item in crash.sent:
        if item.response is not None and item.response.status_code >= 500:
            problems.append(f"{item.op.operation_id} ({item.wave}) answered {item.response.status_code}")
    for item in acknowledged:
        why = _present(crash, item)
        if why is not None:
            status = item.response.status_code if item.response is not None else None
            problems.append(
                f"{item.op.operation_id} ({item.wave}), acknowledged {status} before the kill: {why}"
            )

    return left, ingest_s, acknowledged


def test_crash_debris_sweep(live: httpx.Client, live_stack: LiveStack, lattice: WorkerLattice) -> None:
    started = time.monotonic()
    ops = swept(CLASS)
    assert ops, "the document has no operation this class sweeps"
    settings = live_stack.settings
    ingested_within_s = float(settings.requeue_interval_s) + 10.0
    assert ingested_within_s < settings.requeue_after_s / 2, (
        "the bound would not tell a prompt send from the stale-message requeue: raise RETRACE_REQUEUE_AFTER_S"
    )
    crash = Crash(live, live_stack, lattice)
    proxy = HoldProxy(settings.redis_url)
    problems: list[str] = []
    # A second API process on the same plane, its Redis through the proxy, a held send and a blocked
    # statement left waiting (for the kill). It starts while wave 1 runs on the stack's own API.
    held_settings = lattice.plane.settings(
        redis_url=proxy.url, redis_timeout_s=120.0, db_statement_timeout_ms=0
    )
    starting = ThreadPoolExecutor(max_workers=1)
    crashing_api = starting.submit(
        start_live_stack, held_settings, Path(live_stack.logs) / "crashed", with_worker=False, timeout_s=120.0
    )
    stalled: list[HeldBody] = []
    locks = contextlib.ExitStack()
    crashed: LiveStack | None = None
    try:
        # 1. wave 1, acknowledged; the worker then finishes what it was sent
        for op in ops:
            for _ in range(COPIES):
                crash.send(crash.prepared(op, "wave 1"), live)
        poll(crash.open_ingestions, lambda rows: not rows, timeout_s=30.0, what="wave 1 ingested")

        # 2. in flight at the kill, on the second API. The worker dies first, idle: its requeue loop
        # must not send what the proxy holds back before the API dies too.
        live_stack.kill("worker")
        crashed = crashing_api.result()
        blocked: list[Sent] = []
        wave2 = [crash.prepared(op, "wave 2") for op in ops for _ in range(COPIES)]
        for op in ops:
            if op.binary_body or op.json_body_component:
                item = crash.prepared(op, "stalled")
                head, body = item.built.wire()
                stalled.append(HeldBody(crashed.base_url, head, body))
            table = _lockable_table(op)
            if table is not None:
                item = crash.prepared(op, "blocked")
                row = next(iter(item.built.params.values()))
                locks.enter_context(_row_locked(settings.database_url, settings.db_schema, table, row))
                blocked.append(item)
        threads: list[threading.Thread] = []
        in_flight = httpx.Client(base_url=crashed.base_url, timeout=httpx.Timeout(300.0))

        def fire(item: Sent) -> None:
            crash.send(item, in_flight)

        proxy.hold()
        for item in blocked + wave2:
            threads.append(threading.Thread(target=fire, args=(item,), daemon=True))
            threads[-1].start()
        # Wait until every request that will be answered is, and the rest have sat still a while.
        last_change, answered = time.monotonic(), 0
        deadline = time.monotonic() + IN_FLIGHT_S
        watcher, _ = crash.user()
        while time.monotonic() < deadline:
            # Another user's request, on the stack's own API (the held one's request slots are taken on
            # purpose: its sends wait for the proxy, its statements for the test's locks, unbounded).
            asked = time.monotonic()
            try:
                seen: int | str = live.get("/v1/me", headers=watcher.headers).status_code
            except httpx.TransportError as exc:
                seen = type(exc).__name__
            crash.worst_bystander_s = max(crash.worst_bystander_s, time.monotonic() - asked)
            if seen != 200:
                problems.append(f"a bystander's GET /v1/me answered {seen} with writes in flight")
            now_answered = sum(1 for t in threads if not t.is_alive())
            if now_answered != answered:
                answered, last_change = now_answered, time.monotonic()
            if time.monotonic() - last_change > QUIET_S:
                break
            time.sleep(0.05)
        at_kill = crash.debris()
        committed_unsent = crash.open_ingestions()
        in_flight_count = sum(1 for t in threads if t.is_alive()) + len(stalled)

        # 3. SIGKILL the API and the worker, drop what the proxy held, restart both on the stack's settings
        crashed.kill("api")
        killed_at = time.monotonic()
        proxy.drop()
        locks.close()
        for held in stalled:
            held.sock.close()
        for thread in threads:
            thread.join(timeout=30)
        in_flight.close()
        live_stack.start_worker()
        crashed.start_api(settings, timeout_s=120.0)
        up_after_s = time.monotonic() - killed_at
    finally:
        locks.close()
        proxy.close()
        if "worker" not in live_stack.processes:
            live_stack.start_worker()
        starting.shutdown(wait=True)
        if crashed is None and crashing_api.exception() is None:
            crashed = crashing_api.result()

    try:
        left, ingest_s, acknowledged = _after_restart(crash, settings, killed_at, ingested_within_s, problems)
    finally:
        if crashed is not None:
            crashed.stop()
    elapsed = time.monotonic() - started
    record(
        CLASS,
        operations_swept=len(ops),
        requests=crash.requests + len(stalled),
        worst_bystander_latency_s=round(crash.worst_bystander_s, 3),
        acknowledged=len(acknowledged),
        in_flight_at_kill=in_flight_count,
        committed_unsent_at_kill=len(committed_unsent),
        debris_at_kill=len(at_kill),
        restart_s=round(up_after_s, 2),
        worst_ingested_after_kill_s=ingest_s if ingest_s is not None else -1,
        leftovers=left,
        seconds=round(elapsed, 1),
    )
    print(
        f"crash_debris: {len(ops)} operations, {crash.requests} requests, {len(acknowledged)} acknowledged,"
        f" {in_flight_count} in flight at the kill, {len(committed_unsent)} versions committed and unsent,"
        f" debris at the kill: {at_kill}; restart {up_after_s:.1f}s; ingested {ingest_s}s after the kill;"
        f" {elapsed:.1f}s"
    )
    assert at_kill, "the kill left no debris to sweep: the sweep did not hold what it meant to"
    assert committed_unsent, "no version was committed and unsent at the kill: the proxy held nothing"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
