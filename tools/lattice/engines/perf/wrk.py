"""wrk, driven from the perf suite: a C load generator whose own CPU cost is small and measured.

Python client threads share the machine's two cores with the server and cost more than it does per
request, so they measure themselves as much as the API. wrk (Debian package `wrk`) runs a Lua script
written here: GET over a list of paths (e.g. 2,000 mark ids) with one header, printing its latency
histogram's percentiles in one line the suite parses. Its CPU time is read from the kernel's account of
the reaped child (getrusage), so the report can say how much of the machine the generator took.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.lattice.engines.perf.cpu import TICKS, PidSource, cpu_time, process_ticks

THREADS = 2
CONNECTIONS = 8

_SCRIPT = """
local paths = %(paths)s
local n = #paths
local i = 0
%(headers)s
local setups = 0
function setup(thread)
  -- runs in the main Lua state, once per wrk thread: give each thread its own start in the list
  thread:set("offset", setups)
  setups = setups + 1
end
function init(args)
  i = math.floor(n * (offset or 0) / %(threads)d)
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% n) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p95_us\\": %%d, \\"p99_us\\": %%d, \\"max_us\\": %%d, \\"mean_us\\": %%d, " ..
    "\\"status_errors\\": %%d, \\"socket_errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, math.floor(latency.mean), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


class WrkMissing(RuntimeError):
    """wrk is not on PATH; the message says how to install it."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    rps: float
    errors: int  # non-2xx/3xx answers and socket errors
    wrk_cpu_s: float  # user + system time of the wrk process
    wall_s: float
    machine_busy: float  # share of all cores busy over the run (0..1), from /proc/stat
    server_cpu_share: float | None  # the server process's CPU time over the run, per core (0..1)
    # CPU ms per request of each process group named in run_wrk's `cpu` (e.g. "api", "postgres")
    cpu_ms: dict[str, float | None] = field(default_factory=dict)

    @property
    def wrk_cpu_share(self) -> float:
        """The generator's CPU time as a share of the whole machine's over the run (0..1)."""
        return self.wrk_cpu_s / (self.wall_s * (os.cpu_count() or 1)) if self.wall_s else 0.0

    def as_dict(self) -> dict[str, float]:
        figures = asdict(self)
        del figures["cpu_ms"]
        figures["wrk_cpu_share"] = round(self.wrk_cpu_share, 3)
        for name, ms in self.cpu_ms.items():
            if ms is not None:
                figures[f"{name}_cpu_ms"] = ms
        return figures


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing("wrk is not on PATH: `apt-get install -y wrk` (Debian package wrk)")
    return found


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for these characters


def write_script(path: Path, paths: Sequence[str], headers: dict[str, str]) -> Path:
    table = "{" + ",".join(_lua_string(p) for p in paths) + "}"
    header_lines = "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_SCRIPT % {"paths": table, "headers": header_lines, "threads": THREADS})
    return path


def run_wrk(
    base_url: str,
    paths: Sequence[str],
    *,
    script: Path,
    headers: dict[str, str] | None = None,
    duration_s: float = 4.0,
    threads: int = THREADS,
    connections: int = CONNECTIONS,
    server_pid: int | None = None,
    cpu: dict[str, PidSource | None] | None = None,
) -> WrkResult:
    """`wrk -t threads -c connections -d duration` over `paths`, closed loop (next request on an answer)."""
    write_script(script, paths, headers or {})
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, server_before = _machine_ticks(), process_ticks(server_pid)
    started = time.perf_counter()
    with cpu_time(cpu or {}) as reading:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 30)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, server_after = _machine_ticks(), process_ticks(server_pid)
    lines = [line for line in done.stdout.splitlines() if line.startswith("WRKRESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")
    raw = json.loads(lines[-1].removeprefix("WRKRESULT "))
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkResult(
        requests=raw["requests"],
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        rps=round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        errors=raw["status_errors"] + raw["socket_errors"],
        wrk_cpu_s=round(cpu_s, 3),
        wall_s=round(wall_s, 3),
        machine_busy=round(_busy_share(busy_before, busy_after), 3),
        server_cpu_share=None
        if server_before is None or server_after is None
        else round((server_after - server_before) / TICKS / wall_s / (os.cpu_count() or 1), 3),
        cpu_ms={name: reading.ms_per(name, raw["requests"]) for name in (cpu or {})},
    )


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from the first line of /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0
