"""Mapping of lacre errors to HTTP responses: JSON ``{code, message}``, never a bare 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from lacre.errors import Error, InvalidInput, NotFound, PushbackError, TooLarge
from lacre.oidc import TokenError

_STATUS: list[tuple[type[Error], int]] = [
    (NotFound, 404),
    (TooLarge, 413),
    (TokenError, 401),
    (InvalidInput, 400),
    (PushbackError, 503),
]


def status_of(error: Error) -> int:
    """The HTTP status for ``error``: 4xx for the caller's faults, 503 for overload, else 500."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_response(status: int, message: str) -> JSONResponse:
    """A JSON error body in the shape Sigstore services use."""
    return JSONResponse({"code": status, "message": message}, status_code=status)


def lacre_error_response(exc: Error) -> JSONResponse:
    """The JSON answer to a lacre error (with ``Retry-After`` for pushback)."""
    status = status_of(exc)
    response = error_response(status, exc.message if status == 500 else str(exc))
    if isinstance(exc, PushbackError):
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    return response


async def _lacre_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Error)
    return lacre_error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return error_response(400, f"invalid request: {problems}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Routing errors (no such path, method not allowed) in the same JSON shape."""
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    if exc.status_code in (404, 405):
        message = f"{message}: {request.method} {request.url.path[:200]}"
    if exc.status_code == 405 and exc.headers and "Allow" in exc.headers:
        message += f" (allowed: {exc.headers['Allow']})"
    response = error_response(exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


def unexpected_error_response(exc: Exception) -> JSONResponse:
    """Last resort: a bug. Answer 500 in the JSON shape, without internals."""
    return error_response(500, f"internal server error ({type(exc).__name__})")


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Make ``app`` answer every lacre error, validation and routing failure as JSON."""
    app.add_exception_handler(Error, _lacre_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
