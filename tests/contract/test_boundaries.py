"""Every constraint of every input, at its bound and one past it, with the outcome the document decides.

For each operation, the JSON body's properties and the query parameters are probed one at a time
(tools.lattice.engines.schemavalues.boundaries: each min/max length and bound, each enum member and a
non-member, maxItems and one more, a character the pattern forbids) on an otherwise valid request. The
document's own schema says whether the probed input is valid (`conforms`): valid must get a documented
2xx, invalid a documented 4xx. Uploads are probed at 0, 1, the size limit and one past it, with media
types at and past their length limit; downloads with the Range and conditional headers of RFC 9110.

These are the cases a random generator almost never reaches (a 2,048-character URL, exactly 200 tags).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.world import SPECIAL_INPUTS, World
from tools.lattice.chain.document import load_committed, resolve
from tools.lattice.engines.contract import (
    Case,
    Check,
    Operation,
    component_schema,
    exercise,
    expect_client_error,
    expect_status,
    expect_success,
    operations,
)
from tools.lattice.engines.schemavalues import Boundary, boundaries, conforms, minimal
from tools.lattice.seam.accounts import SignedInUser

OPERATIONS = operations()
# A cursor is opaque: a string of any length the service did not issue is refused whatever its length
# (the document says so, and openapi/peer-allowlist.toml); valid cursors come from World.issued_cursor.
OPAQUE_PARAMETERS = {"cursor"}


def body_probes(schema: dict[str, Any], salt: str) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(what is probed, body, whether the document admits it)."""
    base = minimal(schema, salt)
    for prop, sub in schema.get("properties", {}).items():
        for boundary in boundaries(sub, salt):
            body = {**base, prop: boundary.value}
            yield f"body {prop}: {boundary.probe}", body, conforms(body, schema)
    forbidden = schema.get("not", {}).get("properties")
    if forbidden:  # the combination the schema rules out, e.g. a mark with neither url nor note
        body = {**base, **{prop: None for prop in forbidden}}
        yield f"body: {' and '.join(sorted(forbidden))} all null", body, conforms(body, schema)


def query_probes(op: Operation) -> Iterator[tuple[str, str, Boundary, bool]]:
    doc = load_committed()
    for param in op.parameters("query"):
        if param["name"] in OPAQUE_PARAMETERS:
            continue
        schema = resolve(param["schema"], doc)
        for boundary in boundaries(schema):
            if boundary.value is not None and not isinstance(boundary.value, (list, dict)):
                yield (
                    f"query {param['name']}: {boundary.probe}",
                    param["name"],
                    boundary,
                    conforms(boundary.value, schema),
                )


def _outcome(valid: bool) -> Check:
    return expect_success if valid else expect_client_error


PROBED = [
    op
    for op in OPERATIONS
    if (op.json_body_component and op.operation_id not in SPECIAL_INPUTS) or op.parameters("query")
]


@pytest.mark.parametrize("op", PROBED, ids=[op.operation_id for op in PROBED])
def test_each_constraint_at_and_past_its_bound(op: Operation, world: World, user: SignedInUser) -> None:
    salt = uuid.uuid4().hex  # emails must differ between cases: the OTP rate limit counts per address
    probes = 0
    schema = component_schema(op.json_body_component) if op.json_body_component else None
    if schema is not None:
        for how, body, valid in body_probes(schema, salt):
            case = Case(op, f"boundary: {how}", headers=dict(user.headers) if op.secured else {})
            case.path_params = world.path_params(None, op, user)
            case.json_body, case.has_json_body = body, True
            exercise(world.api, case, _outcome(valid))
            probes += 1
    for how, name, boundary, valid in query_probes(op):
        case = Case(op, f"boundary: {how}", headers=dict(user.headers) if op.secured else {})
        case.query = {name: boundary.value}
        exercise(world.api, case, _outcome(valid))
        probes += 1
    assert probes, f"{op.operation_id} has constraints but no probe was sent"


# ---- binary bodies and the headers around them


def _upload_and_download() -> tuple[Operation, Operation]:
    upload = next(op for op in OPERATIONS if op.binary_body)
    download = next(op for op in OPERATIONS if op.path == upload.path and op.method == "get")
    return upload, download


def upload_probes(limit: int) -> Iterator[tuple[str, bytes, str, Check]]:
    """(what is probed, body, Content-Type, expected outcome)."""
    yield "0 bytes", b"", "application/octet-stream", expect_success
    yield "1 byte", b"\x00", "application/octet-stream", expect_success
    yield f"the limit, {limit} bytes", b"\xff" * limit, "application/octet-stream", expect_success
    yield (
        f"the limit + 1, {limit + 1} bytes",
        b"\xff" * (limit + 1),
        "application/octet-stream",
        expect_status(413),
    )
    media = "application/x-" + "m" * 241
    yield "Content-Type of 255 characters", b"ok", media[:255], expect_success
    yield "Content-Type of 256 characters", b"ok", media[:255] + "m", expect_status(422)
    yield "Content-Type with parameters", b"ok", "text/plain; charset=utf-8", expect_success
    yield "Content-Type with a control character", b"ok", "text/pl\x7fain", expect_status(422)


def test_uploads_at_and_past_their_limits(world: World, user: SignedInUser, settings: Any) -> None:
    upload, _ = _upload_and_download()
    params = world.path_params(None, upload, user)
    for how, content, media_type, outcome in upload_probes(int(settings.max_upload_bytes)):
        case = Case(
            upload, f"boundary: upload {how}", params, headers={**user.headers, "Content-Type": media_type}
        )
        case.content = content
        exercise(world.api, case, outcome)


def download_probes(stored: bytes, etag: str) -> Iterator[tuple[str, dict[str, str], int, bytes | None]]:
    """(what is probed, request headers, expected status, expected body) by RFC 9110's rules; an error's
    body is a problem, checked by the contract's checks."""
    size = len(stored)
    yield "no Range", {}, 200, stored
    yield "Range: the first byte", {"Range": "bytes=0-0"}, 206, stored[:1]
    yield "Range: the last byte", {"Range": f"bytes={size - 1}-{size - 1}"}, 206, stored[-1:]
    yield "Range: an end past the last byte", {"Range": f"bytes=1-{size + 100}"}, 206, stored[1:]
    yield "Range: a suffix", {"Range": "bytes=-3"}, 206, stored[-3:]
    yield "Range: open-ended", {"Range": f"bytes={size - 2}-"}, 206, stored[-2:]
    yield "Range: starts at the size", {"Range": f"bytes={size}-"}, 416, None
    yield "Range: malformed (ignored)", {"Range": "bytes=x-y"}, 200, stored
    yield "Range: not bytes (ignored)", {"Range": "items=0-1"}, 200, stored
    yield "If-None-Match: its ETag", {"If-None-Match": etag}, 304, b""
    yield "If-None-Match: *", {"If-None-Match": "*"}, 304, b""
    yield "If-None-Match: another ETag", {"If-None-Match": '"another"'}, 200, stored
    yield "If-Range: its ETag", {"Range": "bytes=0-0", "If-Range": etag}, 206, stored[:1]
    yield "If-Range: another ETag (whole body)", {"Range": "bytes=0-0", "If-Range": '"another"'}, 200, stored


def test_ranged_and_conditional_downloads(world: World, user: SignedInUser) -> None:
    upload, download = _upload_and_download()
    params = world.path_params(None, upload, user)
    stored = hashlib.sha256(user.email.encode()).digest()  # 32 bytes
    put = Case(upload, "setup", params, headers={**user.headers, "Content-Type": "application/octet-stream"})
    put.content = stored
    exercise(world.api, put, expect_success)
    etag = exercise(
        world.api, Case(download, "setup", params, headers=dict(user.headers)), expect_success
    ).headers["etag"]
    for how, headers, status, body in download_probes(stored, etag):
        case = Case(download, f"boundary: {how}", params, headers={**user.headers, **headers})
        response = exercise(world.api, case, expect_status(status))
        assert body is None or response.content == body, f"{how}: {response.content!r} != {body!r}"


def test_verification_codes_of_each_shape(world: World) -> None:
    """The code's pattern (six digits) at and past its length, a wrong code of the right shape (401, with
    its challenge), then the right one, on one real challenge."""
    verify = next(op for op in OPERATIONS if op.operation_id == "auth-verify-code")
    body = world.special_body(verify)
    right = str(body["code"])
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    probes: list[tuple[str, str, Check]] = [
        ("5 digits", right[:5], expect_client_error),
        ("7 digits", right + "0", expect_client_error),
        ("a letter among digits", right[:5] + "a", expect_client_error),
        ("a wrong code", wrong, expect_status(401)),
        ("the right code", right, expect_success),
    ]
    for how, code, outcome in probes:
        case = Case(verify, f"boundary: code {how}", json_body={**body, "code": code}, has_json_body=True)
        exercise(world.api, case, outcome)
