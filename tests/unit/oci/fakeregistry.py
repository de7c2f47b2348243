"""An in-memory OCI registry speaking the distribution API, for ``httpx.MockTransport``."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response | None]

_ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags|referrers)/(?P<rest>.*)$")
TOKEN_REALM = "https://auth.example.test/token"
HOST = "registry.example.test"


def digest_of(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    """A registry in memory; knobs select features and faults."""

    referrers_api: bool = False
    subject_header: bool = False
    auth: str | None = None  # None, "basic" or "bearer"
    username: str = "alice"
    password: str = "s3cret"
    blobs: dict[str, dict[str, bytes]] = field(default_factory=dict)
    manifests: dict[str, dict[str, tuple[str, bytes]]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: list[dict[str, Any]] = field(default_factory=list)
    intercept: list[Handler] = field(default_factory=list)
    tags_page: int = 0

    def transport(self) -> httpx.MockTransport:
        """A transport routing every request to this registry."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request."""
        self.requests.append(request)
        for hook in self.intercept:
            answer = hook(request)
            if answer is not None:
                return answer
        if request.url.host == "auth.example.test":
            return self._token(request)
        denied = self._check_auth(request, request.url.path)
        if denied is not None:
            return denied
        if request.url.path == "/v2/":
            return httpx.Response(200, json={})
        match = _ROUTE.match(request.url.path)
        if match is None:
            return httpx.Response(404, text="404 page not found")
        name, kind, rest = match["name"], match["kind"], match["rest"]
        method = getattr(self, f"_{kind}")
        routed: httpx.Response = method(request, name, rest)
        return routed

    # -- auth ---------------------------------------------------------------
    def _scope(self, path: str, method: str) -> str:
        match = _ROUTE.match(path)
        name = match["name"] if match else "none"
        return f"repository:{name}:{'pull' if method in ('GET', 'HEAD') else 'pull,push'}"

    def _check_auth(self, request: httpx.Request, path: str) -> httpx.Response | None:
        header = request.headers.get("authorization", "")
        if self.auth == "basic":
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if header == f"Basic {expected}":
                return None
            return httpx.Response(
                401, headers={"WWW-Authenticate": 'Basic realm="fake"'}, json=_err("UNAUTHORIZED")
            )
        if self.auth == "bearer":
            scope = self._scope(path, request.method)
            if header.startswith("Bearer ") and self._token_allows(header[7:], scope):
                return None
            challenge = f'Bearer realm="{TOKEN_REALM}",service="{HOST}",scope="{scope}"'
            return httpx.Response(
                401, headers={"WWW-Authenticate": challenge}, json=_err("UNAUTHORIZED")
            )
        return None

    def _token_allows(self, token: str, scope: str) -> bool:
        try:
            granted = json.loads(base64.urlsafe_b64decode(token))
        except ValueError:
            return False
        name, _, actions = scope.rpartition(":")
        return any(
            g.rpartition(":")[0] == name
            and set(actions.split(",")) <= set(g.rpartition(":")[2].split(","))
            for g in granted
        )

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            form = dict(httpx.QueryParams(request.content.decode()))
            if form.get("refresh_token") != "refresh-me":
                return httpx.Response(401, json=_err("DENIED"))
            scopes = form.get("scope", "").split()
            self.tokens_issued.append({"form": form})
            return httpx.Response(200, json={"access_token": _token_for(scopes)})
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return httpx.Response(401, json=_err("DENIED"))
        scopes = request.url.params.get_list("scope")
        self.tokens_issued.append({"service": request.url.params.get("service"), "scopes": scopes})
        return httpx.Response(200, json={"token": _token_for(scopes)})

    # -- blobs ----------------------------------------------------------------
    def _blobs(self, request: httpx.Request, name: str, rest: str) -> httpx.Response:
        store = self.blobs.setdefault(name, {})
        if rest.startswith("uploads"):
            return self._upload(request, name, rest, store)
        if rest not in store:
            return httpx.Response(404, json=_err("BLOB_UNKNOWN"))
        data = store[rest]
        headers = {"Content-Length": str(len(data)), "Docker-Content-Digest": rest}
        return httpx.Response(
            200, headers=headers, content=b"" if request.method == "HEAD" else data
        )

    def _upload(
        self, request: httpx.Request, name: str, rest: str, store: dict[str, bytes]
    ) -> httpx.Response:
        if request.method == "POST":
            mount, source = request.url.params.get("mount"), request.url.params.get("from")
            if mount and source and mount in self.blobs.get(source, {}):
                store[mount] = self.blobs[source][mount]
                return httpx.Response(201, headers={"Location": f"/v2/{name}/blobs/{mount}"})
            return httpx.Response(
                202, headers={"Location": f"/v2/{name}/blobs/uploads/u1?_state=x"}
            )
        digest = request.url.params.get("digest", "")
        if request.url.params.get("_state") != "x" or digest_of(request.content) != digest:
            return httpx.Response(400, json=_err("DIGEST_INVALID"))
        store[digest] = request.content
        return httpx.Response(201, headers={"Docker-Content-Digest": digest})

    # -- manifests ------------------------------------------------------------
    def put_manifest(self, name: str, reference: str, media_type: str, raw: bytes) -> str:
        """Store a manifest directly (test set-up)."""
        digest = digest_of(raw)
        self.manifests.setdefault(name, {})[digest] = (media_type, raw)
        if not reference.startswith("sha256:"):
            self.tags.setdefault(name, {})[reference] = digest
        return digest

    def _manifests(self, request: httpx.Request, name: str, rest: str) -> httpx.Response:
        if request.method == "PUT":
            media_type = request.headers.get("content-type", "")
            digest = self.put_manifest(name, rest, media_type, request.content)
            headers = {
                "Docker-Content-Digest": digest,
                "Location": f"/v2/{name}/manifests/{digest}",
            }
            if self.subject_header and b'"subject"' in request.content:
                headers["OCI-Subject"] = json.loads(request.content)["subject"]["digest"]
            return httpx.Response(201, headers=headers)
        digest = rest if rest.startswith("sha256:") else self.tags.get(name, {}).get(rest, "")
        found = self.manifests.get(name, {}).get(digest)
        if found is None:
            return httpx.Response(404, json=_err("MANIFEST_UNKNOWN"))
        media_type, raw = found
        headers = {
            "Content-Type": media_type,
            "Docker-Content-Digest": str(digest),
            "Content-Length": str(len(raw)),
        }
        return httpx.Response(
            200, headers=headers, content=b"" if request.method == "HEAD" else raw
        )

    # -- tags and referrers ---------------------------------------------------
    def _tags(self, request: httpx.Request, name: str, rest: str) -> httpx.Response:
        if name not in self.tags:
            return httpx.Response(404, json=_err("NAME_UNKNOWN"))
        names = sorted(self.tags[name])
        last = request.url.params.get("last")
        if last:
            names = [tag for tag in names if tag > last]
        if self.tags_page and len(names) > self.tags_page:
            names = names[: self.tags_page]
            link = f'</v2/{name}/tags/list?n={self.tags_page}&last={names[-1]}>; rel="next"'
            return httpx.Response(200, headers={"Link": link}, json={"name": name, "tags": names})
        return httpx.Response(200, json={"name": name, "tags": names})

    def _referrers(self, request: httpx.Request, name: str, rest: str) -> httpx.Response:
        if not self.referrers_api:
            return httpx.Response(404, text="404 page not found")
        wanted = request.url.params.get("artifactType")
        items = []
        for digest, (media_type, raw) in self.manifests.get(name, {}).items():
            doc = json.loads(raw)
            if doc.get("subject", {}).get("digest") != rest:
                continue
            kind = doc.get("artifactType") or doc["config"]["mediaType"]
            if wanted and kind != wanted:
                continue
            item = {
                "mediaType": media_type,
                "digest": digest,
                "size": len(raw),
                "artifactType": kind,
            }
            if doc.get("annotations"):
                item["annotations"] = doc["annotations"]
            items.append(item)
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": items,
        }
        headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
        return httpx.Response(
            200,
            headers=headers | {"Content-Type": "application/vnd.oci.image.index.v1+json"},
            json=index,
        )


def _err(code: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": code.lower().replace("_", " ")}]}


def _token_for(scopes: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(scopes).encode()).decode()
