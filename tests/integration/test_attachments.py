"""Attachments: exact bytes and Content-Type round trip, ETag/304, single ranges (206), several ranges
(200), 416, 411 without a length, 413 over the limit with nothing stored, replace and delete removing the
old blob file, and files named by UUID only."""

from __future__ import annotations

import hashlib
import os
import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.settings import Settings
from tests.integration.flows import Json, assert_problem, create_mark, get_mark, upload
from tools.lattice.seam.accounts import SignedInUser

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _blob_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.blob_dir.rglob("*") if p.is_file())


def _attachment_url(mark: Json) -> str:
    return f"/v1/marks/{mark['id']}/attachment"


def _blob_id(db: Session, mark: Json) -> uuid.UUID:
    value = db.execute(
        text("SELECT blob_id FROM attachments WHERE mark_id = :m"), {"m": uuid.UUID(mark["id"])}
    ).scalar_one()
    return uuid.UUID(str(value))


@pytest.fixture
def mark(api: httpx.Client, user: SignedInUser) -> Json:
    return create_mark(api, user.headers, note="has an attachment")


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 300_001])
def test_exact_bytes_round_trip(api: httpx.Client, user: SignedInUser, mark: Json, size: int) -> None:
    data = random.Random(size).randbytes(size)
    stored = upload(api, user.headers, mark["id"], data, "application/x-thing")
    sha = hashlib.sha256(data).hexdigest()
    assert stored == {"content_type": "application/x-thing", "size": size, "sha256": sha}
    response = api.get(_attachment_url(mark), headers=user.headers)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(size)
    assert response.headers["content-type"] == "application/x-thing"
    assert response.headers["etag"] == f'"{sha}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert get_mark(api, user.headers, mark["id"])["attachment"] == stored


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/html; charset=iso-8859-1",
        "application/json",
        "image/png",
        "Application/X-Odd+Thing",
    ],
)
def test_content_type_is_kept_exactly(
    api: httpx.Client, user: SignedInUser, mark: Json, content_type: str
) -> None:
    upload(api, user.headers, mark["id"], b"hello\n", content_type)
    response = api.get(_attachment_url(mark), headers=user.headers)
    assert response.headers["content-type"] == content_type, "the stored type must come back untouched"


def test_missing_content_type_is_octet_stream(api: httpx.Client, user: SignedInUser, mark: Json) -> None:
    response = api.put(_attachment_url(mark), content=b"raw", headers={**user.headers, "Content-Type": ""})
    assert response.status_code == 200, response.text
    assert api.get(_attachment_url(mark), headers=user.headers).headers["content-type"] in (
        "application/octet-stream",
        "",
    )


def test_if_none_match_gives_304(api: httpx.Client, user: SignedInUser, mark: Json) -> None:
    data = os.urandom(500)
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    upload(api, user.headers, mark["id"], data)
    url = _attachment_url(mark)
    for match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = api.get(url, headers={**user.headers, "If-None-Match": match})
        assert response.status_code == 304, match
        assert response.content == b""
        assert response.headers["etag"] == etag
    stale = api.get(url, headers={**user.headers, "If-None-Match": '"0000"'})
    assert stale.status_code == 200
    assert stale.content == data


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=-7", 99_993, 99_999),
        ("bytes=70000-200000", 70_000, 99_999),
        ("bytes=-500000", 0, 99_999),
    ],
)
def test_single_range_is_206(
    api: httpx.Client, user: SignedInUser, mark: Json, range_header: str, start: int, end: int
) -> None:
    data = random.Random(7).randbytes(100_000)
    upload(api, user.headers, mark["id"], data, "application/pdf")
    response = api.get(_attachment_url(mark), headers={**user.headers, "Range": range_header})
    assert response.status_code == 206, response.text
    assert response.content == data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/100000"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize(
    "range_header", ["bytes=0-1,5-6", "bytes=0-1, 3-", "items=0-1", "bytes=5-2", "bytes=x-y"]
)
def test_several_or_unusable_ranges_get_the_whole_body(
    api: httpx.Client, user: SignedInUser, mark: Json, range_header: str
) -> None:
    data = os.urandom(1000)
    upload(api, user.headers, mark["id"], data)
    response = api.get(_attachment_url(mark), headers={**user.headers, "Range": range_header})
    assert response.status_code == 200
    assert response.content == data
    assert "content-range" not in response.headers


@pytest.mark.parametrize("range_header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_is_416(
    api: httpx.Client, user: SignedInUser, mark: Json, range_header: str
) -> None:
    upload(api, user.headers, mark["id"], os.urandom(1000))
    response = api.get(_attachment_url(mark), headers={**user.headers, "Range": range_header})
    assert_problem(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == "bytes */1000"


def test_any_suffix_range_of_an_empty_body_is_416(api: httpx.Client, user: SignedInUser, mark: Json) -> None:
    upload(api, user.headers, mark["id"], b"")
    response = api.get(_attachment_url(mark), headers={**user.headers, "Range": "bytes=-5"})
    assert_problem(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == "bytes */0"


def test_upload_without_content_length_is_411(
    api: httpx.Client, user: SignedInUser, mark: Json, settings: Settings
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"streamed "
        yield b"without a length"

    response = api.put(_attachment_url(mark), content=chunks(), headers=user.headers)
    assert "content-length" not in response.request.headers
    assert_problem(response, 411, "length_required")
    assert _blob_files(settings) == []
    assert get_mark(api, user.headers, mark["id"])["attachment"] is None


def test_upload_over_the_limit_is_413_and_stores_nothing(
    api: httpx.Client, user: SignedInUser, mark: Json, settings: Settings, db: Session
) -> None:
    original = upload(api, user.headers, mark["id"], b"the original", "text/plain")
    files_before = _blob_files(settings)
    version_before = get_mark(api, user.headers, mark["id"])["ingestion"]["version"]
    too_big = os.urandom(settings.max_upload_bytes + 1)
    response = api.put(_attachment_url(mark), content=too_big, headers=user.headers)
    assert_problem(response, 413, "payload_too_large")
    assert _blob_files(settings) == files_before, "a refused upload left a file behind"
    after = get_mark(api, user.headers, mark["id"])
    assert after["attachment"] == original
    assert after["ingestion"]["version"] == version_before, "a refused upload started an ingestion"
    assert api.get(_attachment_url(mark), headers=user.headers).content == b"the original"


def test_upload_of_exactly_the_limit_is_accepted(
    api: httpx.Client, user: SignedInUser, mark: Json, settings: Settings
) -> None:
    data = os.urandom(settings.max_upload_bytes)
    upload(api, user.headers, mark["id"], data)
    assert api.get(_attachment_url(mark), headers=user.headers).content == data


def test_replace_starts_a_new_version_and_deletes_the_old_file(
    api: httpx.Client, user: SignedInUser, mark: Json, settings: Settings, db: Session
) -> None:
    upload(api, user.headers, mark["id"], b"first")
    first_blob = _blob_id(db, mark)
    version = get_mark(api, user.headers, mark["id"])["ingestion"]["version"]
    upload(api, user.headers, mark["id"], b"second", "text/plain")
    second_blob = _blob_id(db, mark)
    assert second_blob != first_blob
    assert [p.name for p in _blob_files(settings)] == [second_blob.hex]
    after = get_mark(api, user.headers, mark["id"])
    assert after["ingestion"]["version"] == version + 1
    assert after["ingestion"]["status"] == "pending"
    assert api.get(_attachment_url(mark), headers=user.headers).content == b"second"


def test_delete_removes_the_file(
    api: httpx.Client, user: SignedInUser, mark: Json, settings: Settings
) -> None:
    upload(api, user.headers, mark["id"], os.urandom(2000))
    assert len(_blob_files(settings)) == 1
    assert api.delete(_attachment_url(mark), headers=user.headers).status_code == 204
    assert _blob_files(settings) == []
    assert get_mark(api, user.headers, mark["id"])["attachment"] is None
    assert_problem(api.get(_attachment_url(mark), headers=user.headers), 404, "not_found")
    assert_problem(api.delete(_attachment_url(mark), headers=user.headers), 404, "not_found")


def test_deleting_the_mark_removes_the_file(
    api: httpx.Client, user: SignedInUser, mark: Json, settings: Settings
) -> None:
    upload(api, user.headers, mark["id"], os.urandom(2000))
    assert api.delete(f"/v1/marks/{mark['id']}", headers=user.headers).status_code == 204
    assert _blob_files(settings) == []


def test_blob_files_are_named_by_uuid_only(
    api: httpx.Client, user: SignedInUser, settings: Settings, db: Session
) -> None:
    marks = [create_mark(api, user.headers, note=f"n{i}") for i in range(3)]
    for i, m in enumerate(marks):
        upload(api, user.headers, m["id"], b"x" * i, "text/../../etc/passwd")
    files = _blob_files(settings)
    expected = {_blob_id(db, m).hex for m in marks}
    assert {p.name for p in files} == expected
    for path in files:
        assert _HEX32.match(path.name), path
        assert path.parent.name == path.name[:2]
        assert path.parent.parent == settings.blob_dir


def test_no_attachment_yet_is_404(api: httpx.Client, user: SignedInUser, mark: Json) -> None:
    assert_problem(api.get(_attachment_url(mark), headers=user.headers), 404, "not_found")
    assert_problem(api.delete(_attachment_url(mark), headers=user.headers), 404, "not_found")


def test_upload_to_a_missing_mark_is_404_and_stores_nothing(
    api: httpx.Client, user: SignedInUser, settings: Settings
) -> None:
    response = api.put(f"/v1/marks/{uuid.uuid4()}/attachment", content=b"orphan", headers=user.headers)
    assert_problem(response, 404, "not_found")
    assert _blob_files(settings) == []


def test_attachments_require_authentication(api: httpx.Client, mark: Json) -> None:
    url = _attachment_url(mark)
    for method in ("GET", "PUT", "DELETE"):
        response = api.request(method, url, content=b"x" if method == "PUT" else None)
        assert_problem(response, 401, "unauthenticated")
