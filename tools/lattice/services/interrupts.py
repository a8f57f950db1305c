"""One orderly shutdown per process: the first SIGINT or SIGTERM raises KeyboardInterrupt (so the
usual unwinding stops consumers, then servers); later ones are ignored instead of cutting it short.

Why SIGTERM too: nox, interrupted, does not forward SIGINT to its session's command; it waits, then
sends SIGTERM (and later SIGKILL). An IDE's "stop" sends SIGINT to nox alone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from types import FrameType

_PR_SET_PDEATHSIG = 1

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


def stop_with_parent() -> None:
    """Get SIGTERM (an orderly stop, once `install`ed) when the process that started this one dies.

    nox itself dies at once on a SIGTERM of its own (a CI runner's cancel, `kill <nox pid>`), leaving
    its session's command running with the servers it started: a long-running command (`serve`)
    asks the kernel to tell it instead (Linux; elsewhere nothing changes).
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def shutting_down() -> bool:
    return _state["shutting_down"]
