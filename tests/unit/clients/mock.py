"""A recording ``httpx.MockTransport`` for client tests."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Answers with ``handler`` and remembers every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self), timeout=5)


def answer(status: int, **kwargs: object) -> Handler:
    """A handler always answering ``status`` with ``kwargs`` (json=, content=, headers=)."""
    return lambda request: httpx.Response(status, **kwargs)  # type: ignore[arg-type]
