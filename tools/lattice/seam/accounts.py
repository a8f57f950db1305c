"""Signed-in users and the Maildir their sign-in codes arrive in; the flow itself is the target's."""

from __future__ import annotations

import mailbox
import re
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import httpx

from tools.lattice.seam.targeting import load_target

_CODE_LINE = re.compile(r"^(\d{6})$", re.MULTILINE)


class Mailbox:
    """The Maildir the service delivers to, read as a person would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self, to: str | None = None) -> list[Message]:
        if not (self.directory / "new").is_dir():
            return []
        box = mailbox.Maildir(self.directory, create=False)
        found = [msg for msg in box if to is None or msg["To"].lower() == to.lower()]
        return sorted(found, key=lambda m: m.get_date() if hasattr(m, "get_date") else 0)

    def latest_code(self, to: str, timeout_s: float = 5.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            messages = self.messages(to)
            if messages:
                body = messages[-1].get_payload(decode=True)
                assert isinstance(body, bytes)
                match = _CODE_LINE.search(body.decode())
                if match:
                    return match.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no sign-in code for {to} in {self.directory}")
            time.sleep(0.01)


@dataclass
class SignedInUser:
    id: uuid.UUID
    email: str
    session_token: str
    api_token: str | None = None
    api_token_id: uuid.UUID | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session_token}"}

    @property
    def api_headers(self) -> dict[str, str]:
        assert self.api_token is not None, "this user has no API token"
        return {"Authorization": f"Bearer {self.api_token}"}


def sign_in(api: httpx.Client, box: Mailbox, email: str, *, with_api_token: bool = False) -> SignedInUser:
    """The whole sign-in flow, as a client would run it (the target knows the app's routes); optionally
    with an API token too."""
    return load_target().sign_in(api, box, email, with_api_token=with_api_token)
