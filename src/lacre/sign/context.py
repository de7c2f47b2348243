"""``SigningContext``: key -> (certificate) -> sign -> timestamp -> log -> bundle v0.3.

Keyless: an ephemeral P-256 key is certified by the CA for an identity token;
the leaf must hold that key and carry an SCT that verifies against the trusted
root's CT logs. Managed: a :class:`~lacre.keys.Signer` from a key URI signs and
the bundle names its key by a hint. One :class:`SigningSession` signs any
number of artifacts with the same certificate or key.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from lacre.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, Signature, pae
from lacre.errors import ConfigError, Error, InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, Signer, SoftwareSigner, generate_signer
from lacre.models import protojson as pj
from lacre.models.bundle import MEDIA_TYPE_V03, Bundle, MessageSignature, VerificationMaterial
from lacre.models.tlog_entry import TransparencyLogEntry, is_rekor_v2
from lacre.models.trust_reader import TrustedRoot
from lacre.sign.ports import CertificateAuthority, TimestampAuthority, TransparencyLog, Verifier
from lacre.verify.sct import verify_embedded_scts

logger = logging.getLogger(__name__)

_DIGEST_NAMES = {"sha256": "SHA2_256", "sha384": "SHA2_384", "sha512": "SHA2_512"}


@dataclass(frozen=True, kw_only=True)
class SigningContext:
    """The services and trust a signing run uses."""

    trusted_root: TrustedRoot
    tlogs: Sequence[TransparencyLog]
    ca: CertificateAuthority | None = None
    tsas: Sequence[TimestampAuthority] = ()

    def __post_init__(self) -> None:
        """A signing run needs at least one transparency log."""
        if not self.tlogs:
            raise ConfigError("signing needs a transparency log", found="none configured")

    def keyless(self, token: str) -> SigningSession:
        """A session signing with an ephemeral key certified for the identity of ``token``."""
        if self.ca is None:
            raise ConfigError("keyless signing needs a certificate authority", found="none")
        signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
        chain = self.ca.sign_csr(_csr(signer), token)
        leaf = check_issued(chain, signer.public_key, self.trusted_root)
        return SigningSession(self, signer, leaf)

    def with_key(self, signer: Signer) -> SigningSession:
        """A session signing with a managed key (no certificate)."""
        return SigningSession(self, signer, None)


def _csr(signer: SoftwareSigner) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    return builder.sign(signer.private_key, hashes.SHA256())


def check_issued(
    chain: Sequence[x509.Certificate], key: PublicKey, root: TrustedRoot
) -> x509.Certificate:
    """Check the CA's answer: the leaf holds ``key`` and an SCT from a trusted CT log."""
    if len(chain) < 2:
        raise VerificationError(
            "the CA's chain is too short", expected="leaf and issuer", found=len(chain)
        )
    leaf = chain[0]
    found = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if found != key.spki_der:
        raise VerificationError(
            "the CA certified another key than ours",
            expected=f"key {key.key_id.hex()[:16]}",
            found=f"key {hashlib.sha256(found).hexdigest()[:16]}",
        )
    verify_embedded_scts(leaf, chain[1], root)
    return leaf


class SigningSession:
    """Signs artifacts with one key (and its certificate, when keyless)."""

    def __init__(
        self, context: SigningContext, signer: Signer, leaf: x509.Certificate | None
    ) -> None:
        """A session of ``context`` signing with ``signer`` (certified by ``leaf``)."""
        self.context = context
        self.signer = signer
        self.leaf = leaf

    @property
    def verifier(self) -> Verifier:
        """What the logs record as the verifier: the leaf, or the managed public key."""
        return self.leaf if self.leaf is not None else self.signer.public_key

    def sign_blob(self, data: bytes) -> Bundle:
        """A bundle with a message signature over ``data``."""
        hash_name = self._hash_name()
        digest = hashlib.new(hash_name, data).digest()
        signature = self.signer.sign(data)
        timestamps = self._timestamps(signature)
        entries = [
            log.log_message(
                algorithm=hash_name, digest=digest, signature=signature, verifier=self.verifier
            )
            for log in self.context.tlogs
        ]
        message = MessageSignature(
            signature=signature, digest_algorithm=_DIGEST_NAMES[hash_name], digest=digest
        )
        return self._bundle(entries, timestamps, message=message)

    def sign_statement(self, payload: bytes) -> Bundle:
        """A bundle with a DSSE envelope over an in-toto statement ``payload``."""
        signature = self.signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload))
        envelope = Envelope(payload, IN_TOTO_PAYLOAD_TYPE, (Signature(signature),))
        timestamps = self._timestamps(signature)
        entries = [
            log.log_dsse(envelope=envelope, verifier=self.verifier) for log in self.context.tlogs
        ]
        return self._bundle(entries, timestamps, envelope=envelope)

    def _hash_name(self) -> str:
        name = self.signer.public_key.algorithm.hash_name
        if name is None:
            raise InvalidInput(
                "message signatures need a key that signs a digest",
                expected="an ECDSA key",
                found=self.signer.public_key.algorithm.value,
            )
        return name

    def _timestamps(self, signature: bytes) -> list[bytes]:
        stamps = []
        for tsa in self.context.tsas:
            try:
                stamps.append(tsa.timestamp(signature))
            except Error as exc:
                logger.warning("no timestamp from a timestamp authority: %s", exc)
        return stamps

    def _bundle(
        self,
        entries: list[TransparencyLogEntry],
        timestamps: list[bytes],
        *,
        message: MessageSignature | None = None,
        envelope: Envelope | None = None,
    ) -> Bundle:
        if not timestamps and all(is_rekor_v2(entry) for entry in entries):
            raise ConfigError(
                "a bundle with only Rekor v2 entries needs a signed timestamp",
                expected="a reachable timestamp authority",
                found="no timestamp",
            )
        material = VerificationMaterial(
            certificates=() if self.leaf is None else (_der(self.leaf),),
            public_key_hint=None if self.leaf is not None else _hint(self.signer.public_key),
            tlog_entries=tuple(entries),
            timestamps=tuple(timestamps),
        )
        return Bundle(
            media_type=MEDIA_TYPE_V03,
            material=material,
            message_signature=message,
            dsse_envelope=envelope,
        )


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _hint(key: PublicKey) -> str:
    return pj.b64(key.key_id)
