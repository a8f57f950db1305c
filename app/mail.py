"""Outgoing mail: real SMTP, or a Maildir on disk that people and tests can read."""

from __future__ import annotations

import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

SENDER = "Retrace <no-reply@retrace.invalid>"


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class MaildirMailer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        # mailbox.Maildir writes to tmp/ then renames into new/: a reader never sees half a message.
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips these when the dir already exists
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.directory, create=False).add(message)


class SmtpMailer:
    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)


def make_mailer(spec: str) -> Mailer:
    """Build the mailer named by RETRACE_MAILER: `smtp://host:port` or `maildir:/some/dir`."""
    if spec.startswith("maildir:"):
        return MaildirMailer(Path(spec.removeprefix("maildir:")))
    if spec.startswith("smtp://"):
        parts = urlsplit(spec)
        if not parts.hostname:
            raise ValueError(f"RETRACE_MAILER {spec!r} names no host")
        return SmtpMailer(parts.hostname, parts.port or 25)
    raise ValueError(f"RETRACE_MAILER must be smtp://host:port or maildir:/dir, got {spec!r}")


def otp_message(to: str, code: str, minutes_valid: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = "Your Retrace code"
    message.set_content(
        f"Your Retrace sign-in code:\n\n{code}\n\nIt works once, for {minutes_valid} minutes.\n"
        "If you did not ask for it, ignore this message.\n"
    )
    return message
