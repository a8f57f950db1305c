"""Latency per operation over a real port, 8 clients at once: p50/p95/p99, gate p95 <= 150 ms."""

from __future__ import annotations

import hashlib
import mailbox
import re
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.perf.conftest import Figures, seed_marks
from tools.lattice.engines.perf import budgets
from tools.lattice.engines.perf.load import Lap, LoadResult, run_load
from tools.lattice.live.stack import LiveStack
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import Mailbox, SignedInUser

CLIENTS = budgets.CLIENTS
KIB = 1024
MIB = 1024 * 1024
_CODE = re.compile(rb"^(\d{6})\r?$", re.MULTILINE)


def _calls(base: int, scale: float) -> int:
    return max(2, round(base * scale))


def _check(response: httpx.Response, status: int) -> httpx.Response:
    assert response.status_code == status, f"{response.request.method} {response.request.url.path}: " + (
        f"{response.status_code} {response.text[:200]}"
    )
    return response


def _record(figures: Figures, operation: str, result: LoadResult) -> None:
    assert not result.errors, f"{len(result.errors)} failed calls, first: {result.errors[0]}"
    summary = result.summary()
    figures["latency"][operation] = summary.as_dict()
    print(f"{operation}: {summary}")
    gate = budgets.p95_gate_ms(figures.get("wrk", {}).get("bare-get", {}).get("p95_ms"))
    assert summary.p95_ms <= gate, (
        f"{operation}: p95 {summary.p95_ms:.1f} ms is over the load-scaled gate of {gate:.0f} ms "
        f"({budgets.P95_GATE_MS:.0f} ms at the reference bare p95 {budgets.REFERENCE_BARE_P95_MS:.0f} ms)"
    )


class CodeReader:
    """Sign-in codes from the Maildir, reading each new message once (the box grows during the run)."""

    def __init__(self, box: Mailbox) -> None:
        self.new = box.directory / "new"
        self.codes: dict[str, str] = {}
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def code_for(self, email: str, timeout_s: float = 5.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            with self.lock:
                if email in self.codes:
                    return self.codes.pop(email)
                for name in set(p.name for p in self.new.iterdir()) - self.seen:
                    self.seen.add(name)
                    message = mailbox.MaildirMessage(Path(self.new / name).read_bytes())
                    body = message.get_payload(decode=True)
                    match = _CODE.search(body) if isinstance(body, bytes) else None
                    if match:
                        self.codes[str(message["To"]).lower()] = match.group(1).decode()
            assert time.monotonic() < deadline, f"no code for {email}"
            time.sleep(0.002)


def test_sign_in(stack: LiveStack, mailbox_live: Mailbox, figures: Figures, scale: float) -> None:
    """OTP request + verify (both requests timed; reading the Maildir between them is not)."""
    reader = CodeReader(mailbox_live)
    run = uuid.uuid4().hex[:8]

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        email = f"perf-{run}-{c}-{i}@example.test"
        with lap.timed():
            challenge = _check(client.post("/v1/auth/otp", json={"email": email}), 202).json()["challenge_id"]
        code = reader.code_for(email)
        with lap.timed():
            body = {"challenge_id": challenge, "code": code}
            _check(client.post("/v1/auth/otp/verify", json=body), 200)

    _record(
        figures,
        "sign-in",
        run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(15, scale)),
    )


def test_token_auth(stack: LiveStack, perf_user: SignedInUser, figures: Figures, scale: float) -> None:
    """GET /v1/me with an API token (hash lookup + last_used_at)."""

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        _check(client.get("/v1/me", headers=perf_user.api_headers), 200)

    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(40, scale))
    _record(figures, "token-auth", result)


def test_marks_create(stack: LiveStack, perf_user: SignedInUser, figures: Figures, scale: float) -> None:
    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        body = {"url": f"https://example.test/{c}/{i}", "note": "perf", "tags": ["Perf", "create"]}
        _check(client.post("/v1/marks", json=body, headers=perf_user.headers), 201)

    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(40, scale))
    _record(figures, "marks-create", result)


def test_marks_list(
    stack: LiveStack, perf_user: SignedInUser, lattice: WorkerLattice, figures: Figures, scale: float
) -> None:
    """A page of 20 from a user with at least 100 marks, every other call on a cursor."""
    seed_marks(lattice.engine, perf_user.id, 100, label="list")
    with stack.client() as client:
        cursor = _check(client.get("/v1/marks", headers=perf_user.headers), 200).json()["next_cursor"]
    assert cursor

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        params = {"limit": "20", **({"cursor": cursor} if i % 2 else {})}
        page = _check(client.get("/v1/marks", params=params, headers=perf_user.headers), 200).json()
        assert len(page["items"]) == 20

    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(40, scale))
    _record(figures, "marks-list", result)


def _seeded_per_client(
    lattice: WorkerLattice, user: SignedInUser, per_client: int, label: str
) -> list[list[str]]:
    ids = [str(i) for i in seed_marks(lattice.engine, user.id, CLIENTS * per_client, label=label)]
    return [ids[c * per_client : (c + 1) * per_client] for c in range(CLIENTS)]


def test_marks_get(
    stack: LiveStack, perf_user: SignedInUser, lattice: WorkerLattice, figures: Figures, scale: float
) -> None:
    mine = _seeded_per_client(lattice, perf_user, 10, "get")

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        _check(client.get(f"/v1/marks/{mine[c][i % 10]}", headers=perf_user.headers), 200)

    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(40, scale))
    _record(figures, "marks-get", result)


def test_marks_patch(
    stack: LiveStack, perf_user: SignedInUser, lattice: WorkerLattice, figures: Figures, scale: float
) -> None:
    """Title and tags (no URL change, so no new ingestion version)."""
    mine = _seeded_per_client(lattice, perf_user, 10, "patch")

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        body = {"title": f"title {i}", "tags": ["patched", f"n{i % 5}"]}
        _check(client.patch(f"/v1/marks/{mine[c][i % 10]}", json=body, headers=perf_user.headers), 200)

    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(40, scale))
    _record(figures, "marks-patch", result)


def test_marks_delete(
    stack: LiveStack, perf_user: SignedInUser, lattice: WorkerLattice, figures: Figures, scale: float
) -> None:
    calls, warmup = _calls(40, scale), 2
    mine = _seeded_per_client(lattice, perf_user, calls + warmup, "delete")

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        _check(client.delete(f"/v1/marks/{mine[c][i + warmup]}", headers=perf_user.headers), 204)

    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=calls, warmup_per_client=warmup)
    _record(figures, "marks-delete", result)


SIZES = {"1KiB": KIB, "1MiB": MIB}


@pytest.mark.parametrize("size", list(SIZES))
def test_attachment_upload(
    stack: LiveStack,
    perf_user: SignedInUser,
    lattice: WorkerLattice,
    figures: Figures,
    scale: float,
    size: str,
) -> None:
    payload = uuid.uuid4().bytes * (SIZES[size] // 16)
    mine = _seeded_per_client(lattice, perf_user, 4, f"upload{size}")
    headers = {**perf_user.headers, "Content-Type": "application/octet-stream"}
    digest = hashlib.sha256(payload).hexdigest()

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        path = f"/v1/marks/{mine[c][i % 4]}/attachment"
        assert _check(client.put(path, content=payload, headers=headers), 200).json()["sha256"] == digest

    base = 40 if SIZES[size] < MIB else 12
    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(base, scale))
    _record(figures, f"upload-{size}", result)


@pytest.mark.parametrize("size", list(SIZES))
def test_attachment_download(
    stack: LiveStack,
    perf_user: SignedInUser,
    lattice: WorkerLattice,
    figures: Figures,
    scale: float,
    size: str,
) -> None:
    payload = uuid.uuid4().bytes * (SIZES[size] // 16)
    mine = _seeded_per_client(lattice, perf_user, 1, f"download{size}")
    with stack.client() as client:
        for ids in mine:
            path = f"/v1/marks/{ids[0]}/attachment"
            _check(
                client.put(
                    path, content=payload, headers={**perf_user.headers, "Content-Type": "text/plain"}
                ),
                200,
            )

    def call(client: httpx.Client, c: int, i: int, lap: Lap) -> None:
        response = _check(client.get(f"/v1/marks/{mine[c][0]}/attachment", headers=perf_user.headers), 200)
        assert len(response.content) == len(payload)

    base = 40 if SIZES[size] < MIB else 15
    result = run_load(stack.base_url, call, clients=CLIENTS, calls_per_client=_calls(base, scale))
    _record(figures, f"download-{size}", result)
