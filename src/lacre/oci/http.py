"""The HTTP layer under the registry client: URLs, auth, retries, size limits, round trips.

Every exchange has timeouts; idempotent requests (GET, HEAD) are retried with
exponential backoff on network failures and on 429/5xx answers; bodies are read
up to a caller-given limit (over it: :class:`~lacre.errors.TooLarge`); every
HTTP response, including redirects and token requests, counts as one round trip.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import lacre
from lacre.errors import ConfigError, NetworkError, TooLarge
from lacre.oci.auth import CredentialSource, RegistryAuth
from lacre.oci.reference import ImageReference

MIB = 1 << 20
_RETRYABLE = frozenset({429, 500, 502, 503, 504})
_ERROR_BODY_LIMIT = 64 * 1024
_TOKEN_BODY_LIMIT = MIB
_MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True, kw_only=True)
class RegistryOptions:
    """How to talk to registries.

    Plain HTTP is used for loopback registries (unless ``loopback_plain_http``
    is False) and for every registry when ``insecure`` is set; HTTPS otherwise,
    verified against ``ca_bundle`` if given, else the system's CAs.
    """

    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    ca_bundle: Path | None = None
    insecure: bool = False
    loopback_plain_http: bool = True
    max_manifest_bytes: int = 4 * MIB
    max_blob_bytes: int = 64 * MIB
    user_agent: str = f"lacre/{getattr(lacre, '__version__', '0')}"


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer (body read within its limit)."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL = field(repr=False)

    def error_summary(self) -> str:
        """``HTTP <status>`` plus the registry's error codes and messages, if any."""
        return f"HTTP {self.status}" + _registry_errors(self.body)


def _registry_errors(body: bytes) -> str:
    try:
        errors = json.loads(body).get("errors")
        items = [f"{e.get('code')}: {e.get('message')}" for e in errors[:3]]
    except (AttributeError, TypeError, ValueError, UnicodeDecodeError):
        return ""
    return f" ({'; '.join(items)})" if items else ""


@functools.lru_cache(maxsize=8)
def _shared_ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """One TLS context per CA bundle, shared by clients (loading the CAs takes tens of ms)."""
    if ca_bundle is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the CA bundle {ca_bundle}: {exc}") from None


class RegistryHttp:
    """Sends registry API requests for :class:`~lacre.oci.registry.RegistryClient`."""

    def __init__(
        self,
        options: RegistryOptions,
        *,
        credentials: CredentialSource | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Build the HTTP client; ``transport`` replaces the network (tests)."""
        self.options = options
        self.round_trips = 0
        self._auth = RegistryAuth(credentials)
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(options.timeout_s, connect=options.connect_timeout_s),
            verify=_shared_ssl_context(options.ca_bundle),
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": options.user_agent},
            event_hooks={"response": [self._count]},
        )

    def _count(self, _response: httpx.Response) -> None:
        self.round_trips += 1

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def base_url(self, image: ImageReference) -> str:
        """``http(s)://<api host>`` for the registry of ``image``."""
        plain = self.options.insecure or (self.options.loopback_plain_http and image.is_loopback)
        return f"{'http' if plain else 'https'}://{image.api_host}"

    def request(
        self,
        method: str,
        url: str,
        *,
        scopes: Sequence[str],
        max_bytes: int,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Reply:
        """Send one API request (authorized, retried if idempotent); return the reply."""
        attempts = self.options.retries + 1 if method in ("GET", "HEAD") else 1
        for attempt in range(1, attempts + 1):
            try:
                request = self._client.build_request(
                    method, url, params=params, headers=headers, content=content
                )
            except httpx.InvalidURL as exc:
                raise NetworkError(f"unusable registry URL {url[:200]!r}: {exc}") from None
            try:
                reply = self._authorized(request, tuple(scopes), max_bytes)
            except httpx.RequestError as exc:
                if attempt == attempts:
                    raise NetworkError(
                        f"registry request {method} {request.url} failed after {attempt} "
                        f"attempt(s): {type(exc).__name__}: {exc}"
                    ) from None
                self._sleep(self._backoff(attempt, None))
                continue
            if reply.status not in _RETRYABLE or attempt == attempts:
                return reply
            self._sleep(self._backoff(attempt, reply.headers.get("retry-after")))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        delay: float = min(self.options.backoff_s * 2 ** (attempt - 1), self.options.max_backoff_s)
        if retry_after is not None and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), _MAX_RETRY_AFTER_S))
        return delay

    def _authorized(self, request: httpx.Request, scopes: tuple[str, ...], limit: int) -> Reply:
        host = request.url.netloc.decode()
        cached = self._auth.cached(host, scopes)
        if cached is not None:
            request.headers["Authorization"] = cached
        reply = self._exchange(request, limit)
        if reply.status != httpx.codes.UNAUTHORIZED:
            return reply
        challenges = reply.headers.get_list("www-authenticate")
        header = self._auth.authorize(request.url, scopes, challenges, self._send_token)
        if header is None or header == cached:
            return reply
        request.headers["Authorization"] = header
        return self._exchange(request, limit)

    def _send_token(self, request: httpx.Request) -> tuple[int, bytes]:
        reply = self._exchange(request, _TOKEN_BODY_LIMIT)
        return reply.status, reply.body

    def _exchange(self, request: httpx.Request, limit: int) -> Reply:
        response = self._client.send(request, stream=True)
        try:
            ok = response.is_success
            if request.method == "HEAD":
                body = b""
            else:
                body = _read_limited(response, limit if ok else _ERROR_BODY_LIMIT, strict=ok)
        finally:
            response.close()
        return Reply(response.status_code, response.headers, body, response.url)


def _read_limited(response: httpx.Response, limit: int, *, strict: bool) -> bytes:
    """Read at most ``limit`` bytes; over it raise TooLarge (``strict``) or truncate."""
    declared = response.headers.get("content-length", "")
    if (
        strict
        and declared.isdigit()
        and int(declared) > limit
        and response.request.method != "HEAD"
    ):
        raise TooLarge(
            f"{response.url} is too large",
            expected=f"at most {limit} bytes",
            found=f"{declared} bytes",
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            if strict:
                raise TooLarge(
                    f"{response.url} is too large",
                    expected=f"at most {limit} bytes",
                    found=f"over {limit} bytes",
                )
            chunks.append(chunk[: limit - (size - len(chunk))])
            break
        chunks.append(chunk)
    return b"".join(chunks)
