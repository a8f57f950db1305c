"""One orderly shutdown per process: the first SIGINT or SIGTERM raises KeyboardInterrupt (so the
usual unwinding stops consumers, then servers); later ones are ignored instead of cutting it short.

Why SIGTERM too: nox, interrupted, does not forward SIGINT to its session's command; it waits, then
sends SIGTERM (and later SIGKILL). An IDE's "stop" sends SIGINT to nox alone.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_state = {"shutting_down": False}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _state["shutting_down"]:
        return
    _state["shutting_down"] = True
    raise KeyboardInterrupt


def install() -> None:
    """Take SIGINT and SIGTERM in this process (main thread only, where Python allows it)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)


def shutting_down() -> bool:
    return _state["shutting_down"]
