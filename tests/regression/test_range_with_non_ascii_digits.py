"""`Range: bytes=²-` answered 500.

What broke: app/ranges.py `parse_range` checked a byte position with `str.isdigit()`, which is true for
"²", "³" and "¹" (Latin-1 header bytes 0xB2, 0xB3, 0xB9, which Starlette decodes to those characters),
then converted it with `int()`, which refuses them: an unhandled ValueError, a 500. The same check and
conversion broke on a position of more than 4300 digits (Python's int conversion limit), and the upload's
`Content-Length` was read the same way. Found by grey-box probing (issue 26, defect 7).

What fixed it: one reader of client numbers, `app.numerals.whole_number` (ASCII digits only, anything
past 10**18 read as 10**18), used by the Range parser and the upload's Content-Length; a position that is
not ASCII digits makes the Range nonsense, which is ignored (200, whole body), as for any other.

Locked reproduction, over a real port (the in-process client re-encodes a Latin-1 header as UTF-8, so
"²" would arrive as "Â²"): a 100-byte attachment read with superscript, 5000-digit and ordinary ranges.
Checked: with the fix reverted (app/ranges.py as before) every superscript and 5000-digit case answers
500 and this case fails; with it, it passes. (A "²" Content-Length, read the same way, is refused by the
server's HTTP parser before the app sees it; tests/unit/test_parsers_are_total.py covers its reader.)
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.flows import assert_problem, create_mark
from tools.lattice.live.stack import LiveStack
from tools.lattice.seam.accounts import SignedInUser

SIZE = 100
BODY = bytes(range(SIZE))


@pytest.fixture
def live(live_stack: LiveStack) -> Iterator[httpx.Client]:
    with live_stack.client() as client:
        yield client


@pytest.fixture
def attachment_path(live: httpx.Client, user: SignedInUser) -> str:
    path = f"/v1/marks/{create_mark(live, user.headers, note='ranges')['id']}/attachment"
    stored = live.put(
        path, content=BODY, headers={**user.headers, "Content-Type": "application/octet-stream"}
    )
    assert stored.status_code == 200, stored.text
    return path


def _get(live: httpx.Client, user: SignedInUser, path: str, spec: str) -> httpx.Response:
    # Bytes, so the Latin-1 octets go out as a client on the wire sends them.
    headers = {name.encode(): value.encode() for name, value in user.headers.items()}
    return live.get(path, headers={**headers, b"Range": spec.encode("latin-1")})


@pytest.mark.parametrize(
    "spec", ["bytes=²-", "bytes=-²", "bytes=1-³", "bytes=¹²-"], ids=["first", "suffix", "last", "two"]
)
def test_a_range_with_superscript_digits_is_ignored(
    live: httpx.Client, user: SignedInUser, attachment_path: str, spec: str
) -> None:
    response = _get(live, user, attachment_path, spec)
    assert response.status_code == 200, (response.status_code, response.text[:200])
    assert response.content == BODY
    assert live.get("/v1/me", headers=user.headers).status_code == 200


@pytest.mark.parametrize("spec", ["bytes=0-" + "9" * 5000, "bytes=-" + "9" * 5000], ids=["last", "suffix"])
def test_a_5000_digit_end_reaches_the_last_byte(
    live: httpx.Client, user: SignedInUser, attachment_path: str, spec: str
) -> None:
    response = _get(live, user, attachment_path, spec)
    assert response.status_code == 206, (response.status_code, response.text[:200])
    assert response.content == BODY


def test_a_5000_digit_start_is_unsatisfiable(
    live: httpx.Client, user: SignedInUser, attachment_path: str
) -> None:
    response = _get(live, user, attachment_path, "bytes=" + "9" * 5000 + "-")
    assert_problem(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == f"bytes */{SIZE}"


def test_ascii_ranges_still_work(live: httpx.Client, user: SignedInUser, attachment_path: str) -> None:
    response = _get(live, user, attachment_path, "bytes=2-4")
    assert response.status_code == 206
    assert response.content == BODY[2:5]
