"""Concurrent Rekor v1 and v2 writers against ``lacre server``, and what they were promised.

* :class:`LacreProcess`: a ``lacre server --dev`` process with its log in a file,
  which a test can SIGKILL and start again on the same data directory.
* :class:`EntryMaker`: distinct ``hashedrekord`` entries over fresh artifact
  digests, signed with real ECDSA P-256 keys, in the Rekor v1 and v2 forms.
* :class:`Writer`: posts entries one after another until stopped or until the
  server goes away; an entry whose answer never came is posted again next time.
* :class:`History`: every acknowledged (201) entry with its index, inclusion
  proof and signed checkpoint, each checked as it arrives, every checkpoint
  seen, and every refusal as a duplicate (409).
* :func:`audit`: checks both logs a server serves against a history, through
  the tiles, the Rekor v1 API and proofs verified with ``lacre.transparency``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from lacre.errors import Error
from lacre.keys import PublicKey
from lacre.rekor.set import verify_inclusion_promise
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier
from lacre.transparency.tiles import TILE_WIDTH, decode_entry_bundle, tile_refs_for_size

V1_PATH = "/api/v1/log/entries"
V2_PATH = "/api/v2/log/entries"
TILE_PREFIX = {"v1": "/logs/rekor-v1", "v2": ""}
"""Where each log publishes its checkpoint and tiles."""
READY_TIMEOUT_S = 90.0
REQUEST_TIMEOUT_S = 30.0


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class LacreProcess:
    """``lacre server --dev`` on ``data_dir``; stderr goes to ``log``."""

    def __init__(
        self, data_dir: Path, log: Path, *extra: str, port: int = 0, public_url: str | None = None
    ) -> None:
        """Start the server and wait until it says it is ready."""
        self.data_dir, self.log = data_dir, log
        command = [sys.executable, "-m", "lacre", "server", "--dev", "--data-dir", str(data_dir)]
        command += ["--port", str(port), *extra]
        command += ["--public-url", public_url] if public_url else []
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr)
        lines: queue.Queue[bytes] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=_drain, args=(self.process.stdout, lines), daemon=True).start()
        try:
            ready = lines.get(timeout=READY_TIMEOUT_S).decode()
        except queue.Empty:
            ready = ""
        if " ready at " not in ready:
            self.stop()
            raise AssertionError(f"server did not start: {ready!r}\n{self.log_tail()}")
        printed = ready.split()[-1]
        self.public_url = public_url.rstrip("/") if public_url else printed
        self.url = f"http://127.0.0.1:{port}" if port else printed
        self.host = urlsplit(self.public_url).hostname or ""

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server wrote on stderr."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the server, which must still be running."""
        assert self.process.poll() is None, f"server exited by itself:\n{self.log_tail()}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL

    def stop(self) -> None:
        """SIGTERM the server if it runs (SIGKILL if it does not stop) and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _drain(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(b"")  # the server closed its stdout: it exited


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hashedrekord_requests(
    key: ec.EllipticCurvePrivateKey, digest: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Rekor v1 ``hashedrekord`` and v2 ``hashedRekordRequestV002``: ``key`` signs ``digest``."""
    signature = _b64(key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
    public = key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    v1 = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            "signature": {"content": signature, "publicKey": {"content": _b64(pem)}},
        },
    }
    verifier = {"publicKey": {"rawBytes": _b64(der)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}
    v2 = {
        "hashedRekordRequestV002": {
            "digest": _b64(digest),
            "signature": {"content": signature, "verifier": verifier},
        }
    }
    return v1, v2


@dataclass(frozen=True)
class Entry:
    """One artifact signature, as a Rekor v1 ProposedEntry and a v2 CreateEntryRequest."""

    digest: bytes
    v1_body: bytes
    v2_body: bytes

    def in_body(self, api: str, body: bytes) -> bool:
        """Whether a logged canonical body is this entry's (it names the digest)."""
        named = self.digest.hex() if api == "v1" else _b64(self.digest)
        return f'"{named}"'.encode() in body


class EntryMaker:
    """Distinct entries over fresh digests, spread over a few P-256 keys; thread-safe."""

    def __init__(self, label: str, keys: int = 4) -> None:
        """Entries whose artifacts are ``label``, a random tag and a counter."""
        self._keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(keys)]
        self._prefix = f"{label} {secrets.token_hex(8)} ".encode()
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def __call__(self) -> Entry | None:
        """The next entry (never None: the supply is endless)."""
        with self._lock:
            number = next(self._counter)
        digest = hashlib.sha256(self._prefix + str(number).encode()).digest()
        key = self._keys[number % len(self._keys)]
        v1, v2 = hashedrekord_requests(key, digest)
        return Entry(digest, json.dumps(v1).encode(), json.dumps(v2).encode())


EntrySource = Callable[[], Entry | None]
"""Gives the next entry to post, or None when there is no more."""


@dataclass(frozen=True)
class LogView:
    """What a client knows of one log: its checkpoint origin, note key name and key."""

    api: str
    origin: str
    key_name: str
    key: PublicKey
    tree_id: int | None = None

    def open(self, note: bytes) -> Checkpoint:
        """Verify a signed checkpoint of this log and parse it."""
        return open_checkpoint(note, [KeyNoteVerifier(self.key_name, self.key)], origin=self.origin)


def log_views(server: LacreProcess) -> dict[str, LogView]:
    """Both logs of ``server``: keys from its trusted root, the v1 tree ID from its API."""
    document = json.loads((server.data_dir / "client" / "trusted_root.json").read_text())
    v1_tlog, main_tlog = document["tlogs"]  # the Rekor v1 tree, then the main (v2) log

    def key(tlog: dict[str, Any]) -> PublicKey:
        return PublicKey.from_der(base64.b64decode(tlog["publicKey"]["rawBytes"]))

    info = httpx.get(f"{server.url}/api/v1/log", timeout=REQUEST_TIMEOUT_S).json()
    tree_id = int(info["treeID"])
    pem = httpx.get(f"{server.url}/api/v1/log/publicKey", timeout=REQUEST_TIMEOUT_S).content
    assert PublicKey.from_pem(pem).spki_der == key(v1_tlog).spki_der
    host = server.host
    return {
        "v1": LogView("v1", f"{host} - {tree_id}", host, key(v1_tlog), tree_id),
        "v2": LogView("v2", host, host, key(main_tlog)),
    }


@dataclass(frozen=True)
class Ack:
    """An acknowledged entry: where it was logged and the proof it came with."""

    index: int
    body: bytes
    size: int
    root: bytes
    hashes: tuple[bytes, ...]
    checkpoint: bytes
    uuid: str = ""


def parse_v1(answer: dict[str, Any], view: LogView) -> Ack:
    """Check a Rekor v1 LogEntry (proof, checkpoint, SET) and return what it acknowledges."""
    ((uuid, entry),) = answer.items()
    proof = entry["verification"]["inclusionProof"]
    body = base64.b64decode(entry["body"], validate=True)
    ack = Ack(
        index=entry["logIndex"],
        body=body,
        size=proof["treeSize"],
        root=bytes.fromhex(proof["rootHash"]),
        hashes=tuple(bytes.fromhex(node) for node in proof["hashes"]),
        checkpoint=proof["checkpoint"].encode(),
        uuid=uuid,
    )
    assert proof["logIndex"] == ack.index
    assert uuid.endswith(merkle.leaf_hash(body).hex())
    signature = base64.b64decode(entry["verification"]["signedEntryTimestamp"], validate=True)
    log_id = bytes.fromhex(entry["logID"])
    verify_inclusion_promise(
        view.key,
        signature,
        body=body,
        integrated_time=entry["integratedTime"],
        log_id=log_id,
        log_index=ack.index,
    )
    _check_proof(ack, view)
    return ack


def parse_v2(answer: dict[str, Any], view: LogView) -> Ack:
    """Check a Rekor v2 TransparencyLogEntry (proof, checkpoint) and return what it acknowledges."""
    proof = answer["inclusionProof"]
    ack = Ack(
        index=int(answer["logIndex"]),
        body=base64.b64decode(answer["canonicalizedBody"], validate=True),
        size=int(proof["treeSize"]),
        root=base64.b64decode(proof["rootHash"], validate=True),
        hashes=tuple(base64.b64decode(node, validate=True) for node in proof["hashes"]),
        checkpoint=proof["checkpoint"]["envelope"].encode(),
    )
    assert int(proof["logIndex"]) == ack.index
    _check_proof(ack, view)
    return ack


def _check_proof(ack: Ack, view: LogView) -> None:
    leaf = merkle.leaf_hash(ack.body)
    merkle.verify_inclusion(leaf, ack.index, ack.size, list(ack.hashes), ack.root)
    checkpoint = view.open(ack.checkpoint)
    assert (checkpoint.size, checkpoint.root_hash) == (ack.size, ack.root)


@dataclass(frozen=True)
class Refusal:
    """A 409: the entry is already logged, at ``index`` (v2) or under ``uuid`` (v1)."""

    api: str
    entry: Entry
    index: int | None
    uuid: str | None


@dataclass
class History:
    """Everything the servers acknowledged, across kills and servers."""

    views: dict[str, LogView]
    acks: dict[str, dict[int, Ack]] = field(default_factory=lambda: {"v1": {}, "v2": {}})
    index_of: dict[str, dict[bytes, int]] = field(default_factory=lambda: {"v1": {}, "v2": {}})
    checkpoints: dict[str, dict[int, bytes]] = field(default_factory=lambda: {"v1": {}, "v2": {}})
    refusals: list[Refusal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cut_off: int = 0
    """Requests whose answer never came because the server went away."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, api: str, entry: Entry, answer: dict[str, Any]) -> None:
        """Record a 201 answer for ``entry``, checking it and its consistency with the rest."""
        view = self.views[api]
        try:
            ack = parse_v1(answer, view) if api == "v1" else parse_v2(answer, view)
        except (AssertionError, Error, KeyError, ValueError, TypeError) as exc:
            self.problem(f"{api} answer for {entry.digest.hex()} does not check: {exc!r}")
            return
        with self.lock:
            if not entry.in_body(api, ack.body):
                self.problems.append(f"{api} index {ack.index} logged another body")
            if self.acks[api].setdefault(ack.index, ack).body != ack.body:
                self.problems.append(f"{api} index {ack.index} acknowledged for two entries")
            if self.index_of[api].setdefault(ack.body, ack.index) != ack.index:
                self.problems.append(f"{api} entry acknowledged as new at two indices")
            elif self.acks[api][ack.index] is not ack:
                self.problems.append(f"{api} entry at {ack.index} acknowledged as new twice")
            self.checkpoint_seen(api, ack.size, ack.root)

    def checkpoint_seen(self, api: str, size: int, root: bytes) -> None:
        """Record a verified checkpoint (call with the lock held)."""
        if self.checkpoints[api].setdefault(size, root) != root:
            self.problems.append(f"{api}: two roots for tree size {size}")

    def refused(self, refusal: Refusal) -> None:
        """Record a 409."""
        with self.lock:
            self.refusals.append(refusal)

    def problem(self, message: str) -> None:
        """Record something wrong seen by a writer thread."""
        with self.lock:
            self.problems.append(message)

    def interrupted(self) -> None:
        """Count a request cut off by the server going away."""
        with self.lock:
            self.cut_off += 1

    def count(self, api: str) -> int:
        """Entries acknowledged so far in ``api``'s log."""
        with self.lock:
            return len(self.acks[api])


class Writer:
    """Posts entries to one Rekor API, one at a time, keeping an unanswered one for later."""

    def __init__(self, api: str, entries: EntrySource, history: History) -> None:
        """Post entries from ``entries`` to the ``api`` ("v1" or "v2") create endpoint."""
        self.api, self.entries, self.history = api, entries, history
        self.pending: Entry | None = None
        self.answers: dict[bytes, int] = {}
        """The final status of each entry posted, by digest."""

    def run(self, url: str, stop: threading.Event) -> None:
        """Post until ``stop`` is set, the entries run out, or the server goes away."""
        path = V1_PATH if self.api == "v1" else V2_PATH
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
            while not stop.is_set():
                entry = self.pending = self.pending or self.entries()
                if entry is None:
                    return
                body = entry.v1_body if self.api == "v1" else entry.v2_body
                try:
                    response = http.post(path, content=body, headers=_JSON)
                except httpx.TransportError:
                    self.history.interrupted()
                    return
                self._answered(entry, response)

    def _answered(self, entry: Entry, response: httpx.Response) -> None:
        if response.status_code == 503:
            time.sleep(0.05)
            return
        self.pending = None
        self.answers[entry.digest] = response.status_code
        if response.status_code == 201:
            self.history.acknowledged(self.api, entry, response.json())
        elif response.status_code == 409:
            index = response.headers.get("x-log-index")
            uuid = response.headers.get("location", "").rsplit("/", 1)[-1] or None
            self.history.refused(Refusal(self.api, entry, int(index) if index else None, uuid))
        else:
            self.history.problem(f"{self.api}: HTTP {response.status_code}: {response.text[:300]}")


_JSON = {"Content-Type": "application/json"}


def run_writers(writers: list[tuple[Writer, str]], stop: threading.Event) -> list[threading.Thread]:
    """Start each writer against its server URL in its own thread."""
    threads = [
        threading.Thread(target=writer.run, args=(url, stop), daemon=True)
        for writer, url in writers
    ]
    for thread in threads:
        thread.start()
    return threads


# --- checks of a server against a history ---------------------------------------------


def audit(http: httpx.Client, history: History, *, sample: int = 25) -> dict[str, Checkpoint]:
    """Check both logs ``http`` serves against ``history`` (no writes meanwhile).

    Each log's checkpoint verifies; its tiles hold every acknowledged entry at
    its index, no entry twice, and hash to the checkpoint's root; every
    checkpoint seen before is the root of a prefix and consistent with the new
    one by a proof; every 409 names where the entry is. The new checkpoints join
    the history, so later states must extend them. Returns them.
    """
    assert not history.problems, "\n".join(history.problems[:20])
    return {api: _audit_log(http, view, history, sample) for api, view in history.views.items()}


def _audit_log(http: httpx.Client, view: LogView, history: History, sample: int) -> Checkpoint:
    prefix = TILE_PREFIX[view.api]
    current = view.open(_get(http, f"{prefix}/checkpoint").content)
    entries = _entries(http, prefix, current.size)
    levels = tree_levels([merkle.leaf_hash(entry) for entry in entries])
    _check_tiles(http, prefix, current.size, levels)
    leaves = levels[0]
    assert merkle.root_of(leaves) == current.root_hash, f"{view.api}: tiles differ from the root"
    assert len(set(leaves)) == len(leaves), f"{view.api}: an entry is stored twice"
    with history.lock:
        acks = list(history.acks[view.api].values())
        seen = dict(history.checkpoints[view.api])
        refusals = [item for item in history.refusals if item.api == view.api]
    for ack in acks:
        assert ack.index < current.size, f"{view.api}: acknowledged {ack.index} is gone"
        assert entries[ack.index] == ack.body, f"{view.api}: entry {ack.index} changed"
    roots = _check_seen(view, seen, current, levels, http)
    for ack in acks:  # the proof given with the 201, against the tree the server now serves
        leaf = merkle.leaf_hash(ack.body)
        merkle.verify_inclusion(leaf, ack.index, ack.size, list(ack.hashes), roots[ack.size])
    _check_refusals(view, refusals, entries)
    if view.api == "v1":
        _check_v1_api(http, view, acks[-sample:] + acks[:sample], current)
    else:
        _check_inclusion(acks, current, levels)
    with history.lock:
        history.checkpoint_seen(view.api, current.size, current.root_hash)
    assert not history.problems, "\n".join(history.problems[:20])
    return current


def _get(http: httpx.Client, path: str) -> httpx.Response:
    response = http.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:200]}"
    return response


def _entries(http: httpx.Client, prefix: str, size: int) -> list[bytes]:
    entries: list[bytes] = []
    for ref in tile_refs_for_size(size, entries=True):
        if ref.kind == "entries":
            data = _get(http, f"{prefix}/{ref.path()}").content
            entries += decode_entry_bundle(data, ref.width)
    assert len(entries) == size
    return entries


def tree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every perfect subtree hash of the tree over ``leaves``, level by level."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )
    return levels


def _check_tiles(http: httpx.Client, prefix: str, size: int, levels: list[list[bytes]]) -> None:
    for ref in tile_refs_for_size(size):
        start = ref.index * TILE_WIDTH
        expected = b"".join(levels[8 * ref.level][start : start + ref.width])
        assert _get(http, f"{prefix}/{ref.path()}").content == expected, f"tile {ref.path()}"


def _check_seen(
    view: LogView,
    seen: dict[int, bytes],
    current: Checkpoint,
    levels: list[list[bytes]],
    http: httpx.Client,
) -> dict[int, bytes]:
    """Every checkpoint seen is a prefix of the current tree, proven consistent with it.

    The v2 proofs are built from the tiles the server serves, for every size
    seen; the v1 proofs come from the Rekor v1 API, for at most 40 sizes.
    Returns the roots of the served tree's prefixes of those sizes.
    """
    roots: dict[int, bytes] = {}
    frontier = merkle.Frontier()
    sizes = sorted(seen)
    asked = set(sizes[:: max(1, len(sizes) // 40)]) | set(sizes[-1:])
    for size in sizes:
        assert size <= current.size, f"{view.api}: a checkpoint of {size} was rolled back"
        frontier.extend(levels[0][frontier.size : size])
        roots[size] = frontier.root()
        assert roots[size] == seen[size], f"{view.api}: tree {size} was rewritten"
        if 0 < size < current.size and (view.api == "v2" or size in asked):
            proof = _consistency(http, view, size, current, levels)
            merkle.verify_consistency(size, current.size, proof, seen[size], current.root_hash)
    return roots


def _consistency(
    http: httpx.Client, view: LogView, size: int, current: Checkpoint, levels: list[list[bytes]]
) -> list[bytes]:
    """The server's proof (Rekor v1 API), or one built from the tiles it serves (v2)."""
    if view.api == "v2":
        return merkle.consistency_proof(
            size, current.size, lambda level, index: levels[level][index]
        )
    answer = _get(http, f"/api/v1/log/proof?firstSize={size}&lastSize={current.size}").json()
    assert bytes.fromhex(answer["rootHash"]) == current.root_hash
    return [bytes.fromhex(node) for node in answer["hashes"]]


def _check_inclusion(acks: list[Ack], current: Checkpoint, levels: list[list[bytes]]) -> None:
    for ack in acks:
        proof = merkle.inclusion_proof(
            ack.index, current.size, lambda level, index: levels[level][index]
        )
        leaf = merkle.leaf_hash(ack.body)
        merkle.verify_inclusion(leaf, ack.index, current.size, proof, current.root_hash)


def _check_refusals(view: LogView, refusals: list[Refusal], entries: list[bytes]) -> None:
    where = {merkle.leaf_hash(entry): index for index, entry in enumerate(entries)}
    for refusal in refusals:
        if view.api == "v2":
            assert refusal.index is not None, "a v2 409 without x-log-index"
            index = refusal.index
        else:
            assert refusal.uuid is not None, "a v1 409 without Location"
            index = where[bytes.fromhex(refusal.uuid[-64:])]
        assert index < len(entries) and refusal.entry.in_body(view.api, entries[index]), (
            f"{view.api}: a 409 names index {index}, which holds another entry"
        )


def _check_v1_api(http: httpx.Client, view: LogView, acks: list[Ack], current: Checkpoint) -> None:
    """Acknowledged entries by index, by UUID and by search, with fresh proofs."""
    info = _get(http, "/api/v1/log").json()
    assert (info["treeSize"], info["rootHash"]) == (current.size, current.root_hash.hex())
    assert view.open(info["signedTreeHead"].encode()) == current
    for ack in acks:
        fresh = parse_v1(_get(http, f"{V1_PATH}?logIndex={ack.index}").json(), view)
        assert (fresh.index, fresh.body, fresh.size) == (ack.index, ack.body, current.size)
        assert fresh.root == current.root_hash
        by_uuid = parse_v1(_get(http, f"{V1_PATH}/{ack.uuid}").json(), view)
        assert (by_uuid.index, by_uuid.body) == (ack.index, ack.body)
        digest = json.loads(ack.body)["spec"]["data"]["hash"]["value"]
        found = http.post("/api/v1/index/retrieve", json={"hash": f"sha256:{digest}"})
        assert found.status_code == 200, found.text
        assert ack.uuid in found.json(), f"search by hash misses entry {ack.index}"
