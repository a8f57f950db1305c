"""The database tables. The schema itself is made by the Alembic migrations in app/migrations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, Column, DateTime, ForeignKey, Index, Text, Uuid
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


def _owner(table: str, *, primary_key: bool = False) -> Column[uuid.UUID]:
    # Deleting a user or a mark takes everything hanging off it in the same statement.
    return Column(
        Uuid,
        ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
        index=not primary_key,
    )


class IngestionStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    success = "success"
    failed = "failed"


# An ingestion still to be finished for its version: the worker may (re)claim it, the requeue loop resend it.
OPEN_INGESTION_STATUSES = (IngestionStatus.pending, IngestionStatus.processing)


class TokenKind(StrEnum):
    session = "session"
    api = "api"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    display_name: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(sa_column=_ts())


class OtpChallenge(SQLModel, table=True):
    __tablename__ = "otp_challenges"
    __table_args__ = (Index("ix_otp_challenges_email_created_at", "email", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    failed_attempts: int = Field(default=0)


class Token(SQLModel, table=True):
    __tablename__ = "tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_owner("users"))
    kind: TokenKind = Field(sa_type=SAEnum(TokenKind, native_enum=False, length=16))
    name: str | None = Field(default=None, max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Mark(SQLModel, table=True):
    __tablename__ = "marks"
    __table_args__ = (
        Index("ix_marks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_marks_tags", "tags", postgresql_using="gin"),
        CheckConstraint("url IS NOT NULL OR note IS NOT NULL", name="ck_marks_url_or_note"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Indexed by ix_marks_user_id_created_at_id, whose leading column it is.
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    url: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"

    mark_id: uuid.UUID = Field(sa_column=_owner("marks", primary_key=True))
    # The file on disk is named by this id alone: nothing a user sends ever becomes part of a path.
    blob_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    content_type: str = Field(max_length=255)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)


class Ingestion(SQLModel, table=True):
    __tablename__ = "ingestions"

    mark_id: uuid.UUID = Field(sa_column=_owner("marks", primary_key=True))
    status: IngestionStatus = Field(
        default=IngestionStatus.pending, sa_type=SAEnum(IngestionStatus, native_enum=False, length=16)
    )
    version: int = Field(default=1)
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    ingested_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    normalized_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    word_count: int | None = Field(default=None)
    title: str | None = Field(default=None, max_length=300)
    # When this version's message was handed to the broker; NULL while it still has to be sent (the
    # broker was down). The worker's requeue loop sends what is unsent or was lost in the broker.
    queued_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
