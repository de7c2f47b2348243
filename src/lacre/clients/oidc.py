"""The HTTP side of interactive logins: discovery and token requests, and the loopback redirect."""

from __future__ import annotations

import http.server
import queue
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from lacre.clients.http import check_status, json_object, new_client, send
from lacre.errors import NetworkError

SERVICE = "OIDC issuer"
TIMEOUT_S = 15.0
CALLBACK_PATH = "/auth/callback"
_PAGE = b"<html><body>lacre: login complete, you may close this window.</body></html>"


class HttpxOidc:
    """:class:`lacre.oidc.flows.OidcHttp` over ``httpx``."""

    def __init__(self, http: httpx.Client | None = None) -> None:
        """Use ``http`` (default: a new client with a short timeout)."""
        self._http = http or new_client(timeout_s=TIMEOUT_S)

    def get_json(self, url: str) -> Mapping[str, Any]:
        """GET ``url`` (retried: idempotent) and return its JSON object."""
        request = self._http.build_request("GET", url, headers={"Accept": "application/json"})
        response = send(self._http, request, service=SERVICE, idempotent=True)
        check_status(response, SERVICE, ok=(200,))
        return json_object(response, SERVICE)

    def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, Mapping[str, Any]]:
        """POST ``form``; the status and the JSON object (OAuth errors come as 400 JSON)."""
        request = self._http.build_request(
            "POST", url, data=dict(form), headers={"Accept": "application/json"}
        )
        response = send(self._http, request, service=SERVICE, idempotent=False)
        if response.status_code >= 500:
            check_status(response, SERVICE, ok=(200,))
        return response.status_code, json_object(response, SERVICE)


class LoopbackRedirect:
    """A one-shot HTTP listener on 127.0.0.1 receiving the authorization answer."""

    def __init__(self) -> None:
        """Listen on a free loopback port."""
        answers: queue.Queue[dict[str, str]] = queue.Queue(maxsize=1)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(_PAGE)
                if answers.empty():
                    answers.put(dict(parse_qsl(parts.query)))

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._answers = answers
        self._server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        """``http://localhost:<port>/auth/callback`` (issuers accept any port on localhost)."""
        return f"http://localhost:{self._server.server_port}{CALLBACK_PATH}"

    def wait(self, timeout_s: float) -> Mapping[str, str]:
        """The query of the first callback; stop listening afterwards."""
        try:
            return self._answers.get(timeout=timeout_s)
        except queue.Empty:
            raise NetworkError(
                "no login answer arrived", expected=f"within {timeout_s} s"
            ) from None
        finally:
            self._server.shutdown()
            self._server.server_close()
