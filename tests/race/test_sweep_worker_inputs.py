"""What the worker is handed, swept over every operation that stores something the worker transforms
(`swept("worker_inputs")`, enumerated at run time: creating or changing a mark, uploading its bytes).

A table of hard cases, each carrying a unique ASCII marker:
- for a JSON operation, every free-text property of its body in turn gets each hard text (NUL first or
  inside, a lone surrogate, a BOM, line and paragraph separators, bare carriage returns, control and
  bidi characters, a single line as long as the schema allows, empty, blank, odd URLs), and the whole
  body is also sent in other encodings (UTF-16 with BOM, UTF-32, latin-1, UTF-8 with BOM); the other
  properties hold markers too, and the url a new one, so the change is ingested as a new version;
- for a binary operation, each hard byte string (UTF-16 with and without BOM, UTF-32, latin-1, NUL
  first / in the first line / only, a 1 MiB first line, invalid and overlong UTF-8 and encoded
  surrogates, empty, blank, binary, UTF-8 with BOM, bare CRs, Unicode separators, a title cut inside
  a multibyte character) under each of several content types (text and not).

Every request must be answered without a 5xx; every accepted one leaves a version that reaches
`success` or `failed` within its retries (RETRACE_INGEST_MAX_ATTEMPTS, the backoff settings), having
been claimed (delivered to the job) at most that many times; once final, nothing of it is left on the
queue; and no marker appears in the API's or the worker's log (no user content in logs, in any
encoding: NUL bytes and their escapes are removed before searching).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tools.lattice.engines.contract import Operation, component_schema
from tools.lattice.engines.race.classes import record, swept
from tools.lattice.engines.race.documented import Builder, marked_body, new_marker
from tools.lattice.engines.race.observe import LogTail, poll
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

pytestmark = pytest.mark.live

CLASS = "worker_inputs"
HUGE_LINE = 1024 * 1024

TextCase = Callable[[str, int], str]  # (marker, the property's maxLength) -> the value
TEXT_CASES: dict[str, TextCase] = {
    "NUL first": lambda m, n: f"\x00{m}",
    "NUL inside": lambda m, n: f"{m} a\x00b",
    "lone surrogate": lambda m, n: f"{m} \ud800 x",
    "BOM first": lambda m, n: f"\ufeff{m}",
    "line separators": lambda m, n: f"\u2028{m}\u2029x\x85y\x1cz",
    "bare carriage returns": lambda m, n: f"\r{m}\rx\r",
    "control characters": lambda m, n: f"\x01\x02{m}\x1b[31m\x7f",
    "bidi and joiners": lambda m, n: f"{m} e\u0301\u202eabc\u200d\u2066",
    "one line as long as allowed": lambda m, n: (m + " " + "a" * n)[:n],
    "one line of multibyte characters": lambda m, n: (m + " " + "\u00e9\U0001f600" * n)[:n],
    "empty": lambda m, n: "",
    "blank": lambda m, n: " \t\n\u3000 ",
    "url: IDN host": lambda m, n: f"https://\u4f8b\u3048.\u30c6\u30b9\u30c8/{m}",
    "url: port 0": lambda m, n: f"https://a.test:0/{m}",
    "url: space in userinfo": lambda m, n: f"https://us er:p@a.test/{m}",
    "url: IPv6 literal": lambda m, n: f"http://[::1]:8080/{m}",
    "url: unclosed IPv6 literal": lambda m, n: f"http://[::1/{m}",
    "url: escaped NUL": lambda m, n: f"https://a.test/{m}%00?utm_x=%00",
    "url: only utm parameters": lambda m, n: f"https://A.test:443/{m}?utm_a=1&UTM_b=2#frag",
    "url: no host": lambda m, n: f"https:///{m}",
}

BODY_ENCODINGS = ("utf-16", "utf-32", "latin-1", "utf-8-sig")

ByteCase = Callable[[bytes], bytes]
BYTE_CASES: dict[str, ByteCase] = {
    "UTF-16 with BOM": lambda m: f"{m.decode()} title\nsome words".encode("utf-16"),
    "UTF-16-LE without BOM": lambda m: f"{m.decode()} title\nsome words".encode("utf-16-le"),
    "UTF-32": lambda m: f"{m.decode()} title\nwords".encode("utf-32"),
    "latin-1": lambda m: f"Caf\u00e9 {m.decode()}\nr\u00e9sum\u00e9".encode("latin-1"),
    "NUL first": lambda m: b"\x00" + m + b"\nrest",
    "NUL in the first line": lambda m: m + b" a\x00b\nrest",
    "NUL only": lambda m: b"\x00" * 64 + m,
    "a 1 MiB first line": lambda m: m + b" " + b"a" * HUGE_LINE,
    "a long first line of multibyte characters": lambda m: (m.decode() + " " + "\u00e9" * 200_000).encode(),
    "invalid UTF-8": lambda m: m + b" \xff\xfe\xfd\n\xc3\x28",
    "overlong UTF-8 and encoded surrogates": lambda m: m + b" \xc0\xaf \xed\xa0\x80\n",
    "empty": lambda m: b"",
    "blank": lambda m: b" \n\t\r\n  " + m,
    "binary": lambda m: bytes(range(256)) * 64 + m,
    "UTF-8 with BOM": lambda m: b"\xef\xbb\xbf" + m + b"\nx",
    "bare carriage returns": lambda m: m + b"\rsecond\rthird",
    "Unicode separators": lambda m: ("\u2028" + m.decode() + "\u2029x\x85").encode(),
    "title cut inside a multibyte character": lambda m: (
        "\u00e9" * 299 + "\U0001f600" * 10 + m.decode()
    ).encode(),
}
CONTENT_TYPES = ("text/plain", "text/plain; charset=utf-16", "text/html", "application/octet-stream")

_INGESTIONS = text(
    "SELECT mark_id, version, status, attempts, error FROM ingestions WHERE mark_id = ANY(:ids)"
)


@dataclass
class Sent:
    case: str
    marker: str
    status: int
    mark_id: uuid.UUID | None = None


def _text_properties(component: str) -> list[tuple[str, int]]:
    """The properties of a body that may hold text, with their maxLength (or a large default)."""
    schema = component_schema(component)
    found = []
    for name, sub in schema.get("properties", {}).items():
        branches = sub.get("anyOf", [sub])
        strings = [b for b in branches if b.get("type") == "string"]
        if strings:
            found.append((name, int(strings[0].get("maxLength", 100_000))))
    return found


def _json_requests(op: Operation) -> list[tuple[str, str, bytes]]:
    """(case, marker, raw JSON body) for every property x text case and every body encoding."""
    component = op.json_body_component or ""
    requests = []
    for name, limit in _text_properties(component):
        for case, make in TEXT_CASES.items():
            marker = new_marker()
            body, _ = marked_body(component, marker)
            body[name] = make(marker, limit)
            requests.append((f"{name}: {case}", marker, json.dumps(body).encode()))
    for encoding in BODY_ENCODINGS:
        marker = new_marker()
        body, _ = marked_body(component, marker)
        for name, _ in _text_properties(component)[:1]:
            body[name] = f"{body[name]} caf\u00e9" if isinstance(body.get(name), str) else body.get(name)
        requests.append(
            (f"body in {encoding}", marker, json.dumps(body, ensure_ascii=False).encode(encoding))
        )
    return requests


def _mark_of(built_params: dict[str, str], response: httpx.Response) -> uuid.UUID | None:
    if built_params:
        return uuid.UUID(next(iter(built_params.values())))
    try:
        body: Any = response.json()
        return uuid.UUID(str(body["id"]))
    except (ValueError, KeyError, TypeError):
        return None


def _scrubbed(line: str) -> str:
    """A log line with NULs and their escapes removed, so a marker stored in UTF-16 is found too."""
    for noise in ("\\x00", "\x00", "\\u0000", "\\0"):
        line = line.replace(noise, "")
    return line


def test_worker_inputs_sweep(
    live: httpx.Client, live_stack: LiveStack, lattice: WorkerLattice, person: SignedInUser
) -> None:
    started = time.monotonic()
    ops = swept(CLASS)
    assert ops, "the document has no operation this class sweeps"
    settings = live_stack.settings
    logs = {name: LogTail(Path(live_stack.logs) / f"{name}.log") for name in ("api", "worker")}
    # Marks made for an upload have no title, so the attachment's first line is the one the worker takes.
    builder = Builder(live, lattice.mailbox, person, stored_bytes=16, fill=False)
    problems: list[str] = []
    sent: list[Sent] = []
    worst_bystander_s = 0.0

    def bystander() -> None:
        """Another request while the worker chews: answered, and how fast."""
        nonlocal worst_bystander_s
        asked = time.monotonic()
        seen = live.get("/v1/me", headers=person.headers)
        worst_bystander_s = max(worst_bystander_s, time.monotonic() - asked)
        if seen.status_code != 200:
            problems.append(f"a bystander's GET /v1/me answered {seen.status_code}")

    for op in ops:
        if op.json_body_component:
            for case, marker, body in _json_requests(op):
                built = builder.build(op)
                headers = {**built.headers, "Content-Type": "application/json"}
                response = live.request(op.method.upper(), built.path, content=body, headers=headers)
                sent.append(Sent(f"{op.operation_id} {case}", marker, response.status_code))
                if response.status_code < 300:
                    sent[-1].mark_id = _mark_of(built.params, response)
        elif op.binary_body:
            for case, make in BYTE_CASES.items():
                for content_type in CONTENT_TYPES:
                    marker = new_marker()
                    built = builder.build(op)
                    headers = {**built.headers, "Content-Type": content_type}
                    response = live.request(
                        op.method.upper(), built.path, content=make(marker.encode()), headers=headers
                    )
                    sent.append(
                        Sent(f"{op.operation_id} {case} as {content_type}", marker, response.status_code)
                    )
                    if response.status_code < 300:
                        sent[-1].mark_id = _mark_of(built.params, response)
    for item in sent:
        if item.status >= 500:
            problems.append(f"{item.case}: answered {item.status}")
    accepted = [item for item in sent if item.mark_id is not None]
    ids = [item.mark_id for item in accepted]

    # every accepted version reaches success or failed within its retries
    max_attempts = int(settings.ingest_max_attempts)
    budget_s = 15.0 + max_attempts * settings.ingest_max_backoff_ms / 1000

    def rows() -> dict[uuid.UUID, Any]:
        bystander()
        with lattice.engine.connect() as conn:
            return {r.mark_id: r for r in conn.execute(_INGESTIONS, {"ids": ids})}

    def all_final(seen: dict[uuid.UUID, Any]) -> bool:
        return all(r.status in ("success", "failed") for r in seen.values())

    try:
        seen = poll(rows, all_final, timeout_s=budget_s, what="every ingestion final")
    except AssertionError:
        seen = rows()
    by_mark = {item.mark_id: item for item in accepted}
    outcomes: dict[str, int] = {}
    for mark_id, row in seen.items():
        item = by_mark[mark_id]
        outcomes[row.status] = outcomes.get(row.status, 0) + 1
        if row.status not in ("success", "failed"):
            problems.append(
                f"{item.case}: ingestion v{row.version} still {row.status} after {budget_s:.0f}s"
                f" (attempts {row.attempts}, max {max_attempts})"
            )
        if row.attempts > max_attempts:
            problems.append(f"{item.case}: delivered {row.attempts} times, past its {max_attempts} attempts")
    if all_final(seen):
        settled = poll(lattice.worker.pending, lambda n: n == 0, timeout_s=5.0, what="the queue empty")
        again = rows()
        resent = [by_mark[m].case for m, r in again.items() if r.attempts != seen[m].attempts]
        if settled or resent:
            problems.append(f"delivered again after final: {resent} ({settled} on the queue)")

    # no user content in the logs
    markers = {item.marker: item.case for item in sent}
    leaked: dict[str, list[str]] = {}
    for name, tail in logs.items():
        for line in tail.take():
            clean = _scrubbed(line)
            for marker, case in markers.items():
                if marker in clean:
                    leaked.setdefault(name, []).append(case)
    for name, cases in leaked.items():
        unique = sorted(set(cases))
        problems.append(f"user content in the {name} log ({len(unique)} case(s)): {unique[:8]}")

    elapsed = time.monotonic() - started
    record(
        CLASS,
        operations_swept=len(ops),
        requests=len(sent),
        worst_bystander_latency_s=round(worst_bystander_s, 3),
        accepted=len(accepted),
        leftovers=[p for p in problems if "still" in p],
        problems=len(problems),
        seconds=round(elapsed, 1),
    )
    print(
        f"worker_inputs: {len(ops)} operations, {len(sent)} requests, {len(accepted)} accepted,"
        f" {outcomes}, {elapsed:.1f}s"
    )
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
