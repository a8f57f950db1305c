"""Accounts and credentials driven by a Hypothesis state machine.

Users sign in through the real OTP flow (Maildir), mint and revoke API tokens (their own and, in
vain, each other's), rename themselves, save marks with attachments through either kind of token,
and delete their accounts. After every step:

- every session and API token that is live authenticates as its owner, and every revoked token, and
  every token of a deleted user, gets 401 `unauthenticated`;
- `GET /v1/tokens` lists exactly the user's unrevoked API tokens, never a secret;
- each user's marks are exactly the ones they created, and nobody else's;
- a deleted user leaves no row (users, tokens, marks) and no blob file behind.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from tests.integration.flows import assert_problem, create_mark, unique_email, upload, walk_marks
from tools.lattice.plugin import stepcount
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, sign_in

MAX_USERS = 4
MACHINE_SETTINGS = settings(
    max_examples=15, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
token_names = st.text(st.characters(categories=("L", "Nd", "Zs")), min_size=1, max_size=12)


@dataclass
class Person:
    id: str
    email: str
    session: str
    deleted: bool = False
    display_name: str | None = None
    marks: set[str] = field(default_factory=set)

    def __repr__(self) -> str:  # short, so the printed step program stays readable
        return f"Person({self.email!r})"


@dataclass
class Token:
    id: str
    owner: Person
    name: str
    secret: str
    revoked: bool = False

    @property
    def live(self) -> bool:
        return not self.revoked and not self.owner.deleted

    def __repr__(self) -> str:
        return f"Token({self.name!r} of {self.owner.email!r})"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class AuthMachine(RuleBasedStateMachine):
    people = Bundle("people")
    tokens = Bundle("tokens")

    def __init__(self, api: httpx.Client, mailbox: Mailbox, lattice: WorkerLattice) -> None:
        super().__init__()
        self.api, self.mailbox, self.lattice = api, mailbox, lattice
        self.count = stepcount.counter("auth")
        self.count.examples += 1
        self.everyone: list[Person] = []
        self.all_tokens: list[Token] = []

    def _sign_in(self) -> Person:
        who = sign_in(self.api, self.mailbox, unique_email("auth-machine"))
        person = Person(str(who.id), who.email, who.session_token)
        self.everyone.append(person)
        return person

    @initialize(target=people)
    def first_person(self) -> Person:
        self.count.step("sign_in")
        return self._sign_in()

    @precondition(lambda self: len(self.everyone) < MAX_USERS)
    @rule(target=people)
    def another_person(self) -> Person:
        self.count.step("sign_in")
        return self._sign_in()

    @rule(target=tokens, who=people, name=token_names, days=st.none() | st.integers(1, 365))
    def create_token(self, who: Person, name: str, days: int | None) -> Token:
        self.count.step("create_token")
        body: dict[str, object] = {"name": name}
        if days is not None:
            body["expires_in_days"] = days
        response = self.api.post("/v1/tokens", json=body, headers=bearer(who.session))
        if who.deleted:
            assert_problem(response, 401, "unauthenticated")
            # The bundle needs a value: a token that never worked, owned by the deleted person.
            token = Token(f"never-{uuid.uuid4()}", who, name, "rt_never_issued", revoked=True)
        else:
            assert response.status_code == 201, response.text
            created = response.json()
            assert created["token"].startswith("rt_")
            assert created["name"] == name
            assert created["token"].startswith(created["prefix"])
            token = Token(created["id"], who, name, created["token"])
        self.all_tokens.append(token)
        return token

    @rule(who=people, token=tokens)
    def revoke(self, who: Person, token: Token) -> None:
        self.count.step("revoke")
        if token.id.startswith("never-"):
            return
        response = self.api.delete(f"/v1/tokens/{token.id}", headers=bearer(who.session))
        if who.deleted:
            assert_problem(response, 401, "unauthenticated")
        elif token.owner is not who or token.revoked or token.owner.deleted:
            assert_problem(response, 404, "not_found")
        else:
            assert response.status_code == 204, response.text
            token.revoked = True

    @rule(
        token=tokens,
        note=st.text(st.characters(categories=("Lu", "Ll")), min_size=1, max_size=20),
        attach=st.booleans(),
    )
    def save_mark_with_token(self, token: Token, note: str, attach: bool) -> None:
        self.count.step("save_mark_with_token")
        response = self.api.post("/v1/marks", json={"note": note}, headers=bearer(token.secret))
        if not token.live:
            assert_problem(response, 401, "unauthenticated")
            return
        assert response.status_code == 201, response.text
        mark_id = response.json()["id"]
        token.owner.marks.add(mark_id)
        if attach:
            upload(self.api, bearer(token.secret), mark_id, os.urandom(64))

    @rule(who=people)
    def save_mark_with_session(self, who: Person) -> None:
        self.count.step("save_mark_with_session")
        if who.deleted:
            assert_problem(
                self.api.post("/v1/marks", json={"note": "x"}, headers=bearer(who.session)),
                401,
                "unauthenticated",
            )
            return
        who.marks.add(create_mark(self.api, bearer(who.session), url="https://example.org/")["id"])

    @rule(who=people, other=people)
    def peek_at_another(self, who: Person, other: Person) -> None:
        """Another's mark is a 404 to read, change or delete; another's token a 404 to revoke."""
        self.count.step("peek_at_another")
        if who is other or who.deleted or not other.marks:
            return
        mark_id = sorted(other.marks)[0]
        headers = bearer(who.session)
        for response in (
            self.api.get(f"/v1/marks/{mark_id}", headers=headers),
            self.api.patch(f"/v1/marks/{mark_id}", json={"note": "mine now"}, headers=headers),
            self.api.get(f"/v1/marks/{mark_id}/attachment", headers=headers),
            self.api.delete(f"/v1/marks/{mark_id}", headers=headers),
        ):
            assert_problem(response, 404, "not_found")

    @rule(who=people, name=st.text(st.characters(categories=("L", "Zs")), min_size=1, max_size=80))
    def rename(self, who: Person, name: str) -> None:
        self.count.step("rename")
        response = self.api.patch("/v1/me", json={"display_name": name}, headers=bearer(who.session))
        if who.deleted:
            assert_problem(response, 401, "unauthenticated")
            return
        assert response.status_code == 200, response.text
        who.display_name = name
        assert response.json()["display_name"] == name

    @rule(who=people)
    def delete_me(self, who: Person) -> None:
        self.count.step("delete_me")
        response = self.api.delete("/v1/me", headers=bearer(who.session))
        if who.deleted:
            assert_problem(response, 401, "unauthenticated")
            return
        assert response.status_code == 204, response.text
        who.deleted = True

    # ---- invariants

    @invariant()
    def credentials_mean_what_the_model_says(self) -> None:
        self.count.invariant_passes += 1
        for person in self.everyone:
            self.count.checks += 1
            response = self.api.get("/v1/me", headers=bearer(person.session))
            if person.deleted:
                assert_problem(response, 401, "unauthenticated")
                continue
            assert response.status_code == 200, response.text
            assert (response.json()["id"], response.json()["display_name"]) == (
                person.id,
                person.display_name,
            )
        for token in self.all_tokens:
            self.count.checks += 1
            response = self.api.get("/v1/me", headers=bearer(token.secret))
            if token.live:
                assert response.status_code == 200, response.text
                assert response.json()["id"] == token.owner.id
            else:
                assert_problem(response, 401, "unauthenticated")

    @invariant()
    def listings_are_exact_and_private(self) -> None:
        self.count.invariant_passes += 1
        for person in self.everyone:
            if person.deleted:
                continue
            self.count.checks += 2
            headers = bearer(person.session)
            listed = self.api.get("/v1/tokens", headers=headers)
            assert listed.status_code == 200, listed.text
            expected = {t.id for t in self.all_tokens if t.owner is person and not t.revoked}
            assert {t["id"] for t in listed.json()} == expected
            assert all("token" not in t for t in listed.json()), "a token listing shows a secret"
            marks = {m["id"] for m in walk_marks(self.api, headers, limit=3)}
            assert marks == person.marks, "a user's list is not exactly their own marks"

    @invariant()
    def deleted_people_leave_nothing(self) -> None:
        self.count.invariant_passes += 1
        gone = [uuid.UUID(p.id) for p in self.everyone if p.deleted]
        if not gone:
            return
        self.count.checks += len(gone)
        with self.lattice.engine.connect() as conn:
            for table, column in (("users", "id"), ("tokens", "user_id"), ("marks", "user_id")):
                left = conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = ANY(:ids)"),  # noqa: S608
                    {"ids": gone},
                ).scalar_one()
                assert left == 0, f"{table} keeps rows of a deleted user"
            blobs = {r.blob_id.hex for r in conn.execute(text("SELECT blob_id FROM attachments"))}
        files = {p.name for p in self.lattice.settings.blob_dir.glob("*/*") if p.is_file()}
        assert files == blobs, "blob files on disk are not exactly the attachments left"

    def teardown(self) -> None:
        self.lattice.reset()


def test_auth_machine(api: httpx.Client, mailbox: Mailbox, lattice: WorkerLattice) -> None:
    before = stepcount.counter("auth").steps
    run_state_machine_as_test(
        lambda: AuthMachine(api, mailbox, lattice),  # type: ignore[arg-type]  # a factory; see marks machine
        settings=MACHINE_SETTINGS,
    )
    ran = stepcount.counter("auth").steps - before
    print(f"auth machine: {ran} steps")
    assert ran > 0, "the machine ran no steps"
