"""`retrace serve` as a person runs it: one process that migrates, then serves the API on the port it
was given and runs a worker, and says where each is.

A real process on this worker's plane (its schema, Redis namespace and files), not the in-process app:
what `cmd_serve` does happens only in a process of its own. Its lines reach mutate's map through the
child's coverage context (tools/lattice/engines/mutate/contexts.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from app.ingestion.queue import QUEUE
from tools.lattice.live.stack import settings_env
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.targeting import load_target
from tools.lattice.services.base import free_port
from tools.lattice.services.process import die_with_parent, stop_child

START_TIMEOUT_S = 120.0  # a cold start of uvicorn on a loaded 2-core machine


def test_serve_answers_on_its_port_and_says_where_everything_is(lattice: WorkerLattice) -> None:
    port = free_port()
    settings = lattice.plane.settings()
    env = {**os.environ, **settings_env(settings), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"retrace serve exited with {process.returncode}"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}{load_target().health_path}", timeout=1.0)
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"retrace serve did not answer on port {port}"
            time.sleep(0.1)
    finally:
        stop_child(process)
    output = process.stdout.read() if process.stdout else ""
    assert process.returncode == 0, output
    assert f"retrace: API on http://127.0.0.1:{port} (docs at /docs)\n" in output
    assert f"retrace: worker consuming {settings.queue_name(QUEUE)}\n" in output
    assert f"retrace: mail goes to {settings.mailer}; attachments to {settings.blob_dir}\n" in output
