"""Defect class `size_bounds`: every part of a request a client sizes is bounded, and refused by the bound
before the excess is read.

Over every operation of the document (`swept("size_bounds")`, enumerated at run time), from its valid
request (`tools.lattice.engines.race.requests_for`), each part grown three ways:

- at its bound, in one write: answered as usual (anything but 413/414/431, a 5xx or a
  close: a DELETE may answer 404 the second time, a sign-in 429);
- just over it (one byte), in one write: refused with its status (an exact bound, not "about");
- far over it (16 x, at least 8 MiB), sent in pieces: refused or closed before the client has sent it
  all (a server that reads the excess lets it all through: that is the finding).

The parts, their bounds (the app's settings, read from it) and refusals (docs/api.md): the head, every
CRLF counted (`max_header_bytes`, 431); the request line (`max_request_line_bytes`, 414); each header
the request carries, as one line (`max_header_field_bytes`, 431); the number of header lines
(`max_header_count`, 431); a chunked body's trailer section, one trailer line, the number of trailer
lines (the same three, 431); a JSON body by Content-Length and chunked (`max_json_body_bytes`, 413); an
upload body (`max_upload_bytes`, 413). A grown request stays within every bound but its own, so the
refusal is the part's. The API's RSS growth over the whole sweep is recorded and bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tools.lattice.engines.race import oversize
from tools.lattice.engines.race.classes import record, swept
from tools.lattice.engines.race.observe import rss_bytes
from tools.lattice.engines.race.requests_for import Built, RequestBuilder
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice

pytestmark = pytest.mark.live

CLASS = "size_bounds"
OPERATIONS = swept(CLASS)

# The app's settings for each bound (app/settings.py; docs/api.md says what each refuses with).
HEAD = "max_header_bytes"
REQUEST_LINE = "max_request_line_bytes"
FIELD = "max_header_field_bytes"
COUNT = "max_header_count"
JSON_BODY = "max_json_body_bytes"
UPLOAD = "max_upload_bytes"
FAR_FACTOR = 16
FAR_AT_LEAST = 8 << 20  # bytes: more than the kernel buffers between the client and the server
RSS_GROWTH_BOUND = 64 << 20
SIZE_REFUSALS = {413, 414, 431}

Grow = Callable[[Built, int, oversize.HeadBounds], oversize.Grown]


@dataclass(frozen=True)
class Part:
    name: str
    bound: str  # the app's setting that bounds it
    grow: Grow
    refusals: frozenset[int]
    applies: Callable[[Built], bool]
    unit_bytes: int = 1  # bytes one unit of the bound takes (a header line for a count)


def _always(built: Built) -> bool:
    return True


def _json(built: Built) -> bool:
    return built.operation.json_body_component is not None


def _upload(built: Built) -> bool:
    return built.operation.binary_body


def _body(chunked: bool) -> Grow:
    return lambda built, size, bounds: oversize.body_of(built, size, chunked=chunked)


def _header(name: str) -> Grow:
    return lambda built, size, bounds: oversize.header_of(built, name, size, bounds)


def _header_parts(built: Built) -> list[Part]:
    """One part per header the operation's request carries."""
    return [Part(f"header {name}", FIELD, _header(name), frozenset({431}), _always) for name in built.headers]


PARTS = (
    Part("head", HEAD, oversize.head_of, frozenset({431}), _always),
    Part("request line", REQUEST_LINE, oversize.request_line_of, frozenset({414}), _always),
    Part("number of headers", COUNT, oversize.header_count_of, frozenset({431}), _always, 6),
    Part("trailer section", HEAD, oversize.trailers_of, frozenset({431}), _always),
    Part("trailer line", FIELD, oversize.trailer_field_of, frozenset({431}), _always),
    Part("number of trailers", COUNT, oversize.trailer_count_of, frozenset({431}), _always, 6),
    Part("JSON body", JSON_BODY, _body(chunked=False), frozenset({413}), _json),
    Part("JSON body, chunked", JSON_BODY, _body(chunked=True), frozenset({413}), _json),
    Part("upload body", UPLOAD, _body(chunked=False), frozenset({413}), _upload),
)


def _head_bounds(settings: Any) -> oversize.HeadBounds:
    head = int(settings.max_header_bytes)
    return oversize.HeadBounds(
        head=head,
        request_line=int(getattr(settings, REQUEST_LINE, head)),
        field=int(getattr(settings, FIELD, head)),
        count=int(getattr(settings, COUNT, head // 4)),
    )


def _accepted(outcome: oversize.Outcome) -> bool:
    status = outcome.status
    return status is not None and not outcome.closed and status < 500 and status not in SIZE_REFUSALS


def test_every_part_of_every_operation_is_refused_past_its_bound(
    live: httpx.Client, live_stack: LiveStack, lattice: WorkerLattice
) -> None:
    settings = live_stack.settings
    fields = type(settings).model_fields
    findings = [
        f"the app has no setting {name}: nothing bounds that part of a request"
        for name in (HEAD, REQUEST_LINE, FIELD, COUNT, JSON_BODY, UPLOAD)
        if name not in fields
    ]
    bounds = _head_bounds(settings)
    base_url = live_stack.base_url
    pid = live_stack.processes["api"].pid
    builder = RequestBuilder(live, lattice.mailbox, prefix="size")
    requests = 0
    rss_before = rss_bytes(pid)
    for op in OPERATIONS:
        built = builder.build(op)
        for part in (*PARTS, *_header_parts(built)):
            if not part.applies(built):
                continue
            where = f"{op.operation_id}: {part.name}"
            bound: int | None = getattr(settings, part.bound, None)
            if bound is not None:
                under = oversize.exactly(base_url, part.grow(built, bound, bounds))
                over = oversize.exactly(base_url, part.grow(built, bound + 1, bounds))
                requests += 2
                if not _accepted(under):
                    findings.append(f"{where} at its bound ({part.bound}={bound}): {under.shown()}")
                if over.status not in part.refusals:
                    findings.append(
                        f"{where} one past {part.bound}={bound}: {over.shown()}, not {sorted(part.refusals)}"
                    )
            far = max(FAR_FACTOR * (bound or 0), FAR_AT_LEAST // part.unit_bytes)
            outcome = oversize.streamed(base_url, part.grow(built, far, bounds), set(part.refusals))
            requests += 1
            if outcome.finished or not (outcome.status in part.refusals or outcome.closed):
                findings.append(f"{where} at {far}: {outcome.shown()}, not refused before the end")
    rss_growth = rss_bytes(pid) - rss_before
    alive = live.get("/healthz").status_code
    record(
        CLASS,
        operations_swept=len(OPERATIONS),
        requests=requests,
        rss_growth_bytes=rss_growth,
        leftovers=[f"API RSS grew {rss_growth >> 20} MiB"] if rss_growth > RSS_GROWTH_BOUND else [],
    )
    assert alive == 200, "the API must survive the sweep"
    if rss_growth > RSS_GROWTH_BOUND:
        findings.append(f"the API's RSS grew by {rss_growth >> 20} MiB (bound {RSS_GROWTH_BOUND >> 20} MiB)")
    assert not findings, f"size bounds ({len(findings)} finding(s)):\n" + "\n".join(findings)
