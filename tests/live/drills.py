"""What the fault drills share: timing and polling helpers, readiness, signing in on a drill's stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.integration.flows import unique_email
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in


def mailbox(settings: Any) -> Mailbox:
    return Mailbox(Path(settings.mailer.removeprefix("maildir:")))


def signed_in(settings: Any, client: httpx.Client) -> SignedInUser:
    return sign_in(client, mailbox(settings), unique_email("drill"))


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, round(time.monotonic() - started, 3)


def until(predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll until `predicate()`; returns the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{what} not within {timeout_s}s")
        time.sleep(0.05)
    return round(time.monotonic() - started, 3)


def ready(client: httpx.Client) -> bool:
    try:
        return client.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False
