"""RETRACE_MAILER names the mailer: SMTP on port 25 unless a port is given, or a Maildir."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.mail import MaildirMailer, SmtpMailer, make_mailer


@pytest.mark.parametrize(
    ("spec", "host", "port"),
    [
        pytest.param("smtp://mail.example", "mail.example", 25, id="default-port"),
        pytest.param("smtp://mail.example:2525", "mail.example", 2525, id="given-port"),
    ],
)
def test_smtp_host_and_port(spec: str, host: str, port: int) -> None:
    mailer = make_mailer(spec)
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port) == (host, port)


def test_maildir_directory(tmp_path: Path) -> None:
    mailer = make_mailer(f"maildir:{tmp_path}")
    assert isinstance(mailer, MaildirMailer)


@pytest.mark.parametrize("spec", ["smtp://", "smtp://:25", "mbox:/tmp/x"])
def test_a_mailer_it_cannot_build_is_refused_naming_the_setting(spec: str) -> None:
    with pytest.raises(ValueError, match="RETRACE_MAILER"):
        make_mailer(spec)
