"""The signature over the artifact (check H).

A message signature is verified over the artifact's bytes, or as a prehashed
signature over its digest when only the digest is known; the bundle's
``messageDigest`` hint must equal the artifact's digest. A DSSE signature is
verified over the envelope's PAE, and the in-toto statement it carries must
name the artifact's digest among its subjects.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.models.bundle import HASH_ALGORITHMS, MessageSignature
from lacre.verify.artifact import Artifact

if TYPE_CHECKING:
    from lacre.dsse import Envelope, Statement


def check_message_digest(message: MessageSignature, artifact: Artifact) -> None:
    """The bundle's message digest hint, when it has one, is the artifact's digest.

    The cheapest check of all: a verifier makes it first, so that a changed or
    mistaken artifact is reported as such rather than by a later check it also fails.
    """
    if message.digest is None:
        return
    hash_name = HASH_ALGORITHMS[message.digest_algorithm or "SHA2_256"]
    found = artifact.digest(hash_name)
    if not hmac.compare_digest(found, message.digest):
        raise VerificationError(
            "artifact digest does not match the bundle's message digest",
            expected=f"{hash_name}:{message.digest.hex()}",
            found=f"{hash_name}:{found.hex()}",
        )


def verify_message_signature(message: MessageSignature, key: PublicKey, artifact: Artifact) -> None:
    """Check the message digest hint and the signature over the artifact."""
    check_message_digest(message, artifact)
    try:
        _verify_over_artifact(message.signature, key, artifact)
    except InvalidInput as exc:
        raise _signature_error(exc) from exc


def _verify_over_artifact(signature: bytes, key: PublicKey, artifact: Artifact) -> None:
    """Verify over the artifact's digest when the key hashes (the SHA-256 is already known)."""
    hash_name = key.algorithm.hash_name
    if hash_name is None and artifact.data is not None:
        key.verify(signature, artifact.data)
        return
    if hash_name is None:
        raise VerificationError(
            "cannot verify a pure Ed25519 signature over a digest",
            expected="the artifact's bytes",
            found="only its sha256 digest",
        )
    key.verify_digest(signature, artifact.digest(hash_name), hash_name)


def verify_dsse(envelope: Envelope, key: PublicKey, artifact: Artifact) -> None:
    """Check the DSSE signature and that the artifact is a subject of the statement."""
    from lacre.verify.attestation import in_toto_statement

    try:
        key.verify(envelope.signatures[0].sig, envelope.pae())
    except InvalidInput as exc:
        raise _signature_error(exc) from exc
    statement = in_toto_statement(envelope.payload, envelope.payload_type, "DSSE envelope")
    _require_subject(statement, artifact)


def _require_subject(statement: Statement, artifact: Artifact) -> None:
    subjects = []
    for subject in statement.subjects:
        for name, value in subject.digest.items():
            subjects.append(f"{subject.name or 'unnamed'} ({name}:{value})")
            if _same(artifact, name, value):
                return
    raise VerificationError(
        "artifact is not a subject of the in-toto statement",
        expected=f"one of {', '.join(subjects)}" if subjects else "a subject with a digest",
        found=f"sha256:{artifact.sha256.hex()}",
    )


def _same(artifact: Artifact, name: str, value: str) -> bool:
    if name not in ("sha256", "sha384", "sha512"):
        return False
    if name != "sha256" and artifact.data is None:
        return False
    return hmac.compare_digest(artifact.digest(name).hex().encode(), value.lower().encode())


def _signature_error(exc: InvalidInput) -> VerificationError:
    if isinstance(exc, VerificationError):
        return VerificationError(f"artifact signature does not verify: {exc}")
    return VerificationError(f"artifact signature cannot be checked: {exc}")
