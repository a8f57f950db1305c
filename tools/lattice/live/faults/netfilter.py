"""iptables rules on one loopback port: silent partitions (DROP, no RST) and random loss, per direction.

A partition made here is a real one for the sockets on that port: segments vanish, nothing is
acknowledged, no RST comes, and every socket waits for its own timeouts (what a proxy that merely stops
forwarding cannot show: the kernel acknowledges whatever reaches the proxy's socket). Rules match only
`127.0.0.1:<port>` of a fault path (the proxy's port), so parallel xdist workers and other runs, and a
drill's own direct connections to its servers, are untouched.

Every rule carries a comment naming its owner (`retrace-faults:<pid>:<start time>`); a run removes its
rules when the drill heals or ends (also on Ctrl-C, through the usual unwinding), and `reap_rules()`
(called whenever a fault plane starts) removes the rules of owners that no longer exist, i.e. of a
SIGKILLed run. Needs CAP_NET_ADMIN; without it `check_privilege()` raises one line.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field

CHAIN = "OUTPUT"  # loopback packets pass OUTPUT once, whichever side sends them
_TAG = "retrace-faults"
_OWNER = re.compile(rf'--comment "?{_TAG}:(\d+):(\d+)"?')


class FaultsUnavailable(RuntimeError):
    """iptables-based faults cannot be made on this machine; the message is one line."""


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a live owner from a reused pid)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def owner_tag(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{_TAG}:{pid}:{_start_time(pid) or 0}"


def iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # -w: wait for the xtables lock (parallel workers add and remove rules at the same moments).
    return subprocess.run(["iptables", "-w", "5", *args], capture_output=True, text=True, check=check)


def check_privilege() -> None:
    """Raise FaultsUnavailable (one line) unless this process may change iptables rules."""
    if shutil.which("iptables") is None:
        raise FaultsUnavailable("lattice: network faults need iptables (apt-get install iptables)")
    listed = iptables("-S", CHAIN, check=False)
    if listed.returncode != 0:
        first = (listed.stderr.strip().splitlines() or ["iptables failed"])[0]
        raise FaultsUnavailable(f"lattice: network faults need root or CAP_NET_ADMIN for iptables ({first})")


def reap_rules() -> list[str]:
    """Remove fault rules whose owner process is gone (a SIGKILLed run); returns the rules removed."""
    removed = []
    for line in iptables("-S", CHAIN, check=False).stdout.splitlines():
        found = _OWNER.search(line)
        if found is None or not line.startswith(f"-A {CHAIN} "):
            continue
        pid, started = int(found.group(1)), int(found.group(2))
        if _start_time(pid) == started:
            continue
        spec = shlex.split(line)[2:]
        if iptables("-D", CHAIN, *spec, check=False).returncode == 0:
            removed.append(line)
    return removed


@dataclass
class PortRules:
    """The fault rules of one loopback port, switched on and off as a set."""

    port: int
    owner: str = field(default_factory=owner_tag)
    _active: list[list[str]] = field(default_factory=list)

    def _match(self, direction: str) -> list[str]:
        # "to": client to the port (requests); "from": the port's replies (and its ACKs).
        flag = "--dport" if direction == "to" else "--sport"
        return ["-o", "lo", "-p", "tcp", "-s", "127.0.0.1", flag, str(self.port)]

    def _add(self, rule: list[str]) -> None:
        full = [*rule, "-m", "comment", "--comment", self.owner, "-j", "DROP"]
        iptables("-I", CHAIN, *full)
        self._active.append(full)

    def drop(self, *, to: bool = True, back: bool = True) -> None:
        """A silent partition: requests (`to`) and/or replies (`back`) vanish."""
        if to:
            self._add(self._match("to"))
        if back:
            self._add(self._match("from"))

    def lose(self, probability: float) -> None:
        """Each packet either way is dropped with `probability` (TCP retransmits: loss as delay)."""
        for direction in ("to", "from"):
            self._add(
                [
                    *self._match(direction),
                    "-m",
                    "statistic",
                    "--mode",
                    "random",
                    "--probability",
                    f"{probability:.4f}",
                ]
            )

    def clear(self) -> None:
        while self._active:
            iptables("-D", CHAIN, *self._active.pop(), check=False)
