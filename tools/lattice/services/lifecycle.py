"""Stop this process's sets on normal exit, Ctrl-C (KeyboardInterrupt unwinds to atexit) and SIGTERM.

SIGKILL cannot be caught: PDEATHSIG and the reaper cover that case.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from types import FrameType

from tools.lattice.services.base import ServiceSet

_live: dict[str, ServiceSet] = {}
_guard = threading.Lock()
_installed = False


def stop_all() -> None:
    with _guard:
        sets = list(_live.values())
    for service_set in reversed(sets):
        service_set.stop()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    stop_all()
    # Die of SIGTERM as we would have without the handler, so the parent sees the true cause.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(stop_all)
    # Only take SIGTERM when nobody else has (a host app's own handler wins), and only from the
    # main thread, the one place Python allows it.
    if threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)


def track(service_set: ServiceSet) -> None:
    with _guard:
        _install()
        _live[service_set.id] = service_set


def untrack(set_id: str) -> None:
    with _guard:
        _live.pop(set_id, None)
