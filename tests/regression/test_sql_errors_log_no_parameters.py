"""An SQL error's log line quoted the values the user sent.

What broke: SQLAlchemy puts a failed statement's bound parameters in its exception's message
(`[parameters: {...}]`), and the app logs unexpected errors with that message (app/problems.py's 500
handler; the worker's retries through Dramatiq's log): notes, titles, e-mail addresses and attachment
text went to the logs of any request or job whose statement failed. Found by a grey-box probe (issue 26,
hardening).

What fixed it: every engine the app makes (app/db.py) is built with `hide_parameters=True`.

Locked reproduction: the database refuses a mark's INSERT (a real trigger whose message quotes nothing);
the request answers 500 and no log record, traceback included, holds the note it carried. Checked: with
`hide_parameters` removed this case fails (the note is in the logged `[parameters: ...]`); with it, it
passes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from app.main import create_app
from tests.regression.conftest import refusing
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

SECRET = "Okapi-" + uuid.uuid4().hex[:12]


@pytest.fixture
def refusing_marks(db: Session) -> Iterator[None]:
    with refusing(db, "refuse_marks", "BEFORE INSERT ON marks", "RAISE EXCEPTION 'marks are refused today';"):
        yield


def test_a_failed_statement_logs_none_of_its_parameters(
    lattice: WorkerLattice, user: SignedInUser, refusing_marks: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = create_app(settings=lattice.plane.settings())
    with TestClient(app, base_url="http://retrace.test", raise_server_exceptions=False) as client:
        response = client.post("/v1/marks", json={"note": SECRET}, headers=user.headers)
    assert response.status_code == 500, response.text
    logged = [
        record.getMessage()
        + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    ]
    assert any("marks are refused today" in line for line in logged), "the SQL error was not logged at all"
    leaked = [line for line in logged if SECRET in line]
    assert not leaked, f"a log record holds the request's note: {leaked[0][-400:]}"
