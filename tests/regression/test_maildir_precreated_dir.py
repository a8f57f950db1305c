"""The first sign-in code of a run was a 500 when the mail directory already existed.

What broke: `MaildirMailer.send` relied on `mailbox.Maildir(path, create=True)`, which creates the
`tmp/`, `new/` and `cur/` subdirectories only when `path` itself does not exist yet. The lattice
pre-creates every worker's mail directory (empty), so the Maildir had no `tmp/` to write into.

How it showed: the very first `POST /v1/auth/otp` of each xdist worker answered 500; the log held a
FileNotFoundError from `MaildirMailer.send` (`.../mail/tmp/...`), so no worker could sign its accounts in.

What fixed it: app/mail.py creates the three subdirectories itself (`mkdir(parents=True,
exist_ok=True)`) before opening the Maildir with `create=False` — commit 216c222
(`git log -S "Maildir(create=True) skips"`).

Locked reproduction: an app whose RETRACE_MAILER points at an existing, empty directory gets one OTP
request. Checked: with app/mail.py's `send` reverted to `mailbox.Maildir(directory, create=True).add(...)`
in a scratch copy, this case fails (FileNotFoundError from `send`, which TestClient re-raises instead of
the 500); with the fix it passes. In that scratch copy the harness's own bootstrap trips first (it pre-creates
the worker's Maildir), so tools/lattice/planes/isolation.py was also told not to pre-create it there, to see
this case fail on its own; the version of 81a05fa (which made `directory.parent` only) fails it the same way.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.regression.conftest import AppWith
from tools.lattice.seam.accounts import Mailbox


def test_first_code_is_delivered_into_an_existing_empty_maildir(app_with: AppWith, tmp_path: Path) -> None:
    maildir = tmp_path / "mail"
    maildir.mkdir()  # exists, but holds no tmp/new/cur: what the harness hands the service
    email = f"maildir-{uuid.uuid4().hex[:12]}@example.test"
    with app_with(mailer=f"maildir:{maildir}") as client:
        response = client.post("/v1/auth/otp", json={"email": email})
    assert response.status_code == 202, response.text
    assert len(Mailbox(maildir).latest_code(email)) == 6
