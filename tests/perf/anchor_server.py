"""How an anchor app is served: uvicorn as the service runs it (httptools, no access log) on a port."""

from __future__ import annotations

import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI


def serve(create: Callable[[], FastAPI], module: str, argv: list[str]) -> int:
    """`python -m <module> PORT`: serve the app `create` builds until killed."""
    if len(argv) != 1 or not argv[0].isdigit():
        print(f"usage: python -m {module} PORT", file=sys.stderr)
        return 2
    uvicorn.run(
        create(), host="127.0.0.1", port=int(argv[0]), http="httptools", log_level="warning", access_log=False
    )
    return 0
