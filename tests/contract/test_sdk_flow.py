"""The generated SDK (sdk/retrace-client, from the committed document) drives a whole flow against the app,
so a broken or stale client fails here: sign-in -> create mark -> get -> list -> attachment upload and
download -> delete."""

from __future__ import annotations

import importlib
import io
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from starlette.testclient import TestClient

from tools.lattice.seam.accounts import Mailbox


def _sdk(sdk_path: Path) -> SimpleNamespace:
    """retrace_client's modules (imported from sdk/retrace-client, which mypy does not read)."""
    names = {
        "client": "retrace_client.client",
        "models": "retrace_client.models",
        "types": "retrace_client.types",
        "auth_request_code": "retrace_client.api.auth.auth_request_code",
        "auth_verify_code": "retrace_client.api.auth.auth_verify_code",
        "marks_create": "retrace_client.api.marks.marks_create",
        "marks_get": "retrace_client.api.marks.marks_get",
        "marks_list": "retrace_client.api.marks.marks_list",
        "marks_delete": "retrace_client.api.marks.marks_delete",
        "attachments_upload": "retrace_client.api.attachments.attachments_upload",
        "attachments_download": "retrace_client.api.attachments.attachments_download",
    }
    assert (sdk_path / "retrace_client").is_dir()
    return SimpleNamespace(**{key: importlib.import_module(module) for key, module in names.items()})


def _over(api: httpx.Client, sdk: SimpleNamespace, token: str | None = None) -> Any:
    """A generated client whose requests go to the in-process app (a TestClient is an httpx.Client)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # A second TestClient on the same app, never entered: entering would run the lifespan and close the
    # worker's runtime on exit.
    transport = TestClient(getattr(api, "app"), base_url=str(api.base_url), headers=headers)  # noqa: B009
    if token:
        client = sdk.client.AuthenticatedClient(base_url=str(api.base_url), token=token)
    else:
        client = sdk.client.Client(base_url=str(api.base_url))
    return client.set_httpx_client(transport)


def test_generated_client_runs_the_whole_flow(api: httpx.Client, mailbox: Mailbox, sdk_path: Path) -> None:
    sdk = _sdk(sdk_path)
    models = sdk.models
    email = f"sdk-{uuid.uuid4().hex[:12]}@example.test"

    anonymous = _over(api, sdk)
    challenge = sdk.auth_request_code.sync(client=anonymous, body=models.OtpRequest(email=email))
    assert isinstance(challenge, models.OtpChallengeOut)
    session = sdk.auth_verify_code.sync(
        client=anonymous,
        body=models.OtpVerify(challenge_id=challenge.challenge_id, code=mailbox.latest_code(email)),
    )
    assert isinstance(session, models.SessionOut)
    assert session.user.email == email

    client = _over(api, sdk, session.access_token)
    created = sdk.marks_create.sync(
        client=client,
        body=models.MarkCreate(
            url="https://Example.test/a?utm_source=x", note="two words", tags=["Read", "read"]
        ),
    )
    assert isinstance(created, models.MarkOut)
    assert created.tags == ["read"]
    assert created.ingestion.status == models.IngestionStatus.PENDING

    fetched = sdk.marks_get.sync(mark_id=created.id, client=client)
    assert isinstance(fetched, models.MarkOut)
    assert fetched.id == created.id

    page = sdk.marks_list.sync(client=client, limit=10)
    assert isinstance(page, models.MarkPage)
    assert [mark.id for mark in page.items] == [created.id]

    payload = b"first line\n\x00\xffbinary tail"
    stored = sdk.attachments_upload.sync(
        mark_id=created.id, client=client, body=sdk.types.File(payload=io.BytesIO(payload))
    )
    assert isinstance(stored, models.AttachmentOut)
    assert stored.size == len(payload)

    downloaded = sdk.attachments_download.sync_detailed(mark_id=created.id, client=client)
    assert downloaded.status_code == 200
    assert downloaded.content == payload

    deleted = sdk.marks_delete.sync_detailed(mark_id=created.id, client=client)
    assert deleted.status_code == 204
    gone = sdk.marks_get.sync(mark_id=created.id, client=client)
    assert isinstance(gone, models.Problem)
    assert gone.status == 404
    assert gone.code == "not_found"
