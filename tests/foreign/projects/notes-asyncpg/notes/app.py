from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notes.db import get_session
from notes.models import Note

app = FastAPI(title="notes")
Session = Annotated[AsyncSession, Depends(get_session)]


class NoteIn(BaseModel):
    owner: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)


class NoteOut(NoteIn):
    id: int


@app.post("/notes", status_code=201)
async def create_note(body: NoteIn, session: Session) -> NoteOut:
    note = Note(owner=body.owner, text=body.text)
    session.add(note)
    await session.commit()
    return NoteOut(id=note.id, owner=note.owner, text=note.text)


@app.get("/notes")
async def list_notes(session: Session, owner: str | None = None) -> list[NoteOut]:
    query = select(Note).order_by(Note.id)
    if owner is not None:
        query = query.where(Note.owner == owner)
    rows = (await session.scalars(query)).all()
    return [NoteOut(id=n.id, owner=n.owner, text=n.text) for n in rows]


@app.get("/notes/{note_id}")
async def get_note(note_id: int, session: Session) -> NoteOut:
    note = await session.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="no such note")
    return NoteOut(id=note.id, owner=note.owner, text=note.text)


@app.delete("/notes/{note_id}", status_code=204)
async def delete_note(note_id: int, session: Session) -> Response:
    note = await session.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="no such note")
    await session.delete(note)
    await session.commit()
    return Response(status_code=204)
