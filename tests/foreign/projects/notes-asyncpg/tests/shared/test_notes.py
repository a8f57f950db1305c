from __future__ import annotations

from httpx import AsyncClient


async def test_notes_round_trip(client: AsyncClient) -> None:
    made = await client.post("/notes", json={"owner": "ada", "text": "hello"})
    assert made.status_code == 201
    assert (await client.get(f"/notes/{made.json()['id']}")).json()["text"] == "hello"


async def test_the_table_holds_only_this_tests_notes(client: AsyncClient) -> None:
    # Every test's cleanup empties the table: in a schema shared with another worker this fails.
    for n in range(5):
        await client.post("/notes", json={"owner": "bob", "text": f"note {n}"})
    assert [n["text"] for n in (await client.get("/notes")).json()] == [f"note {n}" for n in range(5)]


async def test_an_owner_sees_only_their_notes(client: AsyncClient) -> None:
    await client.post("/notes", json={"owner": "cy", "text": "mine"})
    await client.post("/notes", json={"owner": "di", "text": "theirs"})
    assert [n["text"] for n in (await client.get("/notes", params={"owner": "cy"})).json()] == ["mine"]


async def test_deleting_twice_is_404_the_second_time(client: AsyncClient) -> None:
    made = (await client.post("/notes", json={"owner": "ed", "text": "bye"})).json()
    assert (await client.delete(f"/notes/{made['id']}")).status_code == 204
    assert (await client.delete(f"/notes/{made['id']}")).status_code == 404


async def test_nothing_is_listed_at_first(client: AsyncClient) -> None:
    assert (await client.get("/notes")).json() == []
