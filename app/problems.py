"""RFC 9457 problem details: the one shape of every error the service answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("retrace.problems")


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ProblemBody(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="A URI naming the kind of problem", examples=["about:blank"])
    title: str
    status: int
    detail: str
    code: str = Field(description="A stable machine-readable string, e.g. `not_found`")
    errors: list[ValidationErrorItem] | None = Field(
        default=None, description="Present on validation errors: one entry per rejected field"
    )


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem body."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: list[ValidationErrorItem] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = errors


# Every 401 carries a challenge (RFC 9110, 15.5.2), the OTP verification's `otp_invalid` too: the scheme a
# client authenticates with here is Bearer, whichever credential was refused.
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def unauthenticated(detail: str = "a valid bearer token is required") -> Problem:
    return Problem(401, "unauthenticated", detail, headers=BEARER_CHALLENGE)


def not_found(what: str = "resource") -> Problem:
    return Problem(404, "not_found", f"no such {what}")


def problem_response(problem: Problem) -> JSONResponse:
    body = ProblemBody(
        type=f"https://retrace.example/problems/{problem.code.replace('_', '-')}",
        title=HTTPStatus(problem.status).phrase,
        status=problem.status,
        detail=problem.detail,
        code=problem.code,
        errors=problem.errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (e.g. JSON that is not UTF-8). The service never
        # raises 400 itself, and bad input is documented as 422 everywhere: answer that.
        return problem_response(
            Problem(422, "validation_failed", "the request body could not be parsed as JSON (UTF-8)")
        )
    code = _HTTP_CODES.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"))
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette lists the methods of the first route that matched the path only (GET and POST
        # /v1/marks are two routes); Allow must name every method the path supports.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(Problem(exc.status_code, code, detail, headers=headers))


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _allowed_methods(request: Request) -> list[str]:
    """The methods the app's OpenAPI document gives the request's path."""
    paths: dict[str, Any] = request.app.openapi()["paths"]
    for template, item in paths.items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            return [method.upper() for method in item if method in _METHODS]
    return []


def _jsonable_loc(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


async def _on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        ValidationErrorItem(
            loc=_jsonable_loc(err.get("loc", ())), msg=str(err.get("msg", "")), type=str(err.get("type", ""))
        )
        for err in exc.errors()
    ]
    return problem_response(
        Problem(422, "validation_failed", "the request does not match the schema", errors=errors)
    )


async def _on_database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    # A sick database (down, unreachable, past the statement timeout) is a clean 503, never a stack page.
    log.warning("database unavailable: %s", exc.__class__.__name__)
    return problem_response(
        Problem(
            503,
            "service_unavailable",
            "the database is unavailable; retry later",
            headers={"Retry-After": "1"},
        )
    )


async def _on_queue_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("queue unavailable: %s", exc.__class__.__name__)
    return problem_response(
        Problem(
            503, "queue_unavailable", "the queue is unavailable; retry later", headers={"Retry-After": "1"}
        )
    )


_FOREIGN_KEY_VIOLATION = "23503"


async def _on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A row that names its user (a mark, a token) inserted after that user's account was deleted by a
    # concurrent DELETE /v1/me: the foreign key refuses it, and to the client the account is gone.
    assert isinstance(exc, IntegrityError)
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if getattr(exc.orig, "sqlstate", None) == _FOREIGN_KEY_VIOLATION and constraint.endswith("_user_id_fkey"):
        return problem_response(unauthenticated("the account no longer exists"))
    return await _on_unexpected(request, exc)


async def _on_client_disconnect(request: Request, _: Exception) -> Response:
    # The client went away mid-body (an aborted upload): nobody is left to answer, and nothing failed
    # on our side, so this is not an ERROR (a flood of them would hide the real ones).
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(Problem(500, "internal_error", "an unexpected error occurred"))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _on_database_unavailable)
    app.add_exception_handler(InterfaceError, _on_database_unavailable)
    app.add_exception_handler(RedisConnectionError, _on_queue_unavailable)
    app.add_exception_handler(RedisTimeoutError, _on_queue_unavailable)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(ClientDisconnect, _on_client_disconnect)
    app.add_exception_handler(Exception, _on_unexpected)
