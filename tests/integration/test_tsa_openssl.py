"""The timestamp API on a real HTTP server against ``openssl ts`` and ``rfc3161-client``.

``openssl ts -query`` makes the requests (SHA-256/384/512, with and without
``-cert`` and nonce); ``openssl ts -verify`` and ``rfc3161-client`` check the
answers; tampered answers must be refused by both.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rfc3161_client
import uvicorn
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from lacre.apps.direct import DirectPosts
from lacre.apps.errors import install_error_handlers
from lacre.apps.openapi import install_openapi
from lacre.apps.server.app import bind
from lacre.apps.server.tsa_setup import TsaParts, open_tsa
from lacre.apps.tsa.fast import timestamp_posts
from lacre.apps.tsa.routes import tsa_router

QUERY = {"content-type": "application/timestamp-query"}
DATA = b"the bytes of a signature\n"


@dataclass(frozen=True)
class Tsa:
    url: str
    parts: TsaParts
    root: Path
    leaf: Path
    data: Path


def serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tsa]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed for the TSA interoperability tests", pytrace=False)
    directory = tmp_path_factory.mktemp("tsa")
    parts = open_tsa(data_dir=directory, key_uri=None, dev=True, passphrase=None)
    assert parts is not None
    app = FastAPI()
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(tsa_router(parts.authority))
    app.add_middleware(
        DirectPosts, handlers=timestamp_posts(parts.authority)
    )  # as the server runs it
    server, thread, url = serve(app)
    data = directory / "data.bin"
    data.write_bytes(DATA)
    yield Tsa(url, parts, directory / "tsa" / "root.pem", directory / "tsa" / "leaf.pem", data)
    server.should_exit = True
    thread.join(timeout=20)


def openssl(*arguments: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["openssl", "ts", *map(str, arguments)], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"openssl ts {arguments} failed: {done.stdout}{done.stderr}")
    return done


def query(tsa: Tsa, path: Path, *options: str) -> bytes:
    openssl("-query", "-data", tsa.data, *options, "-out", path)
    return path.read_bytes()


def post(tsa: Tsa, body: bytes, expected: int = 200) -> bytes:
    answer = httpx.post(f"{tsa.url}/api/v1/timestamp", content=body, headers=QUERY, timeout=10)
    assert answer.status_code == expected, answer.text
    assert answer.headers["content-type"] == "application/timestamp-reply"
    return answer.content


def openssl_verifies(tsa: Tsa, response: Path, request: Path) -> bool:
    done = openssl(
        "-verify", "-in", response, "-queryfile", request,
        "-CAfile", tsa.root, "-untrusted", tsa.leaf, check=False,
    )  # fmt: skip
    return done.returncode == 0 and "Verification: OK" in done.stdout


def rfc3161_verifier(tsa: Tsa, nonce: int | None) -> rfc3161_client.Verifier:
    chain = tsa.parts.authority.chain
    builder = (
        rfc3161_client.VerifierBuilder()
        .tsa_certificate(chain.leaf)
        .add_root_certificate(chain.root)
    )
    return (builder if nonce is None else builder.nonce(nonce)).build()


CASES = [
    ("-sha256", "-cert"),
    ("-sha384", "-cert"),
    ("-sha512", "-cert"),
    ("-sha256",),
    ("-sha256", "-no_nonce"),
    ("-sha512", "-no_nonce", "-cert"),
]


@pytest.mark.parametrize("options", CASES, ids=" ".join)
def test_openssl_request_verifies(tsa: Tsa, tmp_path: Path, options: tuple[str, ...]) -> None:
    request_path, response_path = tmp_path / "req.tsq", tmp_path / "resp.tsr"
    response = post(tsa, query(tsa, request_path, *options))
    response_path.write_bytes(response)
    assert openssl_verifies(tsa, response_path, request_path)
    by_data = openssl(
        "-verify", "-data", tsa.data, "-in", response_path,
        "-CAfile", tsa.root, "-untrusted", tsa.leaf, check=False,
    )  # fmt: skip
    assert by_data.returncode == 0, by_data.stderr

    text = openssl("-reply", "-in", response_path, "-text").stdout
    assert "Status: Granted." in text
    assert "Policy OID: 1.3.6.1.4.1.57264.2" in text
    assert f"Hash Algorithm: {options[0][1:]}" in text
    assert "Accuracy: 0x01 seconds" in text
    assert "TSA: DirName:/O=lacre/CN=lacre tsa" in text
    assert ("Nonce: unspecified" in text) == ("-no_nonce" in options)

    request = openssl("-query", "-in", request_path, "-text").stdout
    nonce = None
    if "-no_nonce" not in options:
        nonce = int(request.split("Nonce: ")[1].split()[0], 16)
    parsed = rfc3161_client.decode_timestamp_response(response)
    assert parsed.tst_info.nonce == nonce
    assert len(parsed.signed_data.certificates) == (2 if "-cert" in options else 0)
    assert rfc3161_verifier(tsa, nonce).verify_message(parsed, DATA)


def test_other_data_does_not_verify(tsa: Tsa, tmp_path: Path) -> None:
    request_path, response_path = tmp_path / "req.tsq", tmp_path / "resp.tsr"
    response_path.write_bytes(post(tsa, query(tsa, request_path, "-sha256", "-cert")))
    other = tmp_path / "other.bin"
    other.write_bytes(b"other")
    done = openssl(
        "-verify", "-data", other, "-in", response_path,
        "-CAfile", tsa.root, "-untrusted", tsa.leaf, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    parsed = rfc3161_client.decode_timestamp_response(response_path.read_bytes())
    with pytest.raises(rfc3161_client.VerificationError):
        rfc3161_verifier(tsa, None).verify_message(parsed, b"other")


def tamper_signature(response: bytes) -> bytes:
    """Flip the last byte: the end of the ECDSA signature, the last field of the SignerInfo."""
    return response[:-1] + bytes([response[-1] ^ 0x01])


def tamper_imprint(response: bytes) -> bytes:
    """Flip a byte of the message imprint inside the signed TSTInfo."""
    digest = hashlib.sha256(DATA).digest()
    at = response.index(digest)
    return response[:at] + bytes([digest[0] ^ 0x80]) + response[at + 1 :]


def tamper_gen_time(response: bytes) -> bytes:
    """Change a digit of genTime (GeneralizedTime, tag 0x18, 15 bytes)."""
    at = response.index(b"\x18\x0f") + 2
    digit = response[at + 3]
    return response[: at + 3] + bytes([digit ^ 0x01]) + response[at + 4 :]


@pytest.mark.parametrize("tamper", [tamper_signature, tamper_imprint, tamper_gen_time])
def test_tampered_responses_are_refused(
    tsa: Tsa, tmp_path: Path, tamper: Callable[[bytes], bytes]
) -> None:
    request_path, response_path = tmp_path / "req.tsq", tmp_path / "resp.tsr"
    genuine = post(tsa, query(tsa, request_path, "-sha256", "-cert", "-no_nonce"))
    tampered = tamper(genuine)
    assert tampered != genuine and len(tampered) == len(genuine)
    response_path.write_bytes(tampered)
    assert not openssl_verifies(tsa, response_path, request_path)
    with pytest.raises((rfc3161_client.VerificationError, ValueError)):
        parsed = rfc3161_client.decode_timestamp_response(tampered)
        rfc3161_verifier(tsa, None).verify_message(parsed, DATA)


def test_foreign_root_is_refused(tsa: Tsa, tmp_path: Path) -> None:
    other = open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=None)
    assert other is not None
    other_root = tmp_path / "other-root.pem"
    other_root.write_bytes(other.authority.chain.root.public_bytes(serialization.Encoding.PEM))
    request_path, response_path = tmp_path / "req.tsq", tmp_path / "resp.tsr"
    response_path.write_bytes(post(tsa, query(tsa, request_path, "-sha256", "-cert")))
    done = openssl(
        "-verify", "-in", response_path, "-queryfile", request_path, "-CAfile", other_root,
        check=False,
    )  # fmt: skip
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("options", "failure"),
    [(("-sha1",), "unrecognized or unsupported algorithm"), (("-md5",), "unrecognized")],
)
def test_openssl_reads_our_rejections(
    tsa: Tsa, tmp_path: Path, options: tuple[str, ...], failure: str
) -> None:
    request_path, response_path = tmp_path / "req.tsq", tmp_path / "resp.tsr"
    response_path.write_bytes(post(tsa, query(tsa, request_path, *options), expected=400))
    text = openssl("-reply", "-in", response_path, "-text").stdout
    assert "Status: Rejected." in text
    assert failure in text
    assert "expected SHA-256, SHA-384 or SHA-512" in text
    assert not openssl_verifies(tsa, response_path, request_path)


def test_certchain_is_what_openssl_trusts(tsa: Tsa) -> None:
    answer = httpx.get(f"{tsa.url}/api/v1/timestamp/certchain", timeout=10)
    assert answer.status_code == 200
    assert answer.content == tsa.leaf.read_bytes() + tsa.root.read_bytes()
