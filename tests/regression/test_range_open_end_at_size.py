"""A range starting at the end of an attachment answered 200 with the whole body instead of 416.

What broke: app/ranges.py `parse_range` filled in the open end of `bytes=a-` as `size - 1` before checking
the start, so a start at (or past) the end gave `end < start` — the rule for an invalid range-spec (ignore
the header) rather than for an unsatisfiable one.

How it showed: `GET /v1/marks/{id}/attachment` with `Range: bytes=1000-` on a 1000-byte attachment
answered 200 and the whole body; api.md (and RFC 9110) want 416 with `Content-Range: bytes */1000`. Found
by tests/integration/test_attachments.py::test_unsatisfiable_range_is_416.

What fixed it: only an explicit `last < first` is an invalid spec; `start >= size` is checked before the
open end is filled in — commit 79f7546.

Locked reproduction: a 1000-byte attachment read with `bytes=1000-` and `bytes=1500-` (416), beside the
neighbours that must keep working: `bytes=999-` (206, last byte) and `bytes=5-2` (ignored: 200, whole
body). Checked: with 79f7546 reverted in a scratch copy this case fails; with it, it passes.
"""

from __future__ import annotations

import httpx
import pytest

from tools.lattice.seam.accounts import SignedInUser

SIZE = 1000


@pytest.fixture
def attachment_path(api: httpx.Client, user: SignedInUser) -> str:
    mark = api.post("/v1/marks", json={"note": "ranges"}, headers=user.headers)
    assert mark.status_code == 201, mark.text
    path = f"/v1/marks/{mark.json()['id']}/attachment"
    body = bytes(i % 251 for i in range(SIZE))
    stored = api.put(path, content=body, headers={**user.headers, "Content-Type": "application/octet-stream"})
    assert stored.status_code == 200, stored.text
    return path


@pytest.mark.parametrize("start", [SIZE, SIZE + 500])
def test_open_range_from_the_end_is_unsatisfiable(
    api: httpx.Client, user: SignedInUser, attachment_path: str, start: int
) -> None:
    response = api.get(attachment_path, headers={**user.headers, "Range": f"bytes={start}-"})
    assert response.status_code == 416, (response.status_code, len(response.content))
    assert response.headers["content-range"] == f"bytes */{SIZE}"


def test_neighbouring_ranges_still_work(api: httpx.Client, user: SignedInUser, attachment_path: str) -> None:
    last = api.get(attachment_path, headers={**user.headers, "Range": f"bytes={SIZE - 1}-"})
    assert last.status_code == 206
    assert last.content == bytes([(SIZE - 1) % 251])
    assert last.headers["content-range"] == f"bytes {SIZE - 1}-{SIZE - 1}/{SIZE}"
    invalid = api.get(attachment_path, headers={**user.headers, "Range": "bytes=5-2"})
    assert invalid.status_code == 200
    assert len(invalid.content) == SIZE
