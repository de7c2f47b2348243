"""Artifacts given as bytes or as ``sha256:<hex>``."""

from __future__ import annotations

import hashlib

import pytest

from lacre.errors import InvalidInput, VerificationError
from lacre.verify import Artifact


def test_bytes_give_every_digest() -> None:
    artifact = Artifact.from_bytes(b"data")
    assert artifact.sha256 == hashlib.sha256(b"data").digest()
    assert artifact.digest("sha384") == hashlib.sha384(b"data").digest()
    assert artifact.matches("sha512", hashlib.sha512(b"data").digest())
    assert not artifact.matches("sha256", b"\x00" * 32)


def test_digest_form_is_parsed_in_either_case() -> None:
    hexdigest = hashlib.sha256(b"data").hexdigest()
    assert Artifact.from_digest("sha256:" + hexdigest.upper()).sha256.hex() == hexdigest


@pytest.mark.parametrize(
    "text",
    [
        "sha256:",
        "sha256:abc",
        "sha512:" + "00" * 32,
        "00" * 32,
        "sha256:" + "g" * 64,
        "sha256:" + "0" * 65,
        " sha256:" + "0" * 64,
        "x" * 10_000,
    ],
)
def test_malformed_digests_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="artifact digest"):
        Artifact.from_digest(text)


def test_only_sha256_is_known_from_a_digest() -> None:
    artifact = Artifact.from_digest("sha256:" + "ab" * 32)
    with pytest.raises(VerificationError, match="only its sha256 digest"):
        artifact.digest("sha384")
    with pytest.raises(VerificationError, match="unsupported digest algorithm"):
        artifact.digest("md5")


def test_wrong_length_digest_is_refused() -> None:
    with pytest.raises(InvalidInput, match="wrong length"):
        Artifact(b"\x00" * 31)
