"""Defect class `parsed_inputs`: no value of anything the service parses gets a 5xx or drops the connection.

Over every operation of the document (`swept("parsed_inputs")`, enumerated at run time), from its valid
request (`tools.lattice.engines.race.requests_for`), Hypothesis replaces one input at a time with an odd value
(`tools.lattice.engines.race.odd_values`: arbitrary text, Unicode digits like '²' and '١٢', numbers that are
not, those in the shapes parsed values take, base64 tokens holding JSON of the wrong type):

- every parameter the document lists for the operation (path, query, header);
- every header the service parses, on every operation (`PARSED_HEADERS`: a header is parsed by the
  server or a dependency before any route is chosen, or by the route; which, the sweep does not assume).

Each input is tried with `ODD_EXAMPLES` (and, when the document calls it a plain string, with opaque
tokens of one wrong-typed field each), then with `--race-parsed-examples` (default 5) random draws.
All go over one keep-alive connection: no answer may be a 5xx, and the next request on the same
connection must be answered, unless the server said `Connection: close` with its answer.
"""

from __future__ import annotations

import re
import socket
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tools.lattice.chain.document import load_committed, resolve
from tools.lattice.engines.contract import Operation
from tools.lattice.engines.race import rawhttp
from tools.lattice.engines.race.classes import record, swept
from tools.lattice.engines.race.odd_values import ODD_EXAMPLES, ODD_VALUES, opaque_examples
from tools.lattice.engines.race.options import RaceOptions
from tools.lattice.engines.race.requests_for import Built, RequestBuilder
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice

pytestmark = pytest.mark.live

CLASS = "parsed_inputs"
OPERATIONS = swept(CLASS)

# Headers the service reads (the server's framing, auth, conditional and ranged downloads, media types).
PARSED_HEADERS = ("Content-Length", "Authorization", "Range", "If-Range", "If-None-Match", "Content-Type")
# Bytes a header field value cannot carry (RFC 9110 5.5: CTLs but HTAB, and DEL): left out of values.
_NOT_IN_A_FIELD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_ASCII_DIGITS = re.compile(r"^[0-9]+$")
LARGEST_SENT_BODY = 65536


def _inputs(op: Operation) -> list[tuple[str, str]]:
    documented = [(p["in"], p["name"]) for p in op.spec.get("parameters", []) if p["in"] != "cookie"]
    named = {name.lower() for where, name in documented if where == "header"}
    return documented + [("header", h) for h in PARSED_HEADERS if h.lower() not in named]


def _request(built: Built, where: str, name: str, value: str) -> bytes | None:
    """`built` as bytes, with input `name` (in `where`) set to `value` (None: a Content-Length the
    framing takes but too long to send here)."""
    params = dict(built.path_params)
    query = dict(built.query)
    headers = dict(built.headers)
    body = built.body or b""
    odd_header: bytes | None = None
    if where == "path":
        params[name] = quote(value, safe="")
    elif where == "query":
        query[name] = value
    else:
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        odd_header = _NOT_IN_A_FIELD.sub(b"", _field_bytes(value)).strip(b" \t")
        if name.lower() == "content-length":
            stripped = odd_header.decode("latin-1")
            # A length the framing takes gets that many bytes; any other is the server's to refuse.
            length = int(stripped) if _ASCII_DIGITS.match(stripped) else 0
            if length > LARGEST_SENT_BODY:
                return None
            body = b"x" * length
    target = built.operation.url(params) + (f"?{urlencode(query)}" if query else "")
    if body and not (odd_header is not None and name.lower() == "content-length"):
        headers["Content-Length"] = str(len(body))
    head = rawhttp.head(built.method, target, headers)
    if odd_header is not None:
        head = head[:-2] + name.encode() + b": " + odd_header + b"\r\n\r\n"
    return head + body


def _field_bytes(value: str) -> bytes:
    """A header value as bytes the server decodes back to `value` (latin-1, as HTTP servers decode
    fields), or its UTF-8 bytes when it has characters latin-1 lacks."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


class Connection:
    """One keep-alive connection, reopened only after the server announced it would close.

    Each request is also the previous one's follow-up: when a reused connection gives no answer, the
    request is sent again on a fresh one; answered there, it was the previous request that left the
    connection unusable.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sock: socket.socket | None = None
        self.previous: str | None = None  # what the last request on the open connection was
        self.requests = 0

    def ask(self, data: bytes, shown: str) -> rawhttp.RawResponse:
        reused = self.sock is not None
        try:
            answer = self._send(data)
        except (rawhttp.Closed, TimeoutError, OSError) as exc:
            self.close()
            if not reused:
                raise AssertionError(f"{shown}: no answer, the connection dropped ({exc})") from None
            previous = self.previous
            try:
                self._send(data)
            except (rawhttp.Closed, TimeoutError, OSError):
                self.close()
                raise AssertionError(f"{shown}: no answer, the connection dropped ({exc})") from None
            raise AssertionError(
                f"{previous}; the next request on the same keep-alive connection got no answer ({exc})"
            ) from None
        if answer.headers.get("connection", "").lower() == "close":
            self.close()  # a clean refusal: the server said so with its answer
        else:
            self.previous = f"{shown}: answered {answer.status}"
        return answer

    def _send(self, data: bytes) -> rawhttp.RawResponse:
        if self.sock is None:
            self.sock = rawhttp.connect(self.base_url)
        self.requests += 1
        self.sock.sendall(data)
        return rawhttp.read_response(self.sock, timeout_s=15.0)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.previous = None


def _plain_string(param: dict[str, Any]) -> bool:
    """The document calls the parameter a string with no format or enum: an opaque token, maybe."""
    schema = resolve(param.get("schema", {}), load_committed())
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and not ({"format", "enum", "const"} & set(o)) for o in options)


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_no_odd_value_of_a_parsed_input_gets_a_5xx_or_drops_the_connection(
    op: Operation,
    live: httpx.Client,
    live_stack: LiveStack,
    lattice: WorkerLattice,
    race_options: RaceOptions,
) -> None:
    built = RequestBuilder(live, lattice.mailbox, prefix="parsed").build(op)
    opaque = {p["name"] for p in op.spec.get("parameters", []) if _plain_string(p)}
    connection = Connection(live_stack.base_url)

    def check(where: str, name: str, value: str) -> None:
        data = _request(built, where, name, value)
        if data is None:
            return
        shown = f"{op.method.upper()} {op.path} with {where} {name} = {value!r}"
        answer = connection.ask(data, shown)
        assert answer.status < 500, f"{shown}: answered {answer.status} {answer.body[:300]!r}"

    @settings(
        max_examples=race_options.parsed_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=ODD_VALUES)
    def drawn(where: str, name: str, value: str) -> None:
        check(where, name, value)

    inputs = _inputs(op)
    try:
        for where, name in inputs:
            for value in (*ODD_EXAMPLES, *(opaque_examples() if name in opaque else ())):
                check(where, name, value)
            drawn(where, name)
        # The last request's follow-up.
        connection.ask(rawhttp.head("GET", "/healthz", {}), "GET /healthz")
    finally:
        connection.close()
        record(CLASS, operations_swept=1, requests=connection.requests, inputs_swept=len(inputs))
