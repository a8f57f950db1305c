"""Request bodies built from the app's own Pydantic schemas (polyfactory), for tests that need *a* valid
body rather than particular values.

A factory knows each schema's types and length bounds; what it cannot read from the schema (the URL and
email validators, the tags merged after lower-casing) is given below. `valid(Factory, **overrides)` is
the JSON a client would send: the refused cases of tests/schema_cases.py start from one and break a
single field, so each case differs from a body the service accepts in exactly the field it names.
Seeded: every process (each xdist worker, the controller) builds the same values in the same order, so
collection-time tables agree across workers.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from faker import Faker
from polyfactory import Use
from polyfactory.factories.pydantic_factory import ModelFactory
from pydantic import BaseModel

from app.schemas import MarkCreate, MarkPatch, OtpRequest, OtpVerify, TokenCreate, UserPatch

Json = dict[str, Any]
_SEED = 18
_faker = Faker()
_faker.seed_instance(_SEED)

T = TypeVar("T", bound=BaseModel)


class _Body(ModelFactory[T], Generic[T]):
    __is_base_factory__ = True
    __random_seed__ = _SEED
    # Optional fields are sent, not left out at random: a case that breaks one must find the others set.
    __allow_none_optionals__ = False


def _url() -> str:
    # The lattice's hosts: the ingestion worker only normalises the URL, it never fetches it.
    return f"https://{_faker.hexify('^' * 8)}.example/{_faker.uri_path()}"


def _tags() -> list[str]:
    # Already lower-case and distinct: what the service echoes is what was sent.
    return list(dict.fromkeys(word.lower() for word in _faker.words(3)))


class MarkCreateFactory(_Body[MarkCreate]):
    url = Use(_url)
    tags = Use(_tags)


class MarkPatchFactory(_Body[MarkPatch]):
    url = Use(_url)
    tags = Use(_tags)


class TokenCreateFactory(_Body[TokenCreate]):
    pass


class UserPatchFactory(_Body[UserPatch]):
    pass


class OtpRequestFactory(_Body[OtpRequest]):
    # The reserved `.test` domain the lattice's users live on (the email validator admits it).
    email = Use(lambda: f"{_faker.user_name()}-{_faker.hexify('^' * 6)}@example.test")


class OtpVerifyFactory(_Body[OtpVerify]):
    pass


def valid(factory: type[ModelFactory[T]], **overrides: Any) -> Json:
    """A body the service accepts, as JSON, with `overrides` built in (validated by the schema)."""
    body: Json = factory.build(**overrides).model_dump(mode="json", exclude_unset=False)
    return body
