"""The contract suite's machinery: operations read from the committed document, requests as `Case`s,
and schemathesis-style checks (one small named function per property of a response), validated with
openapi-core.

A failing check raises `ContractFailure`, whose message names the check, the operation and a request
that reproduces it (secrets redacted).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas31_schema_casters_factory
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types import MediaTypeDeserializersFactory
from openapi_core.deserializing.media_types import (
    media_type_deserializers as default_media_type_deserializers,
)
from openapi_core.deserializing.media_types.datatypes import MediaTypeDeserializersDict
from openapi_core.validation.response.exceptions import MissingData
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tools.lattice.chain.document import load_committed, resolve

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_SECRET_HEADERS = {"authorization", "cookie"}
_BODY_SHOWN = 600


# ---- operations, straight from the committed document


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    spec: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def secured(self) -> bool:
        return bool(self.spec.get("security"))

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    @property
    def statuses(self) -> set[str]:
        return set(self.spec["responses"])

    @property
    def success_statuses(self) -> list[int]:
        return sorted(int(s) for s in self.statuses if s.startswith("2"))

    @property
    def client_error_statuses(self) -> list[int]:
        return sorted(int(s) for s in self.statuses if s.startswith("4"))

    @property
    def body_media_types(self) -> list[str]:
        return list(self.spec.get("requestBody", {}).get("content", {}))

    @property
    def json_body_component(self) -> str | None:
        """The component name of the JSON request body, if the body is JSON."""
        media = self.spec.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None:
            return None
        ref: str = media["schema"]["$ref"]
        return ref.rsplit("/", 1)[-1]

    @property
    def binary_body(self) -> bool:
        content = self.spec.get("requestBody", {}).get("content", {})
        return any(m.get("schema", {}).get("format") == "binary" for m in content.values())

    @property
    def takes_input(self) -> bool:
        return bool(self.spec.get("parameters") or self.spec.get("requestBody"))

    def url(self, path_params: Mapping[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(path_params[m.group(1)]), self.path)

    def links(self) -> dict[str, dict[str, Any]]:
        """The OpenAPI links of its success responses: target operation id -> link object."""
        found: dict[str, dict[str, Any]] = {}
        for status, response in self.spec["responses"].items():
            if status.startswith("2"):
                for link in response.get("links", {}).values():
                    found[link["operationId"]] = link
        return found


def operations(document: Mapping[str, Any] | None = None) -> list[Operation]:
    """Every operation of the document, in document order."""
    doc = document if document is not None else load_committed()
    return [
        Operation(op["operationId"], method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


@cache
def _component_schemas() -> dict[str, dict[str, Any]]:
    doc = load_committed()
    return {name: resolve(schema, doc) for name, schema in doc["components"]["schemas"].items()}


def component_schema(name: str) -> dict[str, Any]:
    """A component schema of the committed document, `$ref`s inlined."""
    return _component_schemas()[name]


def creator_of(target: Operation, ops: list[Operation]) -> tuple[Operation, str, str] | None:
    """The operation whose link creates `target`'s path parameter: (creator, parameter, response pointer).

    A link that passes its own path parameter on (`$request.path.<name>`, e.g. upload -> download) is
    followed back to the operation that created that parameter.
    """
    for op in ops:
        link = op.links().get(target.operation_id)
        if link:
            ((parameter, expression),) = link["parameters"].items()
            if expression.startswith("$response.body#/"):
                return op, parameter, expression.removeprefix("$response.body#/")
            if expression.startswith("$request.path."):
                return creator_of(op, ops)
    return None


# ---- a request, replayable and printable


@dataclass
class Case:
    operation: Operation
    kind: str  # positive, negative:<how>, anonymous, revoked-token, other-user, ...
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    has_json_body: bool = False
    content: bytes | None = None
    stream: bool = False  # send `content` chunked, without Content-Length

    @property
    def url(self) -> str:
        return self.operation.url(self.path_params)

    def send(self, client: httpx.Client) -> httpx.Response:
        kwargs: dict[str, Any] = {"params": self.query or None, "headers": self.headers}
        if self.has_json_body:
            kwargs["json"] = self.json_body
        elif self.content is not None:
            body = self.content
            kwargs["content"] = iter([body]) if self.stream else body
        return client.request(self.operation.method.upper(), self.url, **kwargs)

    def reproduction(self) -> str:
        target = self.url + (f"?{urlencode(self.query, doseq=True)}" if self.query else "")
        shown = {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in self.headers.items()}
        lines = [f"  {self.operation.method.upper()} {target}", f"  headers: {shown}"]
        if self.has_json_body:
            lines.append(f"  json: {_clip(json.dumps(self.json_body, ensure_ascii=True))}")
        elif self.content is not None:
            chunked = ", chunked (no Content-Length)" if self.stream else ""
            lines.append(f"  body: {len(self.content)} bytes{chunked}: {_clip(repr(self.content[:200]))}")
        return "\n".join(lines)


def _shown_body(response: httpx.Response) -> str:
    """A body as a failure message can show it: text clipped, bytes of other media types counted."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media.startswith("text/") or media.endswith(("json", "+json")):
        return _clip(response.text)
    return f"<{len(response.content)} bytes of {media or 'no media type'}>"


def _clip(text: str) -> str:
    return text if len(text) <= _BODY_SHOWN else text[:_BODY_SHOWN] + f"... ({len(text)} chars)"


# ---- openapi-core adapters for httpx


class OpenAPIRequest:
    """An httpx request seen through openapi-core's Request protocol."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        url = request.url
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self._request.url.scheme}://{self._request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        try:
            return self._request.content or None
        except httpx.RequestNotRead:  # a streamed upload
            return None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "")).lower()


class OpenAPIResponse:
    """An httpx response seen through openapi-core's Response protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self._response.headers.items()))

    @property
    def data(self) -> bytes | None:
        return self._response.content or None


@cache
def _validator() -> OpenAPI:
    # problem+json is JSON (RFC 9457). Bodies openapi-core would hand over as raw bytes (attachments of any
    # media type, documented as `type: string, format: binary`) are read as latin-1 text: one character
    # per octet, so an OAS 3.1 string schema applies to them (bytes are not a JSON Schema string).
    deserializers: MediaTypeDeserializersDict = defaultdict(
        lambda: _octets_as_text,
        {
            **default_media_type_deserializers,
            "application/octet-stream": _octets_as_text,
            "application/problem+json": json.loads,
        },
    )
    factory = MediaTypeDeserializersFactory.from_schema_casters_factory(
        oas31_schema_casters_factory, media_type_deserializers=deserializers
    )
    # The committed document is validated by `nox -s spec` and the chain tests, not again in every worker.
    config = Config(media_type_deserializers_factory=factory, spec_validator_cls=None)
    return OpenAPI.from_dict(dict(load_committed()), config=config)


def _octets_as_text(value: bytes, **parameters: str) -> str:
    return value.decode("latin-1")


# ---- checks: each asserts one property of one response, and says which


class ContractFailure(AssertionError):
    pass


class CheckFailed(Exception):
    """Raised by a check with what it saw; the runner adds the check's name and the request."""


Check = Callable[[Case, httpx.Response], None]


def _documented(case: Case, response: httpx.Response) -> dict[str, Any] | None:
    responses = case.operation.spec["responses"]
    found: dict[str, Any] | None = responses.get(str(response.status_code)) or responses.get("default")
    return found


def not_a_server_error(case: Case, response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise CheckFailed(f"server error {response.status_code}: {_clip(response.text)}")


def status_code_conformance(case: Case, response: httpx.Response) -> None:
    if _documented(case, response) is None:
        documented = ", ".join(sorted(case.operation.statuses))
        raise CheckFailed(f"status {response.status_code} is not documented (documented: {documented})")


def _media_matches(actual: str, documented: str) -> bool:
    if documented in ("*/*", actual):
        return True
    major, _, minor = documented.partition("/")
    return minor == "*" and actual.startswith(major + "/")


def content_type_conformance(case: Case, response: httpx.Response) -> None:
    documented = _documented(case, response)
    if documented is None:
        return  # status_code_conformance reports it
    media_types = list(documented.get("content", {}))
    actual = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_types:
        if response.content:
            raise CheckFailed(f"{response.status_code} documents no body, got {len(response.content)} bytes")
        return
    if not actual:
        raise CheckFailed(f"{response.status_code} has no Content-Type (documented: {media_types})")
    if not any(_media_matches(actual, m) for m in media_types):
        raise CheckFailed(
            f"Content-Type {actual!r} is not documented for {response.status_code}: {media_types}"
        )


def response_schema_conformance(case: Case, response: httpx.Response) -> None:
    """Status, content type, headers and body against the document, by openapi-core."""
    if _documented(case, response) is None:
        return
    errors = [
        error
        for error in _validator().iter_response_errors(
            OpenAPIRequest(response.request), OpenAPIResponse(response)
        )
        if not (isinstance(error, MissingData) and _empty_binary(case, response))
    ]
    if errors:
        details = []
        for error in errors:
            causes = [str(getattr(c, "message", c)) for c in getattr(error, "schema_errors", [])]
            cause = getattr(error, "__cause__", None)
            if not causes and cause is not None:
                causes = [str(getattr(cause, "message", cause))]
                causes += [str(getattr(c, "message", c)) for c in getattr(cause, "schema_errors", [])]
            details.append(
                f"{error.__class__.__name__}: {error}" + (f" ({'; '.join(causes)})" if causes else "")
            )
        raise CheckFailed(_clip(" | ".join(details)) + f"; body: {_shown_body(response)}")


def _empty_binary(case: Case, response: httpx.Response) -> bool:
    """An empty body where the document says raw bytes (`format: binary`, or a media type with no schema:
    content the document does not describe): 0 bytes are bytes (a 0-byte attachment), which openapi-core
    reports as missing data."""
    documented = _documented(case, response) or {}
    media = list(documented.get("content", {}).values())
    return (
        response.content == b""
        and bool(media)
        and all(
            "schema" not in each
            or (each["schema"].get("format") == "binary" and not each["schema"].get("minLength"))
            for each in media
        )
    )


def problem_conformance(case: Case, response: httpx.Response) -> None:
    """An error is a problem body whose `status` is the response's status."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(f"{response.status_code} body is not JSON: {_clip(response.text)}") from None
    if not isinstance(body, dict) or body.get("status") != response.status_code or not body.get("code"):
        raise CheckFailed(f"not a problem body for {response.status_code}: {_clip(response.text)}")


def auth_challenge_header(case: Case, response: httpx.Response) -> None:
    if response.status_code == 401 and response.headers.get("www-authenticate", "").split(" ")[0] != "Bearer":
        raise CheckFailed("401 without `WWW-Authenticate: Bearer`")


ALL_CHECKS: tuple[Check, ...] = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_conformance,
    auth_challenge_header,
)


def expect_success(case: Case, response: httpx.Response) -> None:
    """positive_data_acceptance: valid input gets a documented 2xx."""
    if response.status_code not in case.operation.success_statuses:
        raise CheckFailed(
            f"valid input got {response.status_code}, expected {case.operation.success_statuses}: "
            f"{_clip(response.text)}"
        )


def expect_client_error(case: Case, response: httpx.Response) -> None:
    """negative_data_rejection: schema-breaking input gets a documented 4xx."""
    if response.status_code not in case.operation.client_error_statuses:
        raise CheckFailed(
            f"invalid input got {response.status_code}, expected one of "
            f"{case.operation.client_error_statuses}: {_clip(response.text)}"
        )


def expect_status(status: int) -> Check:
    def expected_status(case: Case, response: httpx.Response) -> None:
        if response.status_code != status:
            raise CheckFailed(f"expected {status}, got {response.status_code}: {_clip(response.text)}")

    expected_status.__name__ = f"expected_{status}"
    return expected_status


@dataclass
class CaseCounter:
    """How many cases this process sent, for the cases-per-second figure."""

    cases: int = 0
    failures: int = 0
    seconds: float = 0.0


COUNTER = CaseCounter()


def run_checks(
    case: Case, response: httpx.Response, *extra: Check, checks: tuple[Check, ...] = ALL_CHECKS
) -> None:
    """Apply every check; one ContractFailure naming each failed check, the operation and the request."""
    failed: list[str] = []
    for check in (*checks, *extra):
        try:
            check(case, response)
        except CheckFailed as exc:
            failed.append(f"[{check.__name__}] {exc}")
    if failed:
        COUNTER.failures += 1
        raise ContractFailure(
            f"{case.operation.operation_id} ({case.kind}) failed {len(failed)} check(s):\n"
            + "\n".join(f"  {line}" for line in failed)
            + f"\nreproduce with:\n{case.reproduction()}"
        )


def exercise(client: httpx.Client, case: Case, *extra: Check) -> httpx.Response:
    """Send the case, count it, and run every check (plus `extra`) on the response."""
    started = time.perf_counter()
    COUNTER.cases += 1
    try:
        response = case.send(client)
    except Exception as exc:  # an in-process client re-raises what the app raised (the 500 path)
        COUNTER.failures += 1
        raise ContractFailure(
            f"{case.operation.operation_id} ({case.kind}) failed 1 check(s):\n"
            f"  [not_a_server_error] the app raised {exc.__class__.__name__}: {_clip(str(exc))}"
            f"\nreproduce with:\n{case.reproduction()}"
        ) from exc
    try:
        run_checks(case, response, *extra)
    finally:
        COUNTER.seconds += time.perf_counter() - started
    return response


def iter_checks() -> Iterator[str]:
    yield from (c.__name__ for c in ALL_CHECKS)
