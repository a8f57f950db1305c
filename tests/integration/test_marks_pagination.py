"""Keyset pagination of GET /v1/marks: newest first by (created_at, id), every mark exactly once even when
many share a created_at and while others are being inserted, with filters, bad cursors and limit bounds."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from app.models import Ingestion, Mark
from tests.integration.flows import (
    Json,
    assert_problem,
    assert_validation_problem,
    create_mark,
    list_page,
    walk_marks,
)
from tests.schema_tables import MARKS_QUERY, accepted, refused
from tools.lattice.seam.accounts import SignedInUser


def _insert_marks(
    db: Session, owner: uuid.UUID, created_at: list[datetime], tags: list[str] | None = None
) -> None:
    """Rows written straight to the table: the only way to make many share one created_at exactly."""
    for when in created_at:
        mark = Mark(user_id=owner, note="seeded", tags=tags or [], created_at=when, updated_at=when)
        db.add(mark)
        db.flush()
        db.add(Ingestion(mark_id=mark.id))
    db.commit()


def _expected_order(db: Session, owner: uuid.UUID) -> list[str]:
    # The contract's order, computed here independently of the service: (created_at, id) descending.
    db.expire_all()
    rows = db.exec(select(Mark).where(Mark.user_id == owner)).all()
    return [str(r.id) for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]


def test_newest_first_and_next_cursor_null_on_the_last_page(api: httpx.Client, user: SignedInUser) -> None:
    created = [create_mark(api, user.headers, note=f"n{i}")["id"] for i in range(5)]
    first = list_page(api, user.headers, limit=3)
    assert [m["id"] for m in first["items"]] == created[::-1][:3]
    assert first["next_cursor"]
    second = list_page(api, user.headers, limit=3, cursor=first["next_cursor"])
    assert [m["id"] for m in second["items"]] == created[::-1][3:]
    assert second["next_cursor"] is None


def test_exact_page_boundary_has_no_empty_last_page(api: httpx.Client, user: SignedInUser) -> None:
    for i in range(4):
        create_mark(api, user.headers, note=f"n{i}")
    first = list_page(api, user.headers, limit=2)
    second = list_page(api, user.headers, limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


def test_empty_list(api: httpx.Client, user: SignedInUser) -> None:
    assert list_page(api, user.headers) == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_walk_sees_every_mark_once_when_many_share_created_at(
    api: httpx.Client, user: SignedInUser, db: Session, limit: int
) -> None:
    same = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    moments = [same] * 40 + [same - timedelta(microseconds=1)] * 5 + [same + timedelta(microseconds=1)] * 5
    _insert_marks(db, user.id, moments)
    walked = [m["id"] for m in walk_marks(api, user.headers, limit=limit)]
    assert len(walked) == len(set(walked)) == 50, "a mark was skipped or seen twice"
    assert walked == _expected_order(db, user.id)


def test_concurrent_first_inserts_share_a_walk(api: httpx.Client, user: SignedInUser, db: Session) -> None:
    """Marks created by concurrent requests (separate threads) are all walked once."""
    created: list[str] = []
    lock = threading.Lock()

    def make(n: int) -> None:
        for i in range(n):
            mark_id = create_mark(api, user.headers, note=f"t{i}")["id"]
            with lock:
                created.append(mark_id)

    threads = [threading.Thread(target=make, args=(6,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    walked = [m["id"] for m in walk_marks(api, user.headers, limit=5)]
    assert sorted(walked) == sorted(created)
    assert walked == _expected_order(db, user.id)


def test_walk_while_others_insert(api: httpx.Client, user: SignedInUser, db: Session) -> None:
    """Marks inserted during a walk never make it skip or repeat one that existed when it began."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    _insert_marks(db, user.id, [base] * 15 + [base - timedelta(seconds=1)] * 15)
    before = set(_expected_order(db, user.id))
    stop = threading.Event()
    inserted: list[str] = []

    def keep_inserting() -> None:
        while not stop.is_set() and len(inserted) < 200:
            inserted.append(create_mark(api, user.headers, note="during the walk")["id"])

    inserter = threading.Thread(target=keep_inserting)
    inserter.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            page = list_page(api, user.headers, limit=4, **({"cursor": cursor} if cursor else {}))
            seen.extend(m["id"] for m in page["items"])
            # A new mark between pages, from this thread too, so the interleaving is certain.
            inserted.append(create_mark(api, user.headers, note="between pages")["id"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        inserter.join()
    assert len(seen) == len(set(seen)), "a mark was seen twice"
    assert before <= set(seen), f"{len(before - set(seen))} pre-existing mark(s) skipped"
    assert set(seen) <= before | set(inserted)


def test_walk_with_a_tag_filter(api: httpx.Client, user: SignedInUser, db: Session) -> None:
    same = datetime(2026, 2, 1, tzinfo=UTC)
    _insert_marks(db, user.id, [same] * 12, tags=["keep"])
    _insert_marks(db, user.id, [same] * 12, tags=["drop"])
    walked = walk_marks(api, user.headers, limit=5, tag="keep")
    assert len({m["id"] for m in walked}) == len(walked) == 12
    assert all(m["tags"] == ["keep"] for m in walked)


def test_another_users_marks_are_never_listed(
    api: httpx.Client, user: SignedInUser, other_user: SignedInUser
) -> None:
    mine = create_mark(api, user.headers, note="mine")
    create_mark(api, other_user.headers, note="theirs")
    assert [m["id"] for m in walk_marks(api, user.headers)] == [mine["id"]]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "W10",  # base64 of []
        "WyJub3QgYSBkYXRlIiwieCJd",  # ["not a date","x"]
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0",  # naive time
        "x" * 201,
    ],
    ids=["garbage", "punctuation", "empty-list", "not-a-date", "naive-time", "too-long"],
)
def test_bad_cursor_is_422(api: httpx.Client, user: SignedInUser, cursor: str) -> None:
    response = api.get("/v1/marks", params={"cursor": cursor}, headers=user.headers)
    assert response.status_code == 422, response.text
    code = response.json()["code"]
    assert code in ("invalid_cursor", "validation_failed")
    assert_problem(response, 422, code)


@pytest.mark.parametrize("query", accepted(MARKS_QUERY))
def test_accepted_queries_list(api: httpx.Client, user: SignedInUser, query: Json) -> None:
    mark = create_mark(api, user.headers, note="listed unless filtered", tags=["x" * 40])
    listed = [m["id"] for m in list_page(api, user.headers, **query)["items"]]
    assert listed == ([] if "status" in query else [mark["id"]])


@pytest.mark.parametrize(("query", "field"), refused(MARKS_QUERY))
def test_refused_queries_are_422(api: httpx.Client, user: SignedInUser, query: Json, field: str) -> None:
    assert_validation_problem(api.get("/v1/marks", params=query, headers=user.headers), field)


def test_limit_bounds_and_default(api: httpx.Client, user: SignedInUser, db: Session) -> None:
    _insert_marks(db, user.id, [datetime(2026, 3, 1, tzinfo=UTC) - timedelta(seconds=i) for i in range(105)])
    assert len(list_page(api, user.headers)["items"]) == 20
    assert len(list_page(api, user.headers, limit=1)["items"]) == 1
    assert len(list_page(api, user.headers, limit=100)["items"]) == 100
