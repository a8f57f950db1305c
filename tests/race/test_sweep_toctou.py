"""Time of check vs time of use, swept over every operation of the document that acts for a signed-in
user or on a resource (`swept("toctou")`, enumerated at run time).

For each operation, every intervention that can take away what it depends on while it is in flight:
- `revoke-token`: the API token it is sent with is revoked (the document's DELETE of what the
  token-issuing operation creates); `token-expires` / `session-expires`: the clock passes the expiry
  of the API token, or of the session token it is then sent with (no operation makes time pass, so
  the row's expiry is set to now); `delete-account`: its account is deleted (the secured DELETE
  without a path parameter). From then on the documented answer is 401 (docs/api.md);
- `delete:<operation>`: a DELETE whose path is its own path or a prefix of it (the mark under its
  attachment): 404 from then on (a PUT of the same path creates anew, so it is exempt);
- `replace:<operation>`, for a reader: a binary PUT of its path replaces the bytes it reads.

Each pair runs up to three ways:
1. held (operations with a body): the head and all of the body but its last byte are sent, the
   intervention is made and answered, then the last byte: the answer must be the documented one, and
   nothing the request carried is stored (a write never lands after its revocation answered);
2. slow read (readers of binary bodies): the answer's headers are read through a 4 KiB window, the
   intervention is made, then the body is read: it must be the bytes it began with, whole;
3. concurrent: copies of the request and the intervention fired at once (copies staggered by a few
   ms), ROUNDS times: no 5xx, no dropped connection or truncated body; a copy sent after the
   intervention was answered gets the documented answer; the loss of a credential is 401, never 404;
   a refused write stored nothing; a 200 download is one stored content whole; afterwards the blob
   files are exactly the attachment rows, and a deleted account left no row.
A bystander (another user's `GET /v1/me`) rides along in every concurrent round; its worst latency is
recorded. Every problem found is listed at the end, with the operation and intervention that showed it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx
import pytest
from sqlalchemy import text

from tests.integration.flows import unique_email
from tools.lattice.engines.contract import Operation, component_schema, creator_of, operations
from tools.lattice.engines.race.classes import record, swept
from tools.lattice.engines.race.documented import Builder, Built, binary_put, bytes_of, new_marker
from tools.lattice.engines.race.firing import Batch, Shot
from tools.lattice.engines.race.inflight import HeldBody, SlowRead
from tools.lattice.engines.race.observe import blob_names
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser, sign_in

pytestmark = pytest.mark.live

CLASS = "toctou"
ROUNDS = 2
COPIES = 3  # of a write, each on its own objects
READER_COPIES = 6  # of a read, all on the same object
STAGGER_S = 0.003
# Downloads are held mid-body: larger than the socket buffers between the server and a 4 KiB window.
STORED_BYTES = 1024 * 1024

_USER_ROWS = text(
    "SELECT (SELECT count(*) FROM users WHERE id = :u) + (SELECT count(*) FROM tokens WHERE user_id = :u)"
    " + (SELECT count(*) FROM marks WHERE user_id = :u)"
)
# Everything stored for a user, as text: a refused write's unique values must not be in it.
_USER_TEXT = text(
    "SELECT coalesce((SELECT string_agg(u::text, ' ') FROM users u WHERE u.id = :u), '')"
    " || coalesce((SELECT string_agg(t::text, ' ') FROM tokens t WHERE t.user_id = :u), '')"
    " || coalesce((SELECT string_agg(m::text, ' ') FROM marks m WHERE m.user_id = :u), '')"
    " || coalesce((SELECT string_agg(a::text, ' ') FROM attachments a JOIN marks m ON m.id = a.mark_id"
    " WHERE m.user_id = :u), '')"
)
_ATTACHMENTS = text("SELECT blob_id FROM attachments")
_SESSION_CURRENT = text(
    "UPDATE tokens SET expires_at = now() + make_interval(secs => :ttl)"
    " WHERE user_id = :u AND kind = 'session'"
)
_EXPIRE = text(
    "UPDATE tokens SET expires_at = now() WHERE user_id = :u AND kind = :kind"
    " AND (kind = 'session' OR id = :id)"
)


# ---- the interventions, from the document


def _account_deletion() -> Operation:
    return next(
        op for op in operations() if op.method == "delete" and op.secured and not op.parameters("path")
    )


def _issues_tokens(op: Operation) -> bool:
    for status in op.success_statuses:
        schema = (
            op.spec["responses"][str(status)].get("content", {}).get("application/json", {}).get("schema")
        )
        if (
            schema
            and "$ref" in schema
            and "token" in component_schema(schema["$ref"].rsplit("/", 1)[-1]).get("properties", {})
        ):
            return True
    return False


def _token_revocation() -> Operation:
    for op in operations():
        found = creator_of(op, operations()) if op.method == "delete" and op.parameters("path") else None
        if found is not None and _issues_tokens(found[0]) and op.secured:
            return op
    raise AssertionError("the document has no operation that revokes an issued token")


@dataclass(frozen=True)
class Intervention:
    name: str
    gone: int | None  # the documented answer once it happened (None: a replacement, nothing is gone)
    op: Operation | None  # the operation that intervenes (None: the clock, see `expire`)
    credential: bool = False
    on_session: bool = False  # the request is sent with the session token, not the API token

    @property
    def session_survives(self) -> bool:
        return self.credential and not self.on_session and self.name != "delete-account"

    def auth(self, user: SignedInUser) -> dict[str, str]:
        return {"Authorization": f"Bearer {user.session_token}"} if self.on_session else {}


def interventions(op: Operation) -> list[Intervention]:
    found = []
    if op.secured:
        found += [
            Intervention("revoke-token", 401, _token_revocation(), credential=True),
            Intervention("token-expires", 401, None, credential=True),
            Intervention("session-expires", 401, None, credential=True, on_session=True),
            Intervention("delete-account", 401, _account_deletion(), credential=True),
        ]
    for other in operations():
        if other.method != "delete" or not other.parameters("path"):
            continue
        if other.path == op.path or op.path.startswith(other.path + "/"):
            exempt = op.method == "put" and other.path == op.path
            found.append(Intervention(f"delete:{other.operation_id}", None if exempt else 404, other))
    upload = binary_put(op)
    if upload is not None and op.method == "get":
        found.append(Intervention(f"replace:{upload.operation_id}", None, upload))
    return found


def _reads_binary(op: Operation) -> bool:
    return op.method == "get" and binary_put(op) is not None


# ---- one sweep's state


@dataclass
class Sweep:
    live: httpx.Client
    stack: LiveStack
    lattice: WorkerLattice
    bystander: SignedInUser
    batch: Batch
    problems: list[str]
    leftovers: list[str]
    requests: int = 0
    worst_bystander_s: float = 0.0
    account: SignedInUser | None = None

    def user(self, op: Operation, what: Intervention) -> tuple[SignedInUser, Builder]:
        """A user whose credential `what` may take away: a new account when the account may end (the
        intervention or the operation deletes it); otherwise one account for the whole sweep, with a
        new API token each time (a revoked or expired one is spent), and its session made current again
        (the clock set back) after a round in which the session expired."""
        ends = what.name == "delete-account" or op == _account_deletion()
        if ends or self.account is None:
            user = sign_in(self.live, self.lattice.mailbox, unique_email("toctou"), with_api_token=True)
            if ends:
                return user, Builder(self.live, self.lattice.mailbox, user, STORED_BYTES)
            self.account = user
        with self.lattice.engine.begin() as conn:
            ttl = float(self.lattice.settings.session_ttl_seconds)
            conn.execute(_SESSION_CURRENT, {"u": self.account.id, "ttl": ttl})
        minted = self.live.post("/v1/tokens", json={"name": "toctou"}, headers=self.account.headers)
        assert minted.status_code == 201, minted.text
        user = replace(
            self.account, api_token=minted.json()["token"], api_token_id=uuid.UUID(minted.json()["id"])
        )
        return user, Builder(self.live, self.lattice.mailbox, user, STORED_BYTES)

    def intervene(
        self, what: Intervention, user: SignedInUser, built: Built, replacement: bytes = b""
    ) -> Callable[[], httpx.Response]:
        """The intervention as a call, with the user's session token (the request uses its API token)."""
        session = user.headers
        op = what.op
        if op is None:
            return lambda: self.expire(what, user)
        if what.name == "revoke-token":
            (param,) = (p["name"] for p in op.parameters("path"))
            path = op.url({param: str(user.api_token_id)})
        else:
            path = op.url(built.params)
        if what.name.startswith("replace:"):
            return lambda: self.live.put(path, content=replacement, headers=session)
        return lambda: self.live.delete(path, headers=session)  # revoke-token, delete-account, delete:*

    def expire(self, what: Intervention, user: SignedInUser) -> httpx.Response:
        """The clock passes the credential's expiry (no operation makes time pass: its row is set to
        expire now, as the clock would have it)."""
        kind = "session" if what.on_session else "api"
        with self.lattice.engine.begin() as conn:
            conn.execute(_EXPIRE, {"u": user.id, "kind": kind, "id": user.api_token_id})
        return httpx.Response(204)

    def problem(self, op: Operation, what: Intervention, mode: str, message: str) -> None:
        self.problems.append(
            f"{op.method.upper()} {op.path} ({op.operation_id}) x {what.name} [{mode}]: {message}"
        )

    def stored_text(self, user: SignedInUser) -> str:
        with self.lattice.engine.connect() as conn:
            return str(conn.execute(_USER_TEXT, {"u": user.id}).scalar_one())

    def check_refused_stored_nothing(
        self, op: Operation, what: Intervention, mode: str, user: SignedInUser, built: Built
    ) -> None:
        """What the request would have stored is not there (and a refused DELETE deleted nothing)."""
        stored = self.stored_text(user)
        landed = [value for value in built.written if value in stored]
        if landed:
            self.problem(op, what, mode, f"its write landed after the intervention answered: {landed}")
        if op.method == "delete" and what.session_survives:
            reader = next((o for o in operations() if o.path == op.path and o.method == "get"), None)
            if reader is not None:
                still = self.live.get(built.path, headers=user.headers)
                if still.status_code == 404:
                    self.problem(op, what, mode, f"answered {what.gone} but deleted {built.path}")

    def check_storage(self, op: Operation, what: Intervention, mode: str) -> None:
        files = blob_names(self.lattice.settings.blob_dir)
        with self.lattice.engine.connect() as conn:
            rows = {r.blob_id.hex for r in conn.execute(_ATTACHMENTS)}
        partial = sorted(name for name in files if name.endswith(".part"))
        orphans = sorted(set(files) - rows - set(partial))
        missing = sorted(rows - set(files))
        for kind, names in (
            ("partial file", partial),
            ("blob without a row", orphans),
            ("row without its blob", missing),
        ):
            for name in names:
                self.leftovers.append(f"{kind} {name} after {op.operation_id} x {what.name}")
                self.problem(op, what, mode, f"{kind}: {name}")

    def check_account_gone(self, op: Operation, what: Intervention, mode: str, user: SignedInUser) -> None:
        with self.lattice.engine.connect() as conn:
            left = conn.execute(_USER_ROWS, {"u": user.id}).scalar_one()
        if left:
            self.problem(op, what, mode, f"{left} row(s) of the deleted account remain")

    # ---- 1. held body

    def held(self, op: Operation, what: Intervention) -> None:
        user, builder = self.user(op, what)
        built = builder.build(op)
        head, body = built.wire(**what.auth(user))
        request = HeldBody(self.stack.base_url, head, body)
        done = self.intervene(what, user, built)()
        self.requests += 2
        if done.status_code >= 300:
            request.sock.close()
            self.problem(
                op, what, "held", f"the intervention itself answered {done.status_code}: {done.text[:200]}"
            )
            return
        try:
            answer = request.finish()
        except Exception as exc:  # a dropped connection is a finding
            self.problem(op, what, "held", f"no answer after the body completed: {type(exc).__name__}: {exc}")
            return
        if answer.status != what.gone:
            self.problem(
                op,
                what,
                "held",
                f"body completed after the intervention answered {done.status_code}: answered {answer.status}"
                f" (documented: {what.gone}) {answer.body[:160]!r}",
            )
        self.check_refused_stored_nothing(op, what, "held", user, built)
        self.check_storage(op, what, "held")

    # ---- 2. slow read

    def slow_read(self, op: Operation, what: Intervention) -> None:
        user, builder = self.user(op, what)
        built = builder.build(op)
        head, _ = built.wire(**what.auth(user))
        replacement = bytes_of(new_marker(), STORED_BYTES)
        reader = SlowRead(self.stack.base_url, head)
        try:
            status = reader.head()
            if status != 200:
                self.problem(op, what, "slow read", f"answered {status} before any intervention")
                return
            done = self.intervene(what, user, built, replacement)()
            self.requests += 2
            if done.status_code >= 300:
                self.problem(op, what, "slow read", f"the intervention answered {done.status_code}")
            body = reader.rest()
        finally:
            reader.close()
        if body != built.stored:
            self.problem(
                op,
                what,
                "slow read",
                f"a 200 begun before the intervention delivered {len(body)} bytes that are not the stored"
                f" {len(built.stored or b'')} whole (Content-Length {reader.headers.get('content-length')})",
            )
        self.check_storage(op, what, "slow read")

    # ---- 3. concurrent

    def concurrent(self, op: Operation, what: Intervention) -> None:
        user, builder = self.user(op, what)
        copies = READER_COPIES if op.method == "get" else COPIES
        first = builder.build(op)
        # A resource intervention acts on one object, shared by the copies; a credential's loss reaches
        # every copy, and writes then each get objects of their own (copies deleting one mark would
        # answer each other 404, where the credential's loss is documented as 401).
        own = what.credential and op.method != "get"
        built = [first] + [builder.build(op, params=None if own else first.params) for _ in range(copies - 1)]
        for request in built[1:]:
            request.stored = request.stored if own else first.stored
        contents = {bytes(b.stored) for b in built if b.stored is not None}
        replacement = bytes_of(new_marker(), STORED_BYTES)
        intervention = self.intervene(what, user, first, replacement)
        bodies: dict[int, bytes] = {}

        def copy(index: int, request: Built) -> Callable[[], httpx.Response]:
            def call() -> httpx.Response:
                time.sleep(index * STAGGER_S)
                response = request.send(self.live, **what.auth(user))
                bodies[index] = response.content
                return response

            return call

        def bystander() -> httpx.Response:
            return self.live.get("/v1/me", headers=self.bystander.headers)

        calls = [intervention, bystander] + [copy(i, b) for i, b in enumerate(built)]
        shots = self.batch.fire(calls)
        self.requests += len(calls)
        done, seen_by_bystander, results = shots[0], shots[1], shots[2:]
        self.worst_bystander_s = max(
            self.worst_bystander_s, seen_by_bystander.ended - seen_by_bystander.started
        )
        if seen_by_bystander.status != 200:
            self.problem(
                op, what, "concurrent", f"a bystander's GET /v1/me answered {seen_by_bystander.status}"
            )
        if what.name.startswith("replace:") and done.ok:
            contents.add(replacement)
        for index, (request, shot) in enumerate(zip(built, results, strict=True)):
            self.judge(op, what, user, request, shot, done, bodies.get(index), contents)
        if what.name == "delete-account" and done.ok:
            self.check_account_gone(op, what, "concurrent", user)
        self.check_storage(op, what, "concurrent")

    def judge(
        self,
        op: Operation,
        what: Intervention,
        user: SignedInUser,
        request: Built,
        shot: Shot,
        done: Shot,
        body: bytes | None,
        contents: set[bytes],
    ) -> None:
        mode = "concurrent"
        if shot.status is None:
            self.problem(op, what, mode, f"no answer (dropped connection or truncated body): {shot.error}")
            return
        if shot.status >= 500:
            self.problem(op, what, mode, f"answered {shot.status} {shot.body!r}"[:300])
            return
        allowed = set(op.success_statuses) | ({what.gone} if what.gone else set())
        # A revoked or expired token deletes nothing: 404 is never right. A write racing its account's
        # deletion happens before it or answers 401 (docs/api.md); a read may find the mark gone first.
        if what.credential and shot.status == 404 and (what.name != "delete-account" or op.method != "get"):
            self.problem(op, what, mode, "answered 404 where the loss of its credential is documented as 401")
            return
        if what.name == "delete-account" and op.method == "get":
            allowed.add(404)
        if shot.status not in allowed:
            self.problem(op, what, mode, f"answered {shot.status} (allowed {sorted(allowed)})")
        if what.gone and done.ok and done.before(shot) and shot.status != what.gone:
            self.problem(
                op,
                what,
                mode,
                f"sent {1000 * (shot.started - done.ended):.1f} ms after the intervention answered"
                f" {done.status}, yet answered {shot.status} (documented: {what.gone})",
            )
        if what.gone and shot.status == what.gone:
            self.check_refused_stored_nothing(op, what, mode, user, request)
        if _reads_binary(op) and shot.status == 200 and body is not None and body not in contents:
            self.problem(
                op,
                what,
                mode,
                f"a 200 download of {len(body)} bytes is no stored content whole"
                f" (stored: {sorted(len(c) for c in contents)} bytes)",
            )


def test_toctou_sweep(
    live: httpx.Client, live_stack: LiveStack, lattice: WorkerLattice, person: SignedInUser
) -> None:
    started = time.monotonic()
    ops = swept(CLASS)
    assert ops, "the document has no operation this class sweeps"
    sweep = Sweep(live, live_stack, lattice, person, Batch(width=2 + READER_COPIES), [], [])
    pairs = 0
    try:
        for op in ops:
            for what in interventions(op):
                pairs += 1
                if what.gone is not None and (op.json_body_component or op.binary_body):
                    sweep.held(op, what)
                if _reads_binary(op):
                    sweep.slow_read(op, what)
                for _ in range(ROUNDS):
                    sweep.concurrent(op, what)
    finally:
        sweep.batch.close()
    elapsed = time.monotonic() - started
    record(
        CLASS,
        operations_swept=len(ops),
        pairs=pairs,
        requests=sweep.requests,
        worst_bystander_latency_s=round(sweep.worst_bystander_s, 3),
        leftovers=sweep.leftovers,
        problems=len(sweep.problems),
        seconds=round(elapsed, 1),
    )
    print(f"toctou: {len(ops)} operations, {pairs} pairs, {sweep.requests} requests in {elapsed:.1f}s")
    assert not sweep.problems, f"{len(sweep.problems)} problem(s):\n" + "\n".join(sweep.problems)
