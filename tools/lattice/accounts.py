"""Signing in through the real OTP flow: request a code, read it from the Maildir, verify it."""

from __future__ import annotations

import mailbox
import re
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import httpx

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


def request_code(api: httpx.Client, email: str) -> uuid.UUID:
    response = api.post("/v1/auth/otp", json={"email": email})
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["challenge_id"])


def sign_in(api: httpx.Client, box: Mailbox, email: str, *, with_api_token: bool = False) -> SignedInUser:
    """The whole sign-in flow, as a client would run it; optionally mint an API token too."""
    challenge = request_code(api, email)
    response = api.post(
        "/v1/auth/otp/verify", json={"challenge_id": str(challenge), "code": box.latest_code(email)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    user = SignedInUser(id=uuid.UUID(body["user"]["id"]), email=email, session_token=body["access_token"])
    if with_api_token:
        created = api.post("/v1/tokens", json={"name": "lattice"}, headers=user.headers)
        assert created.status_code == 201, created.text
        user.api_token, user.api_token_id = created.json()["token"], uuid.UUID(created.json()["id"])
    return user
