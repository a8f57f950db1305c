"""The fault plane: a drill's PostgreSQL and Redis reached through paths whose faults it switches mid-run.

A path is a delaying proxy (proxy.py) on a loopback port of its own, which the service's settings point
at; latency is the proxy's, loss and partitions are iptables rules on the proxy's port (netfilter.py).
The drill's own checks connect to the servers directly, so a fault never blinds the test.

    with fault_plane(services) as plane:          # reaps rules a SIGKILLed run left
        settings = plane.settings_overrides()     # database_url / redis_url through the proxies
        plane["postgres"].latency(0.5)            # 500 ms on every reply
        with plane["redis"].partitioned():        # silent, both ways; healed on exit
            ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from tools.lattice.live.faults.netfilter import FaultsUnavailable, PortRules, check_privilege, reap_rules
from tools.lattice.live.faults.proxy import DelayProxy, Delays


class Endpoints(Protocol):
    """Where the servers are (a ServiceSet, a Plane): the paths lead there."""

    @property
    def database_url(self) -> str: ...

    @property
    def redis_url(self) -> str: ...


__all__ = ["FaultPath", "FaultPlane", "FaultsUnavailable", "fault_plane", "reap_rules"]


@dataclass
class FaultPath:
    """One dependency's path: a proxy and the iptables rules on its port."""

    name: str
    proxy: DelayProxy
    rules: PortRules

    @property
    def port(self) -> int:
        return self.proxy.port

    def latency(self, downstream_s: float, upstream_s: float = 0.0) -> None:
        """Delay replies by `downstream_s` (Toxiproxy's default direction) and requests by `upstream_s`."""
        self.proxy.delays = Delays(upstream=upstream_s, downstream=downstream_s)

    def loss(self, probability: float) -> None:
        self.rules.lose(probability)

    def partition(self, *, requests: bool = True, replies: bool = True) -> None:
        """Silent: packets vanish (no RST). `requests=False` is the asymmetric one: replies vanish."""
        self.rules.drop(to=requests, back=replies)

    @contextmanager
    def partitioned(self, *, requests: bool = True, replies: bool = True) -> Iterator[None]:
        self.partition(requests=requests, replies=replies)
        try:
            yield
        finally:
            self.heal()

    def heal(self) -> None:
        self.rules.clear()
        self.proxy.delays = Delays()


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@dataclass
class FaultPlane:
    services: Endpoints
    paths: dict[str, FaultPath]

    def __getitem__(self, name: str) -> FaultPath:
        return self.paths[name]

    @property
    def database_url(self) -> str:
        return _through(self.services.database_url, self.paths["postgres"].port)

    @property
    def redis_url(self) -> str:
        return _through(self.services.redis_url, self.paths["redis"].port)

    def heal(self) -> None:
        for path in self.paths.values():
            path.heal()


@contextmanager
def fault_plane(services: Endpoints) -> Iterator[FaultPlane]:
    """Proxies in front of `services` (on loopback); every rule and proxy is gone when this exits.

    Raises FaultsUnavailable (one line) where iptables cannot be changed; a SIGKILLed run's rules are
    removed here, by the next run that makes faults.
    """
    check_privilege()
    reap_rules()
    paths: dict[str, FaultPath] = {}
    try:
        for name, url in (("postgres", services.database_url), ("redis", services.redis_url)):
            target = urlsplit(url)
            proxy = DelayProxy(target.hostname or "127.0.0.1", target.port or 0).start()
            paths[name] = FaultPath(name, proxy, PortRules(proxy.port))
        yield FaultPlane(services, paths)
    finally:
        for path in paths.values():
            path.rules.clear()
            path.proxy.stop()
