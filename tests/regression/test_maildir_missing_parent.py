"""A Maildir under a parent that did not exist made the first sign-in code a 500.

What broke: with `RETRACE_MAILER=maildir:/some/missing/parent/mail`, `MaildirMailer.send` asked
`mailbox.Maildir(path, create=True)` to make the directory; Maildir's `os.mkdir` does not create missing
parents.

How it showed: the first `POST /v1/auth/otp` answered 500 with FileNotFoundError raised in
`MaildirMailer.send`; nothing was delivered, so nobody could sign in on a fresh machine.

What fixed it: app/mail.py creates `tmp/`, `new/` and `cur/` with `mkdir(parents=True, exist_ok=True)`,
which makes every missing parent too — the same commit as the pre-created-directory incident, 216c222
(`git log -S "Maildir(create=True) skips"`).

Locked reproduction: an app whose mailer points several levels below a directory that does not exist
gets one OTP request. Checked: with `send` reverted to `mailbox.Maildir(directory, create=True).add(...)`
in a scratch copy this case fails (FileNotFoundError from `send`, a 500 over a real port); with the fix
it passes. (The intermediate version of 81a05fa, which also made `directory.parent`, passes it: that one
only lacked the pre-created-directory case.)
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.regression.conftest import AppWith
from tools.lattice.seam.accounts import Mailbox


def test_first_code_is_delivered_under_missing_parents(app_with: AppWith, tmp_path: Path) -> None:
    maildir = tmp_path / "some" / "missing" / "parent" / "mail"
    email = f"parents-{uuid.uuid4().hex[:12]}@example.test"
    with app_with(mailer=f"maildir:{maildir}") as client:
        response = client.post("/v1/auth/otp", json={"email": email})
    assert response.status_code == 202, response.text
    assert len(Mailbox(maildir).latest_code(email)) == 6
