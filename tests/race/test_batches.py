"""A concurrent state machine: batches of 2-8 operations on the same objects, fired at once.

Two users (`a`, `b`) over the live stack's real port. Each rule draws a *batch*: creating, patching
(the url) and deleting marks, uploading and deleting attachments, minting and revoking tokens,
`DELETE /v1/me`, extra worker deliveries of a mark's current and previous version, and a user poking at
the other's mark. Objects are named by slot (`('patch', 'a', 1, 7)`: user a's mark in slot 1 gets url
number 7), so a printed program replays on fresh ids. The batch goes out at once (a thread per
operation behind a barrier); then the stack is left to settle (queue drained, every ingestion final)
and the invariants are checked against the answers, the database, the blob dir and the queue:

- no 5xx and no dropped connection; every answer is one the operation may give given what overlapped
  it (after an acknowledged `DELETE /v1/me` finished, that user's later requests are 401);
- every acknowledged write is present, or explained by an acknowledged delete that did not end before
  it began; the final url and attachment of a mark are values some acknowledged write could have left
  last (`tools.lattice.engines.race.registers`);
- deleted means gone: mark, attachment and ingestion rows, blob files, the user's tokens and session;
  a revoked token is refused;
- the blob files are exactly the attachment rows, each hashing to its sha256;
- a mark's ingestion version never goes back and grew by at least its acknowledged uploads; the final
  ingestion is `success` for the final url (normalised as api.md says);
- a request of one user never touched the other's objects (pokes are 404; the other's registers hold).

A failing batch shrinks (Hypothesis) to the smallest batch and program; the printed program
(`state = RaceMachine()` ... `state.teardown()`) is what `python -m tools.lattice promote` locks into
the regression bank.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.errors import InvalidArgument
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from sqlalchemy import text

from app.ingestion.normalise import normalize_url
from tests.integration.flows import unique_email
from tools.lattice.engines.race.figures import FIGURES
from tools.lattice.engines.race.firing import Batch, Shot
from tools.lattice.engines.race.observe import blob_files, poll
from tools.lattice.engines.race.options import RaceOptions
from tools.lattice.engines.race.registers import Write, final_candidates
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser, sign_in

pytestmark = pytest.mark.live

USERS = ("a", "b")
SMALL, LARGE = 16, 300_000
Op = tuple[Any, ...]

_user = st.sampled_from(USERS)
_slot = st.integers(0, 3)
# Shrinking goes towards earlier branches and smaller values: a shrunk batch reads as simply as it can.
OPERATIONS = st.one_of(
    st.tuples(st.just("create"), _user, st.integers(0, 9)),
    st.tuples(st.just("patch"), _user, _slot, st.integers(0, 9)),
    st.tuples(st.just("delete"), _user, _slot),
    st.tuples(st.just("put"), _user, _slot, st.sampled_from([SMALL, LARGE])),
    st.tuples(st.just("unattach"), _user, _slot),
    st.tuples(st.just("mint"), _user),
    st.tuples(st.just("revoke"), _user, st.integers(0, 3)),
    st.tuples(st.just("delete_me"), _user),
    st.tuples(st.just("deliver"), _user, _slot),
    st.tuples(st.just("poke"), _user, _slot),
)
BATCHES = st.lists(OPERATIONS, min_size=2, max_size=8)

# Answers an operation may give when nothing it depends on was deleted (by the batch or before).
NORMAL: dict[str, set[int]] = {
    "create": {201},
    "patch": {200, 404},
    "delete": {204, 404},
    "put": {200, 404},
    "unattach": {204, 404},
    "mint": {201},
    "revoke": {204, 404},
    "delete_me": {204},
    "deliver": {202},
    "poke": {404},
}

_MARKS = text(
    "SELECT m.id, m.user_id, m.url, i.version, i.status, i.normalized_url, i.error,"
    " a.blob_id, a.sha256 FROM marks m JOIN ingestions i ON i.mark_id = m.id"
    " LEFT JOIN attachments a ON a.mark_id = m.id WHERE m.user_id = ANY(:users)"
)
_GONE = text(
    "SELECT (SELECT count(*) FROM marks WHERE id = ANY(:m)) + (SELECT count(*) FROM attachments"
    " WHERE mark_id = ANY(:m)) + (SELECT count(*) FROM ingestions WHERE mark_id = ANY(:m))"
)
_USER_LEFT = text(
    "SELECT (SELECT count(*) FROM users WHERE id = :u) + (SELECT count(*) FROM tokens WHERE user_id = :u)"
    " + (SELECT count(*) FROM marks WHERE user_id = :u)"
)
_TOKENS = text("SELECT id, revoked_at FROM tokens WHERE user_id = ANY(:users) AND kind = 'api'")
_ATTACHMENTS = text("SELECT blob_id, sha256 FROM attachments")


def payload(op: Op) -> bytes:
    """The bytes an upload sends: fixed by the operation, so a replay sends the same."""
    seed = hashlib.sha256(repr(op).encode()).digest()
    size = int(op[3])
    return (seed * (size // len(seed) + 1))[:size]


def url_of(who: str, number: int) -> str:
    return f"https://race.test/{who}/{number}"


@dataclass
class MarkState:
    id: str
    url: str | None
    sha256: str | None = None
    version: int = 1
    blob_ids: set[str] = field(default_factory=set)


@dataclass
class Person:
    role: str
    account: SignedInUser
    marks: list[MarkState] = field(default_factory=list)  # live marks, in creation order
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (id, secret) of unrevoked API tokens


class BatchFailed(AssertionError):
    pass


# A failing batch is raised at teardown, not at once: the steps after it still draw (and do nothing), so
# a race that does not recur on a replay changes no draw and Hypothesis' replay stays consistent. When
# the program is shrunk, or replayed to be printed (or from the regression bank), a batch that passes is
# fired again, up to this many times, since a race shows only some of the time.
CONFIRM_ATTEMPTS = 5


def _replaying() -> bool:
    try:
        return current_build_context().is_final
    except InvalidArgument:
        return True  # outside Hypothesis: a promoted program is replaying


# (when, examples built so far, batch size, message) of every failing batch: the first is what the
# search found, the last what shrinking left (Hypothesis replays the shrunk program last).
SEEN_FAILURES: list[tuple[float, int, int, str]] = []


class RaceMachine(RuleBasedStateMachine):
    def __init__(self, live_stack: LiveStack, lattice: WorkerLattice) -> None:
        super().__init__()
        self.stack, self.lattice = live_stack, lattice
        self.client = httpx.Client(
            base_url=live_stack.base_url,
            timeout=60.0,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )
        self.batch_pool = Batch(width=8)
        self.people: dict[str, Person] = {}
        self.dead_users: list[uuid.UUID] = []
        self.max_version: dict[str, int] = {}
        self.checks = 0
        self.failure: str | None = None
        self.started_at = time.monotonic()
        FIGURES.examples += 1
        for role in USERS:
            self._birth(role)
        self._settle()

    # ---- setting up

    def _birth(self, role: str) -> None:
        """A new account in `role` with two marks, the second with an attachment."""
        account = sign_in(self.client, self.lattice.mailbox, unique_email(f"race-{role}"))
        person = Person(role, account)
        self.people[role] = person
        for number in range(2):
            response = self.client.post(
                "/v1/marks", json={"url": url_of(role, 100 + number)}, headers=account.headers
            )
            assert response.status_code == 201, response.text
            person.marks.append(MarkState(response.json()["id"], url_of(role, 100 + number)))
        data = payload(("put", role, 1, SMALL))
        mark = person.marks[1]
        response = self.client.put(f"/v1/marks/{mark.id}/attachment", content=data, headers=account.headers)
        assert response.status_code == 200, response.text
        mark.sha256, mark.version = hashlib.sha256(data).hexdigest(), 2

    # ---- the one rule

    @rule(ops=BATCHES)
    def batch(self, ops: list[Op]) -> None:
        if self.failure is not None:
            return  # the example has failed: later steps draw as before but do nothing (see teardown)
        for attempt in range(1 + (CONFIRM_ATTEMPTS if _replaying() or SEEN_FAILURES else 0)):
            message = self._fire(ops)
            if message is not None:
                self.failure = message if not attempt else f"{message}\n(failed on attempt {attempt + 1})"
                SEEN_FAILURES.append((time.monotonic(), FIGURES.examples, len(ops), message))
                return

    def _fire(self, ops: list[Op]) -> str | None:
        """Fire the batch, settle, check; what broke, or None."""
        FIGURES.batches += 1
        FIGURES.operations += len(ops)
        FIGURES.operations_by_kind.update(op[0] for op in ops)
        before = {role: (list(p.marks), list(p.tokens)) for role, p in self.people.items()}
        shots = self.batch_pool.fire([self._call(op) for op in ops])
        FIGURES.statuses.update(f"{op[0]}:{s.status or 'error'}" for op, s in zip(ops, shots, strict=True))
        try:
            self._check(ops, shots, before)
        except AssertionError as exc:
            FIGURES.failing_batches += 1
            return f"{exc}\n{self._describe(ops, shots)}"
        return None

    def _describe(self, ops: list[Op], shots: list[Shot]) -> str:
        t0 = min(s.started for s in shots)
        return "batch:\n" + "\n".join(
            f"  {op!r}: {s.status or s.error} [{(s.started - t0) * 1000:.1f}..{(s.ended - t0) * 1000:.1f} ms]"
            for op, s in zip(ops, shots, strict=True)
        )

    # ---- one operation as one call

    def _mark(self, role: str, slot: int) -> MarkState | None:
        marks = self.people[role].marks
        return marks[slot % len(marks)] if marks else None

    def _call(self, op: Op) -> Callable[[], httpx.Response]:
        kind, role = op[0], op[1]
        person = self.people[role]
        headers = person.account.headers
        missing = str(uuid.UUID(int=0))
        if kind == "create":
            body = {"url": url_of(role, op[2]), "note": "raced"}
            return lambda: self.client.post("/v1/marks", json=body, headers=headers)
        if kind == "mint":
            return lambda: self.client.post("/v1/tokens", json={"name": "race"}, headers=headers)
        if kind == "revoke":
            tokens = person.tokens
            token_id = tokens[op[2] % len(tokens)][0] if tokens else missing
            return lambda: self.client.delete(f"/v1/tokens/{token_id}", headers=headers)
        if kind == "delete_me":
            return lambda: self.client.delete("/v1/me", headers=headers)
        owner = self.people[USERS[1 - USERS.index(role)]] if kind == "poke" else person
        mark = self._mark(owner.role, op[2])
        path = f"/v1/marks/{mark.id if mark else missing}"
        if kind == "patch":
            return lambda: self.client.patch(path, json={"url": url_of(role, op[3])}, headers=headers)
        if kind == "delete":
            return lambda: self.client.delete(path, headers=headers)
        if kind == "put":
            data = payload(op)
            return lambda: self.client.put(f"{path}/attachment", content=data, headers=headers)
        if kind == "unattach":
            return lambda: self.client.delete(f"{path}/attachment", headers=headers)
        if kind == "poke":
            return lambda: self.client.patch(path, json={"url": url_of(role, 666)}, headers=headers)
        if kind == "deliver":
            return lambda: self._deliver(mark)
        raise AssertionError(f"unknown operation {op!r}")

    def _deliver(self, mark: MarkState | None) -> httpx.Response:
        """A duplicate of the mark's current message and a stale one, straight onto the queue."""
        if mark is not None:
            for version in {mark.version, max(1, mark.version - 1)}:
                self.lattice.worker.queue.enqueue(uuid.UUID(mark.id), version)
        return httpx.Response(202)

    # ---- after the batch

    def _count(self, n: int = 1) -> None:
        self.checks += n
        FIGURES.invariant_checks += n

    def _settle(self) -> dict[str, Any]:
        """Wait until the queue is empty and every mark's ingestion is final; the marks' rows by id."""
        users = [p.account.id for p in self.people.values()]

        def probe() -> tuple[int, dict[str, Any]]:
            with self.lattice.engine.connect() as conn:
                rows = {str(r.id): r for r in conn.execute(_MARKS, {"users": users})}
            return self.lattice.worker.pending(), rows

        _, rows = poll(
            probe,
            lambda seen: seen[0] == 0 and all(r.status in ("success", "failed") for r in seen[1].values()),
            timeout_s=30.0,
            what="the queue drained and every ingestion final",
        )
        return rows

    def _check(self, ops: list[Op], shots: list[Shot], before: dict[str, Any]) -> None:
        problems: list[str] = []

        def expect(ok: bool, message: str) -> None:
            self._count()
            if not ok:
                problems.append(message)

        # 1. every answer is one this operation may give, given what overlapped it
        deleters = {
            op[1]: shot for op, shot in zip(ops, shots, strict=True) if op[0] == "delete_me" and shot.ok
        }
        for op, shot in zip(ops, shots, strict=True):
            expect(shot.status is not None, f"{op!r}: no answer ({shot.error})")
            if shot.status is None:
                continue
            expect(shot.status < 500, f"{op!r}: answered {shot.status} {shot.body!r}")
            if shot.status >= 500:
                continue
            allowed = set(NORMAL[op[0]])
            actor_deleter = deleters.get(op[1])
            if op[0] != "deliver" and actor_deleter is not None and actor_deleter is not shot:
                allowed = {401} if actor_deleter.before(shot) else allowed | {401, 404}
            if op[0] == "poke":
                allowed = {401, 404} if actor_deleter else {404}
            expect(shot.status in allowed, f"{op!r}: answered {shot.status} (allowed {sorted(allowed)})")

        # 2. settle, then the database, the blob dir and the queue
        rows = self._settle()
        self._count()
        deleted_marks: list[MarkState] = []
        for role, person in self.people.items():
            marks_before, tokens_before = before[role]
            mine = [(op, shot) for op, shot in zip(ops, shots, strict=True) if op[1] == role]
            deleter = deleters.get(role)
            if deleter is not None:
                self._check_user_gone(person, marks_before, expect)
                deleted_marks.extend(marks_before)
                continue
            # the marks live before the batch
            survivors = []
            for mark in marks_before:
                touching = [
                    (op, shot)
                    for op, shot in mine
                    if op[0] not in ("create", "mint", "revoke", "delete_me")
                    and op[0] != "poke"
                    and self._mark_at(marks_before, op[2]) is mark
                ]
                deletes = [s for op, s in touching if op[0] == "delete" and s.ok]
                if deletes:
                    expect(len(deletes) == 1, f"mark {mark.id}: {len(deletes)} deletes acknowledged")
                    expect(mark.id not in rows, f"mark {mark.id}: still there after an acknowledged delete")
                    deleted_marks.append(mark)
                    continue
                expect(mark.id in rows, f"mark {mark.id}: gone without an acknowledged delete")
                if mark.id not in rows:
                    continue
                for op, shot in touching:
                    if op[0] in ("patch", "put") and shot.status == 404:
                        expect(False, f"{op!r}: 404 on a live mark nobody deleted")
                row = rows[mark.id]
                urls = [
                    Write(url_of(role, op[3]), s.started, s.ended)
                    for op, s in touching
                    if op[0] == "patch" and s.ok
                ]
                allowed_urls = final_candidates(mark.url, urls)
                expect(row.url in allowed_urls, f"mark {mark.id}: url {row.url!r}, allowed {allowed_urls}")
                attachment_writes: list[Write] = [
                    Write(hashlib.sha256(payload(op)).hexdigest(), s.started, s.ended)
                    for op, s in touching
                    if op[0] == "put" and s.ok
                ]
                attachment_writes += [
                    Write(None, s.started, s.ended) for op, s in touching if op[0] == "unattach" and s.ok
                ]
                allowed_files: set[Hashable] = final_candidates(mark.sha256, attachment_writes)
                expect(
                    row.sha256 in allowed_files,
                    f"mark {mark.id}: attachment {row.sha256}, allowed {allowed_files}",
                )
                puts = sum(1 for op, s in touching if op[0] == "put" and s.ok)
                expect(
                    row.version >= mark.version + puts,
                    f"mark {mark.id}: version {row.version} after {puts} uploads on version {mark.version}",
                )
                mark.url, mark.sha256, mark.version = row.url, row.sha256, row.version
                survivors.append(mark)
            # the marks the batch created
            created = [(op, s) for op, s in mine if op[0] == "create" and s.ok]
            for op, shot in created:
                mark_id = str(shot.body["id"]) if isinstance(shot.body, dict) else ""
                expect(mark_id in rows, f"{op!r}: acknowledged (201 {mark_id}) but not in the database")
                if mark_id in rows:
                    survivors.append(MarkState(mark_id, rows[mark_id].url, None, rows[mark_id].version))
            known = {m.id for m in survivors} | {m.id for m in deleted_marks}
            phantoms = [
                i for i, r in rows.items() if str(r.user_id) == str(person.account.id) and i not in known
            ]
            expect(not phantoms, f"user {role}: marks nobody created (or acknowledged): {phantoms}")
            person.marks = survivors
            self._check_tokens(person, tokens_before, mine, expect)

        # ingestion: versions never go back; the final one is `success` for the final url
        for mark_id, row in rows.items():
            expect(row.version >= self.max_version.get(mark_id, 0), f"mark {mark_id}: version went back")
            self.max_version[mark_id] = max(row.version, self.max_version.get(mark_id, 0))
            expect(
                row.status == "success" and row.normalized_url == normalize_url(row.url),
                f"mark {mark_id}: ingestion {row.status} {row.normalized_url!r} for url {row.url!r}"
                f" ({row.error})",
            )
            if row.blob_id is not None:
                for person in self.people.values():
                    for mark in person.marks:
                        if mark.id == mark_id:
                            mark.blob_ids.add(row.blob_id.hex)

        # deleted means gone, and the blob files are exactly the attachment rows
        if deleted_marks:
            with self.lattice.engine.connect() as conn:
                left = conn.execute(_GONE, {"m": [uuid.UUID(m.id) for m in deleted_marks]}).scalar_one()
            expect(left == 0, f"{left} row(s) of deleted marks remain")
        files = blob_files(self.lattice.settings.blob_dir)
        with self.lattice.engine.connect() as conn:
            attached = {r.blob_id.hex: r.sha256 for r in conn.execute(_ATTACHMENTS)}
        self._count(len(files))
        orphans = sorted(set(files) - set(attached))
        expect(not orphans, f"blob files without an attachment row: {orphans}")
        expect(
            set(attached) <= set(files),
            f"attachment rows without a file: {sorted(set(attached) - set(files))}",
        )
        for blob_id, sha in attached.items():
            expect(files.get(blob_id, sha) == sha, f"blob {blob_id} does not hash to its sha256")
        for mark in deleted_marks:
            expect(not (mark.blob_ids & set(files)), f"deleted mark {mark.id}: its blob file remains")

        if problems:
            raise AssertionError(f"{len(problems)} invariant(s) broken: " + "; ".join(problems))
        for role in deleters:  # an account that ended: a new one takes its place
            self.dead_users.append(self.people[role].account.id)
            self._birth(role)
        if deleters:
            self._settle()

    @staticmethod
    def _mark_at(marks: list[MarkState], slot: int) -> MarkState | None:
        return marks[slot % len(marks)] if marks else None

    def _check_user_gone(
        self, person: Person, marks_before: list[MarkState], expect: Callable[[bool, str], None]
    ) -> None:
        with self.lattice.engine.connect() as conn:
            left = conn.execute(_USER_LEFT, {"u": person.account.id}).scalar_one()
        expect(left == 0, f"user {person.role}: {left} row(s) (user, tokens, marks) outlived DELETE /v1/me")
        refused = self.client.get("/v1/me", headers=person.account.headers)
        expect(
            refused.status_code == 401,
            f"user {person.role}: session answered {refused.status_code} after DELETE /v1/me",
        )
        for _, secret in person.tokens:
            answer = self.client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"})
            expect(answer.status_code == 401, f"user {person.role}: an API token outlived DELETE /v1/me")

    def _check_tokens(
        self,
        person: Person,
        tokens_before: list[tuple[str, str]],
        mine: list[tuple[Op, Shot]],
        expect: Callable[[bool, str], None],
    ) -> None:
        with self.lattice.engine.connect() as conn:
            rows = {str(r.id): r for r in conn.execute(_TOKENS, {"users": [person.account.id]})}
        revoked = set()
        for op, shot in mine:
            if op[0] == "revoke" and shot.ok and tokens_before:
                token_id, secret = tokens_before[op[2] % len(tokens_before)]
                revoked.add(token_id)
                expect(
                    rows.get(token_id) is not None and rows[token_id].revoked_at is not None,
                    f"token {token_id}: revoke acknowledged, token not revoked",
                )
                answer = self.client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"})
                expect(
                    answer.status_code == 401,
                    f"token {token_id}: answered {answer.status_code} after its revoke",
                )
        tokens = [t for t in tokens_before if t[0] not in revoked]
        for op, shot in mine:
            if op[0] == "mint" and shot.ok and isinstance(shot.body, dict):
                token_id = str(shot.body["id"])
                expect(
                    token_id in rows and rows[token_id].revoked_at is None,
                    f"{op!r}: minted token {token_id} missing",
                )
                tokens.append((token_id, str(shot.body["token"])))
        person.tokens = tokens

    def teardown(self) -> None:
        try:
            self.batch_pool.close()
            self.client.close()
        finally:
            self.lattice.reset()
        if self.failure is not None:
            raise BatchFailed(self.failure)


@contextmanager
def shrinking_for_at_most(seconds: float) -> Iterator[None]:
    """Hypothesis shrinks for up to 5 minutes; a batch costs a second, so the suite bounds it."""
    saved = hypothesis_engine.MAX_SHRINKING_SECONDS
    hypothesis_engine.MAX_SHRINKING_SECONDS = int(seconds)
    try:
        yield
    finally:
        hypothesis_engine.MAX_SHRINKING_SECONDS = saved


def test_race_machine(live_stack: LiveStack, lattice: WorkerLattice, race_options: RaceOptions) -> None:
    lattice.reset()
    machine_settings = settings(
        max_examples=race_options.examples,
        stateful_step_count=race_options.batches,
        deadline=None,
        database=None,
        # No `explain` phase: it replays the failure many more times, each costing seconds here.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    started, examples_before = time.monotonic(), FIGURES.examples
    SEEN_FAILURES.clear()
    before = FIGURES.batches
    try:
        with shrinking_for_at_most(race_options.shrink_seconds):
            run_state_machine_as_test(
                lambda: RaceMachine(live_stack, lattice),  # type: ignore[arg-type]
                settings=machine_settings,
            )
    finally:
        if SEEN_FAILURES:
            (at, example, size, _), (_, _, shrunk, message) = SEEN_FAILURES[0], SEEN_FAILURES[-1]
            FIGURES.failures.append(
                {
                    "test": "test_race_machine",
                    "first_after_s": round(at - started, 2),
                    "first_example": example - examples_before,
                    "first_batch_size": size,
                    "shrunk_batch_size": shrunk,
                    "message": message,
                    "failing_batches": len(SEEN_FAILURES),
                }
            )
    ran = FIGURES.batches - before
    print(f"race machine: {ran} batches")
    assert ran > 0, "the machine fired no batch"
