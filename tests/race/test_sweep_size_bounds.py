"""Defect class `size_bounds`: every part of a request a client sizes is bounded, and refused by the bound
before the excess is read.

Over every operation of the document (`swept("size_bounds")`, enumerated at run time), from its valid
request (`tools.lattice.race.requests_for`), each part grown three ways:

- just under its bound (at it), in one write: answered as usual (anything but 413/414/431, a 5xx or a
  close: a DELETE may answer 404 the second time, a sign-in 429);
- just over it (one byte), in one write: refused with its status (an exact bound, not "about");
- far over it (16 x, at least 8 MiB), sent in pieces: refused or closed before the client has sent it
  all (a server that reads the excess lets it all through: that is the finding).

The parts and bounds: the head, each header the request carries, the request line, the number of
headers, the trailers of a chunked body (`RETRACE_MAX_HEADER_BYTES`, 431; 414 or 431 for the request
line); a JSON body by Content-Length and chunked (`JSON_BODY_BOUND`, 413); an upload body by
Content-Length (`RETRACE_MAX_UPLOAD_BYTES`, 413; chunked uploads are 411). The API's RSS growth over
the whole sweep is recorded and bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tools.lattice.livestack import LiveStack
from tools.lattice.race import oversize
from tools.lattice.race.classes import record, swept
from tools.lattice.race.observe import rss_bytes
from tools.lattice.race.requests_for import Built, RequestBuilder
from tools.lattice.workerstate import WorkerLattice

pytestmark = pytest.mark.live

CLASS = "size_bounds"
OPERATIONS = swept(CLASS)

HEAD_BOUND = "max_header_bytes"
JSON_BODY_BOUND = "max_json_body_bytes"
UPLOAD_BOUND = "max_upload_bytes"
FAR_FACTOR = 16
FAR_AT_LEAST = 8 << 20
RSS_GROWTH_BOUND = 64 << 20
SIZE_REFUSALS = {413, 414, 431}


@dataclass(frozen=True)
class Part:
    name: str
    bound: str  # the app's setting that bounds it
    grow: Callable[[Built, int], oversize.Grown]
    refusals: frozenset[int]
    applies: Callable[[Built], bool]
    under: Callable[[int], int] = lambda bound: bound  # the size just under (at) the bound


def _always(built: Built) -> bool:
    return True


def _json(built: Built) -> bool:
    return built.operation.json_body_component is not None


def _upload(built: Built) -> bool:
    return built.operation.binary_body


def _header_parts(built: Built) -> list[Part]:
    return [
        Part(
            f"header {name}",
            HEAD_BOUND,
            lambda b, size, name=name: oversize.header_of(b, name, size),  # type: ignore[misc]
            frozenset({431}),
            _always,
        )
        for name in built.headers
    ]


PARTS = (
    Part("head", HEAD_BOUND, oversize.head_of, frozenset({431}), _always),
    Part("request line", HEAD_BOUND, oversize.request_line_of, frozenset({414, 431}), _always),
    Part("number of headers", HEAD_BOUND, oversize.header_count_of, frozenset({431}), _always),
    # Half the bound under: whether trailers share the head's bytes or have their own, half is fine.
    Part("trailers", HEAD_BOUND, oversize.trailers_of, frozenset({431}), _always, lambda bound: bound // 2),
    Part("JSON body", JSON_BODY_BOUND, oversize.body_of, frozenset({413}), _json),
    Part(
        "JSON body, chunked",
        JSON_BODY_BOUND,
        lambda b, size: oversize.body_of(b, size, chunked=True),
        frozenset({413}),
        _json,
    ),
    Part("upload body", UPLOAD_BOUND, oversize.body_of, frozenset({413}), _upload),
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
        for name in (HEAD_BOUND, JSON_BODY_BOUND, UPLOAD_BOUND)
        if name not in fields
    ]
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
                under = oversize.exactly(base_url, part.grow(built, part.under(bound)))
                over = oversize.exactly(base_url, part.grow(built, bound + 1))
                requests += 2
                if not _accepted(under):
                    findings.append(f"{where} at its bound ({bound}) not answered as usual: {under.shown()}")
                if over.status not in part.refusals:
                    findings.append(
                        f"{where} one byte over {part.bound}={bound}: {over.shown()}, "
                        f"not {sorted(part.refusals)}"
                    )
            far = max(FAR_FACTOR * (bound or 0), FAR_AT_LEAST)
            outcome = oversize.streamed(base_url, part.grow(built, far), set(part.refusals))
            requests += 1
            if outcome.finished or not (outcome.status in part.refusals or outcome.closed):
                findings.append(f"{where} of {far} bytes: {outcome.shown()}, not refused before the end")
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
