"""Request-body handling shared by the JSON APIs: bounded reads, strict JSON."""

from __future__ import annotations

import json
import sys

from fastapi import Request

from lacre.errors import InvalidInput, TooLarge

MAX_JSON_BODY = 4 * 1024 * 1024


def _reject_constant(name: str) -> object:
    raise InvalidInput(f"request body is not valid JSON: {name} is not a JSON number")


async def read_body(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    """The request body, refusing bodies over ``limit`` bytes before reading them whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge("request body too large", expected=f"at most {limit} bytes", found=declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(
                "request body too large", expected=f"at most {limit} bytes", found="more"
            )
    return bytes(body)


async def read_json(request: Request, limit: int = MAX_JSON_BODY) -> object:
    """The request body parsed as strict JSON (no NaN/Infinity, bounded size and depth)."""
    body = await read_body(request, limit)
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise InvalidInput("request body is not valid JSON: nested too deeply") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from exc
    except ValueError as exc:  # the only other one: int()'s limit on digits
        raise InvalidInput(
            "request body is not valid JSON: a number has too many digits",
            expected=f"at most {sys.get_int_max_str_digits()}",
            found="more",
        ) from exc
