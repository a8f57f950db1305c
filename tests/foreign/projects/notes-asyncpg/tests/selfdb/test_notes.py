from __future__ import annotations

import pytest
from httpx import AsyncClient


async def test_a_note_is_created_and_read_back(client: AsyncClient) -> None:
    made = await client.post("/notes", json={"owner": "ada", "text": "hello"})
    assert made.status_code == 201
    got = await client.get(f"/notes/{made.json()['id']}")
    assert got.json() == {"id": made.json()["id"], "owner": "ada", "text": "hello"}


async def test_the_list_holds_exactly_the_notes_this_test_made(client: AsyncClient) -> None:
    # Every test's cleanup empties the table: on a database shared with another worker this fails.
    for n in range(5):
        await client.post("/notes", json={"owner": "bob", "text": f"note {n}"})
    listed = (await client.get("/notes")).json()
    assert [note["text"] for note in listed] == [f"note {n}" for n in range(5)]


async def test_the_list_filters_by_owner(client: AsyncClient) -> None:
    await client.post("/notes", json={"owner": "cy", "text": "mine"})
    await client.post("/notes", json={"owner": "di", "text": "theirs"})
    listed = (await client.get("/notes", params={"owner": "cy"})).json()
    assert [note["text"] for note in listed] == ["mine"]


async def test_an_empty_table_lists_nothing(client: AsyncClient) -> None:
    assert (await client.get("/notes")).json() == []


async def test_a_deleted_note_is_gone(client: AsyncClient) -> None:
    made = (await client.post("/notes", json={"owner": "ed", "text": "bye"})).json()
    assert (await client.delete(f"/notes/{made['id']}")).status_code == 204
    assert (await client.get(f"/notes/{made['id']}")).status_code == 404


async def test_a_missing_note_is_404(client: AsyncClient) -> None:
    assert (await client.get("/notes/999999")).status_code == 404
    assert (await client.delete("/notes/999999")).status_code == 404


@pytest.mark.parametrize("body", [{"owner": "", "text": "x"}, {"owner": "fy", "text": ""}, {"owner": "fy"}])
async def test_a_bad_note_is_422_and_stores_nothing(client: AsyncClient, body: dict[str, str]) -> None:
    assert (await client.post("/notes", json=body)).status_code == 422
    assert (await client.get("/notes")).json() == []


async def test_ids_are_assigned_by_the_database(client: AsyncClient) -> None:
    first = (await client.post("/notes", json={"owner": "gi", "text": "1"})).json()["id"]
    second = (await client.post("/notes", json={"owner": "gi", "text": "2"})).json()["id"]
    assert second > first
