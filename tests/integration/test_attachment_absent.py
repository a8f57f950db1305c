"""A mark without an attachment: reading or deleting it says which thing is missing (the attachment,
not the mark)."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.flows import assert_problem, create_mark
from tools.lattice import SignedInUser


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_no_attachment_is_a_404_naming_the_attachment(
    api: httpx.Client, user: SignedInUser, method: str
) -> None:
    mark = create_mark(api, user.headers, note="no file")
    response = api.request(method, f"/v1/marks/{mark['id']}/attachment", headers=user.headers)
    assert_problem(response, 404, "not_found")
    assert response.json()["detail"] == "no such attachment"
