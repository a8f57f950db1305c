"""`python -m tools.lattice.engines.peer.asgi ARGS...`: schemathesis' own CLI (`schemathesis run ARGS...`)
with every request sent to the app in this process through its ASGI transport, the transport the contract
suite uses (a Starlette TestClient), so that the peer race measures the generators, not a socket.

The app is built from the `RETRACE_*` environment (the target's `settings_env`), as `retrace api`
would build it. The CLI is unchanged but for where the schema is loaded: the committed document, as
`schemathesis run <document>` reads it, with the app attached (schemathesis' `openapi.from_asgi` does the
same but fetches the document from the app; the committed one is what the gate reviews). The session
token for `--header` is minted here by the real OTP flow and printed on the first line of stdout.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tools.lattice.seam.accounts import Mailbox, sign_in
from tools.lattice.seam.targeting import load_target

HOST = "http://testserver"  # schemathesis' ASGI client's host


def _attach(app: Any) -> None:
    """Make the CLI load its schema from the document with `app` attached (ASGI transport)."""
    from schemathesis import openapi
    from schemathesis.cli import loaders

    def load_schema(location: str, config: Any) -> Any:
        schema = openapi.from_path(location, config=config._parent)
        schema.app = app
        return schema

    loaders.load_schema = load_schema  # into_event_stream, which the CLI runs, calls it from there


def main(argv: list[str]) -> int:
    target = load_target()
    settings = target.user_settings()
    built = target.build(settings, [])
    mailbox = Mailbox(Path(settings.mailer.removeprefix("maildir:")))
    # Not entered: schemathesis runs the app's lifespan once for the whole run, and one that closed here
    # would have closed the runtime under it.
    client = TestClient(built.asgi, base_url=HOST)
    account = sign_in(client, mailbox, f"peer-{uuid.uuid4().hex[:12]}@example.test")
    _attach(built.asgi)
    from schemathesis.cli import schemathesis

    args = ["run", *argv, "--url", HOST, "--header", f"Authorization: Bearer {account.session_token}"]
    try:
        code = schemathesis.main(args, prog_name="schemathesis", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
