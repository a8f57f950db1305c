"""N concurrent clients, each sending a few rounds of requests on its own connection; what came back.

One asyncio loop and one `httpx.AsyncClient` whose pool allows a connection per client, so the server
sees N sockets at once. A transport failure counts under the status "error".
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx


@dataclass
class BurstResult:
    clients: int
    rounds: int
    statuses: Counter[str] = field(default_factory=Counter)
    by_path: dict[str, Counter[str]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    samples: list[str] = field(default_factory=list)  # a few bodies of 5xx answers and errors

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(p) - 1]

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5") or status == "error")

    def as_json(self) -> dict[str, object]:
        return {
            "clients": self.clients,
            "rounds": self.rounds,
            "requests": sum(self.statuses.values()),
            "statuses": dict(sorted(self.statuses.items())),
            "by_path": {path: dict(sorted(c.items())) for path, c in sorted(self.by_path.items())},
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "wall_s": round(self.wall_s, 3),
        }

    def line(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"burst: {self.clients} clients x {self.rounds} rounds, {sum(self.statuses.values())} requests "
            f"in {self.wall_s:.2f}s; p50 {self.percentile(50):.1f} ms, p99 {self.percentile(99):.1f} ms; "
            f"{statuses}"
        )


async def _client(
    client: httpx.AsyncClient,
    number: int,
    paths: Sequence[str],
    rounds: int,
    headers: Mapping[str, str],
    start: asyncio.Event,
    result: BurstResult,
) -> None:
    await start.wait()
    for round_ in range(rounds):
        for k in range(len(paths)):
            path = paths[(number + round_ + k) % len(paths)]  # clients do not move in lockstep
            began = time.perf_counter()
            try:
                response = await client.get(path, headers=headers)
                status = str(response.status_code)
                if response.status_code >= 500 and len(result.samples) < 5:
                    result.samples.append(f"{path} {status}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                status = "error"
                if len(result.samples) < 5:
                    result.samples.append(f"{path}: {type(exc).__name__}: {exc}")
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
            result.statuses[status] += 1
            result.by_path.setdefault(path.split("?")[0], Counter())[status] += 1


async def _burst(
    base_url: str, paths: Sequence[str], clients: int, rounds: int, headers: Mapping[str, str]
) -> BurstResult:
    result = BurstResult(clients, rounds)
    # Idle connections are dropped by the client before uvicorn's 5 s keep-alive timeout can close them
    # under a request (the client-side race every HTTP client meets; it is not the server's failure).
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:
        start = asyncio.Event()
        tasks = [
            asyncio.create_task(_client(client, n, paths, rounds, headers, start, result))
            for n in range(clients)
        ]
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        result.wall_s = time.perf_counter() - began
    return result


def burst(
    base_url: str, paths: Sequence[str], *, clients: int, rounds: int, headers: Mapping[str, str]
) -> BurstResult:
    """`clients` concurrent clients, each sending every path once per round, `rounds` times."""
    return asyncio.run(_burst(base_url, paths, clients, rounds, headers))
