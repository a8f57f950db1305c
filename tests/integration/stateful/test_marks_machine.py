"""Marks, attachments and the ingestion worker driven together by a Hypothesis state machine.

Several signed-in users create, patch (incl. url changes), delete marks, upload, replace, download
and delete attachments, walk their lists by cursor, and poke at each other's objects; the worker is
held paused between `deliver` steps so every ingestion state is predictable, and duplicate, stale and
orphaned messages are sent on purpose. After every step the invariants compare the service with the
model and with the database and the blob directory:

- `version` only grows and equals the model's; `success` is final for its version (no field of the
  ingestion row changes once it is reached, whatever messages come later);
- after `deliver` every live mark is `success` with the result api.md prescribes, and `attempts`
  never exceeds the messages sent for that version;
- deleted means gone: no row in marks, attachments or ingestions, no blob file, and a late message
  for it is dropped without an actor error;
- every blob file on disk is some attachment's, and hashes to that attachment's `sha256`;
- nobody reads, changes or lists another user's mark (404, and absent from their cursor walk).

A failure prints Hypothesis' step program, which replays the run step by step.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

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

from tests.integration.flows import assert_problem, unique_email, walk_marks
from tests.integration.stateful.model import (
    Attached,
    ModelMark,
    attachments,
    mark_changes,
    mark_fields,
    merged_tags,
    tag_lists,
)
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.plugin import stepcount
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in

MAX_USERS = 3
MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

_INGESTION = text(
    "SELECT i.mark_id, i.status, i.version, i.attempts, i.error, i.ingested_at, i.normalized_url,"
    " i.word_count, i.title, m.user_id FROM ingestions i JOIN marks m ON m.id = i.mark_id"
)
_ATTACHMENTS = text("SELECT mark_id, blob_id, sha256, size, content_type FROM attachments")


class MarksMachine(RuleBasedStateMachine):
    users = Bundle("users")
    marks = Bundle("marks")

    def __init__(
        self, api: httpx.Client, mailbox: Mailbox, worker: DrainableWorker, lattice: WorkerLattice
    ) -> None:
        super().__init__()
        self.api, self.mailbox, self.worker, self.lattice = api, mailbox, worker, lattice
        self.count = stepcount.counter("marks")
        self.count.examples += 1
        self.people: dict[str, SignedInUser] = {}
        self.model: dict[str, ModelMark] = {}
        # mark id -> (version, ingestion row) when that version was first seen at `success`
        self.successes: dict[str, tuple[int, tuple[Any, ...]]] = {}
        self.max_version: dict[str, int] = {}
        self.worker.pause()

    # ---- helpers

    def _step(self, name: str) -> None:
        self.count.step(name)

    def _headers(self, who: SignedInUser) -> dict[str, str]:
        return who.headers

    def _owned_live(self, who: SignedInUser, mark_id: str) -> ModelMark | None:
        mark = self.model[mark_id]
        return mark if mark.owner == str(who.id) and not mark.deleted else None

    def _blob_files(self) -> dict[str, str]:
        """blob id (hex) -> sha256 of the file, for every finished blob file on disk."""
        root = self.lattice.settings.blob_dir
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in root.glob("*/*")
            if path.is_file() and not path.name.endswith(".part")
        }

    def _check_mark_body(self, body: dict[str, Any], mark: ModelMark) -> None:
        assert body["id"] == mark.id
        assert (body["url"], body["title"], body["note"], body["tags"]) == (
            mark.url,
            mark.title,
            mark.note,
            mark.tags,
        ), body
        expected_attachment = (
            None
            if mark.attachment is None
            else {
                "content_type": mark.attachment.content_type,
                "size": len(mark.attachment.data),
                "sha256": mark.attachment.sha256,
            }
        )
        assert body["attachment"] == expected_attachment
        ingestion = body["ingestion"]
        assert (ingestion["version"], ingestion["status"]) == (mark.version, mark.status), ingestion
        assert ingestion["result"] == mark.result, (ingestion, mark.result)

    # ---- users

    @initialize(target=users)
    def first_user(self) -> SignedInUser:
        self._step("sign_in")
        who = sign_in(self.api, self.mailbox, unique_email("machine"))
        self.people[str(who.id)] = who
        return who

    @precondition(lambda self: len(self.people) < MAX_USERS)
    @rule(target=users)
    def another_user(self) -> SignedInUser:
        self._step("sign_in")
        who = sign_in(self.api, self.mailbox, unique_email("machine"))
        self.people[str(who.id)] = who
        return who

    # ---- marks

    @rule(target=marks, who=users, fields=mark_fields())
    def create(self, who: SignedInUser, fields: dict[str, Any]) -> str:
        self._step("create")
        response = self.api.post("/v1/marks", json=fields, headers=who.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        mark = ModelMark(
            id=body["id"],
            owner=str(who.id),
            url=fields.get("url"),
            title=fields.get("title"),
            note=fields.get("note"),
            tags=merged_tags(fields.get("tags", [])),
            created_at=datetime.fromisoformat(body["created_at"]),
        )
        mark.sent(1)
        self.model[mark.id] = mark
        self._check_mark_body(body, mark)
        return mark.id

    @rule(who=users, mark_id=marks)
    def get(self, who: SignedInUser, mark_id: str) -> None:
        self._step("get")
        response = self.api.get(f"/v1/marks/{mark_id}", headers=who.headers)
        mark = self._owned_live(who, mark_id)
        if mark is None:
            assert_problem(response, 404, "not_found")
            return
        assert response.status_code == 200, response.text
        self._check_mark_body(response.json(), mark)

    @rule(who=users, mark_id=marks, changes=mark_changes())
    def patch(self, who: SignedInUser, mark_id: str, changes: dict[str, Any]) -> None:
        self._step("patch")
        response = self.api.patch(f"/v1/marks/{mark_id}", json=changes, headers=who.headers)
        mark = self._owned_live(who, mark_id)
        if mark is None:
            assert_problem(response, 404, "not_found")
            return
        url = changes.get("url", mark.url)
        note = changes.get("note", mark.note)
        if url is None and note is None:
            assert_problem(response, 422, "validation_failed")
            return
        assert response.status_code == 200, response.text
        url_changed = "url" in changes and changes["url"] != mark.url
        mark.url, mark.note = url, note
        mark.title = changes.get("title", mark.title)
        if "tags" in changes:
            mark.tags = merged_tags(changes["tags"])
        if url_changed:
            mark.new_version()
        self._check_mark_body(response.json(), mark)

    @rule(who=users, mark_id=marks)
    def delete(self, who: SignedInUser, mark_id: str) -> None:
        self._step("delete")
        response = self.api.delete(f"/v1/marks/{mark_id}", headers=who.headers)
        mark = self._owned_live(who, mark_id)
        if mark is None:
            assert_problem(response, 404, "not_found")
            return
        assert response.status_code == 204, response.text
        mark.deleted = True
        mark.attachment = None

    # ---- attachments

    @rule(who=users, mark_id=marks, attachment=attachments())
    def upload(self, who: SignedInUser, mark_id: str, attachment: tuple[bytes, str]) -> None:
        self._step("upload")
        data, content_type = attachment
        response = self.api.put(
            f"/v1/marks/{mark_id}/attachment",
            content=data,
            headers={**who.headers, "Content-Type": content_type},
        )
        mark = self._owned_live(who, mark_id)
        if mark is None:
            assert_problem(response, 404, "not_found")
            return
        assert response.status_code == 200, response.text
        mark.attachment = Attached(data, content_type)
        assert response.json() == {
            "content_type": content_type,
            "size": len(data),
            "sha256": mark.attachment.sha256,
        }
        mark.new_version()
        with self.lattice.engine.connect() as conn:
            blob = conn.execute(
                text("SELECT blob_id FROM attachments WHERE mark_id = :m"), {"m": uuid.UUID(mark_id)}
            ).scalar_one()
        mark.blob_ids.add(blob.hex)

    @rule(who=users, mark_id=marks, data=st.data())
    def download(self, who: SignedInUser, mark_id: str, data: st.DataObject) -> None:
        self._step("download")
        mark = self._owned_live(who, mark_id)
        size = len(mark.attachment.data) if mark is not None and mark.attachment is not None else 0
        mode = data.draw(st.sampled_from(["whole", "range", "suffix", "etag"]))
        headers = dict(who.headers)
        start, end = 0, size - 1
        if mode == "range" and size:
            start = data.draw(st.integers(0, size - 1))
            end = data.draw(st.integers(start, size - 1))
            headers["Range"] = f"bytes={start}-{end}"
        elif mode == "suffix" and size:
            n = data.draw(st.integers(1, size))
            start = size - n
            headers["Range"] = f"bytes=-{n}"
        elif mode == "etag" and mark is not None and mark.attachment is not None:
            headers["If-None-Match"] = f'"{mark.attachment.sha256}"'
        response = self.api.get(f"/v1/marks/{mark_id}/attachment", headers=headers)
        if mark is None or mark.attachment is None:
            assert_problem(response, 404, "not_found")
            return
        assert response.headers["etag"] == f'"{mark.attachment.sha256}"'
        if "If-None-Match" in headers:
            assert response.status_code == 304, response.status_code
            return
        if "Range" in headers:
            assert response.status_code == 206, response.text
            assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
            assert response.content == mark.attachment.data[start : end + 1]
            return
        assert response.status_code == 200
        assert response.headers["content-type"] == mark.attachment.content_type
        assert response.content == mark.attachment.data

    @rule(who=users, mark_id=marks)
    def delete_attachment(self, who: SignedInUser, mark_id: str) -> None:
        self._step("delete_attachment")
        response = self.api.delete(f"/v1/marks/{mark_id}/attachment", headers=who.headers)
        mark = self._owned_live(who, mark_id)
        if mark is None or mark.attachment is None:
            assert_problem(response, 404, "not_found")
            return
        assert response.status_code == 204, response.text
        mark.attachment = None  # no new ingestion version: the last result stands

    # ---- lists

    @rule(who=users, limit=st.integers(1, 4), tags=st.none() | tag_lists.filter(bool))
    def walk(self, who: SignedInUser, limit: int, tags: list[str] | None) -> None:
        self._step("walk")
        params = {} if tags is None else {"tag": tags[0]}
        seen = walk_marks(self.api, who.headers, limit=limit, **params)
        ids = [item["id"] for item in seen]
        expected = sorted(
            (
                m
                for m in self.model.values()
                if m.owner == str(who.id)
                and not m.deleted
                and (tags is None or merged_tags(tags[:1])[0] in m.tags)
            ),
            key=lambda m: (m.created_at, uuid.UUID(m.id)),
            reverse=True,
        )
        assert len(ids) == len(set(ids)), "a cursor walk saw a mark twice"
        assert ids == [m.id for m in expected], "the walk is not every live mark of the user, newest first"
        for item in seen:
            self._check_mark_body(item, self.model[item["id"]])

    # ---- the worker

    def _settle(self) -> None:
        """Run the queue dry: every live mark's current version becomes `success` in the model."""
        pending = [m for m in self.model.values() if not m.deleted and m.status == "pending"]
        self.worker.resume()
        try:
            self.worker.join(timeout_s=30)
        finally:
            self.worker.pause()
        for mark in pending:
            mark.status, mark.result = "success", mark.expected_result()

    @rule()
    def deliver(self) -> None:
        """Deliver everything queued; each live mark must then hold the result api.md prescribes."""
        self._step("deliver")
        self._settle()
        with self.lattice.engine.connect() as conn:
            rows = {str(r.mark_id): r for r in conn.execute(_INGESTION)}
        for mark in self.model.values():
            if mark.deleted:
                continue
            row = rows[mark.id]
            assert row.status == "success", (mark.id, row)
            assert row.error is None
            assert 1 <= row.attempts <= mark.messages.get(mark.version, 0), (row.attempts, mark.messages)
            got = {"normalized_url": row.normalized_url, "word_count": row.word_count, "title": row.title}
            assert got == mark.result, (mark.id, got, mark.result)

    @rule(mark_id=marks, data=st.data())
    def redeliver(self, mark_id: str, data: st.DataObject) -> None:
        """A duplicate (current version) or stale (older version) message, delivered at once.

        For a mark already at `success`, or deleted, it must change nothing (the invariants compare
        the ingestion row with the one first seen at `success`).
        """
        self._step("redeliver")
        mark = self.model[mark_id]
        version = data.draw(st.integers(1, mark.version), label="version")
        self.worker.queue.enqueue(uuid.UUID(mark_id), version)
        mark.sent(version)
        self._settle()

    @rule(mark_id=marks, data=st.data())
    def queue_duplicate(self, mark_id: str, data: st.DataObject) -> None:
        """A message left on the (paused) queue, to meet whatever the next steps do to the mark."""
        self._step("queue_duplicate")
        mark = self.model[mark_id]
        version = data.draw(st.integers(1, mark.version), label="version")
        self.worker.queue.enqueue(uuid.UUID(mark_id), version)
        mark.sent(version)

    # ---- invariants, after every step

    @invariant()
    def database_agrees(self) -> None:
        self.count.invariant_passes += 1
        with self.lattice.engine.connect() as conn:
            rows = {str(r.mark_id): r for r in conn.execute(_INGESTION)}
            attached = {str(r.mark_id): r for r in conn.execute(_ATTACHMENTS)}
        live = {m.id: m for m in self.model.values() if not m.deleted}
        assert set(rows) == set(live), "marks in the database differ from the live marks of the model"
        for mark_id, mark in live.items():
            row = rows[mark_id]
            self.count.checks += 1
            assert str(row.user_id) == mark.owner
            assert row.version >= self.max_version.get(mark_id, 0), "an ingestion version went back"
            self.max_version[mark_id] = row.version
            assert row.version == mark.version, (row.version, mark.version)
            assert row.status in ("pending", "success"), row  # the worker is paused between steps
            assert row.status == mark.status, (row.status, mark.status)
            snapshot = tuple(row)
            if mark_id in self.successes and self.successes[mark_id][0] == row.version:
                assert snapshot == self.successes[mark_id][1], "a success row changed for its version"
            elif row.status == "success":
                self.successes[mark_id] = (row.version, snapshot)
            if row.status == "pending":
                assert (row.attempts, row.ingested_at, row.word_count) == (0, None, None), row
        for mark_id, mark in live.items():
            self.count.checks += 1
            if mark.attachment is None:
                assert mark_id not in attached
            else:
                assert attached[mark_id].sha256 == mark.attachment.sha256
                assert attached[mark_id].size == len(mark.attachment.data)

    @invariant()
    def blobs_are_exactly_the_attachments(self) -> None:
        self.count.invariant_passes += 1
        files = self._blob_files()
        with self.lattice.engine.connect() as conn:
            blobs = {r.blob_id.hex: r.sha256 for r in conn.execute(_ATTACHMENTS)}
        self.count.checks += len(files) + 1
        assert set(files) == set(blobs), f"blob files {sorted(files)} != attachments {sorted(blobs)}"
        for blob_id, sha in blobs.items():
            assert files[blob_id] == sha, f"blob {blob_id} does not hash to its sha256"
        for mark in self.model.values():
            if mark.deleted:
                self.count.checks += 1
                assert not (mark.blob_ids & set(files)), "a deleted mark's blob file is still on disk"

    @invariant()
    def the_queue_is_quiet(self) -> None:
        """Actors never raised (duplicates, stale and orphaned messages are all dropped quietly)."""
        self.count.invariant_passes += 1
        self.count.checks += 1
        errors = self.worker.errors.take()
        assert not errors, f"the ingestion actor raised: {errors!r}"

    def teardown(self) -> None:
        # Drain what the example left, then reset the worker's planes for the next example.
        self.worker.resume()
        try:
            self.worker.join(timeout_s=30, fail_fast=False)
        finally:
            self.lattice.reset()
            self.worker.pause()


def test_marks_machine(
    api: httpx.Client, mailbox: Mailbox, worker: DrainableWorker, lattice: WorkerLattice
) -> None:
    before = stepcount.counter("marks").steps
    # A factory, not the class, so each example's machine gets this test's fixtures (Hypothesis documents
    # it; its annotation says type[...]).
    run_state_machine_as_test(
        lambda: MarksMachine(api, mailbox, worker, lattice),  # type: ignore[arg-type]
        settings=MACHINE_SETTINGS,
    )
    ran = stepcount.counter("marks").steps - before
    print(f"marks machine: {ran} steps")
    assert ran > 0, "the machine ran no steps"
