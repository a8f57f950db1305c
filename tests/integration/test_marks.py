"""Marks: create (Location, queued ingestion), validation of every field, get, patch (url bumps the
ingestion version and enqueues it), delete, and the `tag` / `status` filters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.models import Ingestion
from tests.integration.flows import (
    Json,
    assert_problem,
    assert_validation_problem,
    create_mark,
    get_mark,
    list_page,
    patch_mark,
    paused,
    upload,
)
from tests.schema_tables import MARK_CREATE, MARK_PATCH, accepted, refused
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser


def _queued(lattice: WorkerLattice) -> int:
    return lattice.worker.pending()


def test_create_answers_the_mark_with_location_and_queues_ingestion(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    before = _queued(lattice)
    mark = create_mark(api, user.headers, url="https://example.org/a", title="T", note="n", tags=["x"])
    assert mark["url"] == "https://example.org/a"
    assert (mark["title"], mark["note"], mark["tags"]) == ("T", "n", ["x"])
    assert mark["attachment"] is None
    assert mark["created_at"] == mark["updated_at"]
    assert mark["ingestion"] == {
        "status": "pending",
        "version": 1,
        "attempts": 0,
        "error": None,
        "ingested_at": None,
        "result": None,
    }
    assert _queued(lattice) == before + 1, "creating a mark must enqueue exactly one ingestion message"
    assert get_mark(api, user.headers, mark["id"]) == mark


@pytest.mark.parametrize("fields", accepted(MARK_CREATE))
def test_accepted_bodies_are_echoed(api: httpx.Client, user: SignedInUser, fields: Json) -> None:
    mark = create_mark(api, user.headers, **fields)
    assert {key: mark[key] for key in fields} == fields


def test_tags_are_lower_cased_and_merged_in_first_seen_order(api: httpx.Client, user: SignedInUser) -> None:
    mark = create_mark(api, user.headers, note="n", tags=["Read", "read", "Later", "READ", "a", "later"])
    assert mark["tags"] == ["read", "later", "a"]
    assert create_mark(api, user.headers, note="n", tags=["Read", "read"])["tags"] == ["read"]


def test_tags_are_stored_in_one_normal_form(api: httpx.Client, user: SignedInUser) -> None:
    # NFC and NFD spellings of one word, and a tag with invisible characters around it, are one tag.
    tags = ["Caf\u00e9", "Cafe\u0301", " read ", "read\u200b", "\ufeffREAD"]
    mark = create_mark(api, user.headers, note="n", tags=tags)
    assert mark["tags"] == ["caf\u00e9", "read"]
    patched = patch_mark(api, user.headers, mark["id"], tags=["CAFE\u0301 "])
    assert patched["tags"] == ["caf\u00e9"]


def test_twenty_tags_after_merging_are_allowed(api: httpx.Client, user: SignedInUser) -> None:
    tags = [f"t{i}" for i in range(20)] + [f"T{i}" for i in range(20)]
    assert create_mark(api, user.headers, note="n", tags=tags)["tags"] == [f"t{i}" for i in range(20)]


@pytest.mark.parametrize(("fields", "field"), refused(MARK_CREATE))
def test_create_validation(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice, fields: Json, field: str | None
) -> None:
    before = _queued(lattice)
    response = api.post("/v1/marks", json=fields, headers=user.headers)
    assert_validation_problem(response, *([field] if field else []))
    assert list_page(api, user.headers)["items"] == []
    assert _queued(lattice) == before, "a refused mark enqueued an ingestion"


def test_a_mark_with_neither_url_nor_note_is_refused_with_the_rule(
    api: httpx.Client, user: SignedInUser
) -> None:
    """The body as a whole is refused, and the error says which rule, as PATCH's does."""
    response = api.post("/v1/marks", json={"title": "t"}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body"], "msg": "Value error, a mark needs a url, a note, or both", "type": "value_error"}
    ]


def test_get_unknown_and_malformed_ids(api: httpx.Client, user: SignedInUser) -> None:
    assert_problem(api.get(f"/v1/marks/{uuid.uuid4()}", headers=user.headers), 404, "not_found")
    assert_validation_problem(api.get("/v1/marks/42", headers=user.headers), "mark_id")


def test_patch_changes_only_the_fields_sent(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", title="old", note="keep", tags=["a"])
    before = _queued(lattice)
    patched = patch_mark(api, user.headers, mark["id"], title="new", tags=["B", "b", "c"])
    assert (patched["title"], patched["note"], patched["tags"]) == ("new", "keep", ["b", "c"])
    assert patched["url"] == mark["url"]
    assert datetime.fromisoformat(patched["updated_at"]) > datetime.fromisoformat(mark["updated_at"])
    assert patched["created_at"] == mark["created_at"]
    assert patched["ingestion"]["version"] == 1, "only a url change starts a new ingestion"
    assert _queued(lattice) == before
    cleared = patch_mark(api, user.headers, mark["id"], title=None, note=None, tags=[])
    assert (cleared["title"], cleared["note"], cleared["tags"]) == (None, None, [])


def test_patch_url_bumps_the_version_and_enqueues(
    api: httpx.Client, user: SignedInUser, worker: DrainableWorker
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/one")
    worker.join()
    assert get_mark(api, user.headers, mark["id"])["ingestion"]["status"] == "success"
    with paused(worker):
        patched = patch_mark(api, user.headers, mark["id"], url="https://example.org/two")
        assert patched["ingestion"]["version"] == 2
        assert patched["ingestion"]["status"] == "pending"
        assert patched["ingestion"]["attempts"] == 0
        assert patched["ingestion"]["result"] is None
        assert worker.pending() == 1
        same = patch_mark(api, user.headers, mark["id"], url="https://example.org/two")
        assert same["ingestion"]["version"] == 2, "patching the same url is not a change"
        assert worker.pending() == 1
    worker.join()
    done = get_mark(api, user.headers, mark["id"])["ingestion"]
    assert (done["status"], done["version"]) == ("success", 2)
    assert done["result"]["normalized_url"] == "https://example.org/two"


@pytest.mark.parametrize("changes", accepted(MARK_PATCH))
def test_accepted_patches_are_applied(api: httpx.Client, user: SignedInUser, changes: Json) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", note="n")
    patched = patch_mark(api, user.headers, mark["id"], **changes)
    assert patched == {
        **mark,
        **changes,
        "updated_at": patched["updated_at"],
        "ingestion": patched["ingestion"],
    }
    assert get_mark(api, user.headers, mark["id"]) == patched


@pytest.mark.parametrize(("changes", "field"), refused(MARK_PATCH))
def test_patch_validation_leaves_the_mark_unchanged(
    api: httpx.Client, user: SignedInUser, changes: Json, field: str | None
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", note="n")
    response = api.patch(f"/v1/marks/{mark['id']}", json=changes, headers=user.headers)
    assert_validation_problem(response, *([field] if field else []))
    assert get_mark(api, user.headers, mark["id"]) == mark


def test_patch_cannot_clear_both_url_and_note(api: httpx.Client, user: SignedInUser) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/", note="n")
    response = api.patch(f"/v1/marks/{mark['id']}", json={"url": None, "note": None}, headers=user.headers)
    assert_validation_problem(response)
    assert get_mark(api, user.headers, mark["id"]) == mark


def test_delete_mark(api: httpx.Client, user: SignedInUser, db: Session) -> None:
    mark = create_mark(api, user.headers, note="bye")
    upload(api, user.headers, mark["id"], b"bytes")
    assert api.delete(f"/v1/marks/{mark['id']}", headers=user.headers).status_code == 204
    assert_problem(api.get(f"/v1/marks/{mark['id']}", headers=user.headers), 404, "not_found")
    assert_problem(api.delete(f"/v1/marks/{mark['id']}", headers=user.headers), 404, "not_found")
    assert db.get(Ingestion, uuid.UUID(mark["id"])) is None


def test_filter_by_tag_is_case_insensitive(api: httpx.Client, user: SignedInUser) -> None:
    read = create_mark(api, user.headers, note="1", tags=["read", "x"])
    create_mark(api, user.headers, note="2", tags=["other"])
    create_mark(api, user.headers, note="3")
    for tag in ("read", "READ"):
        assert [m["id"] for m in list_page(api, user.headers, tag=tag)["items"]] == [read["id"]]
    assert list_page(api, user.headers, tag="absent")["items"] == []


def test_filter_by_tag_in_any_spelling_of_its_normal_form(api: httpx.Client, user: SignedInUser) -> None:
    cafe = create_mark(api, user.headers, note="1", tags=["caf\u00e9"])
    for tag in ("caf\u00e9", "Cafe\u0301", " CAF\u00c9\u200b"):
        assert [m["id"] for m in list_page(api, user.headers, tag=tag)["items"]] == [cafe["id"]], tag
    assert list_page(api, user.headers, tag="\u200b")["items"] == []


def test_filter_by_status(api: httpx.Client, user: SignedInUser, worker: DrainableWorker) -> None:
    done = create_mark(api, user.headers, note="done")
    worker.join()
    with paused(worker):
        waiting = create_mark(api, user.headers, note="waiting")

        def ids(**params: Any) -> list[str]:
            return [m["id"] for m in list_page(api, user.headers, **params)["items"]]

        assert ids(status="success") == [done["id"]]
        assert ids(status="pending") == [waiting["id"]]
        assert ids(status="failed") == []
        assert ids() == [waiting["id"], done["id"]]


def test_marks_require_authentication(api: httpx.Client) -> None:
    mark_id = uuid.uuid4()
    for method, path in (
        ("GET", "/v1/marks"),
        ("POST", "/v1/marks"),
        ("GET", f"/v1/marks/{mark_id}"),
        ("PATCH", f"/v1/marks/{mark_id}"),
        ("DELETE", f"/v1/marks/{mark_id}"),
    ):
        response = api.request(method, path, json={"note": "n"} if method in ("POST", "PATCH") else None)
        assert_problem(response, 401, "unauthenticated")
