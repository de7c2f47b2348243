"""lacre signers and public keys in the shape python-tuf signs and verifies with.

Any :class:`lacre.keys.Signer` (a key file, a PKCS#11 token) can sign TUF
metadata: ECDSA signatures are DER over the hash, Ed25519 signatures are pure,
which is exactly what TUF's ``ecdsa-sha2-nistp256`` and ``ed25519`` schemes
expect.
"""

from __future__ import annotations

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import KeyAlgorithm, PublicKey, Signer
from lacre.trust.tufapi import Key, SecretsHandler, Signature, SSlibKey
from lacre.trust.tufapi import Signer as SslibSigner

TUF_ALGORITHMS = (KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ED25519)
"""Key algorithms lacre uses for TUF roles (what every TUF client verifies)."""


def tuf_key(public_key: PublicKey) -> SSlibKey:
    """The TUF key object (``keytype``, ``scheme``, ``keyval``, key ID) for ``public_key``."""
    if public_key.algorithm not in TUF_ALGORITHMS:
        raise InvalidInput(
            "TUF keys must be ECDSA P-256 or Ed25519",
            expected=" or ".join(a.value for a in TUF_ALGORITHMS),
            found=public_key.algorithm.value,
        )
    return SSlibKey.from_crypto(public_key.key)


def key_id(public_key: PublicKey) -> str:
    """The TUF key ID of ``public_key`` (hex SHA-256 of its canonical key object)."""
    return tuf_key(public_key).keyid


class TufSigner(SslibSigner):
    """Adapts a lacre :class:`Signer` to python-tuf's signer interface."""

    def __init__(self, signer: Signer) -> None:
        """Wrap ``signer``; its key must be usable for TUF (see :data:`TUF_ALGORITHMS`)."""
        self._signer = signer
        self._key = tuf_key(signer.public_key)

    @property
    def public_key(self) -> Key:
        """The TUF key object of this signer."""
        return self._key

    @property
    def keyid(self) -> str:
        """The TUF key ID of this signer."""
        return self._key.keyid

    def sign(self, payload: bytes) -> Signature:
        """Sign ``payload`` (the canonical JSON of a ``signed`` object)."""
        return Signature(self._key.keyid, self._signer.sign(payload).hex())

    @classmethod
    def from_priv_key_uri(
        cls,
        priv_key_uri: str,
        public_key: Key,
        secrets_handler: SecretsHandler | None = None,
    ) -> SslibSigner:
        """Not supported: lacre loads keys with :func:`lacre.keys.load_signer`."""
        raise ConfigError(
            "TUF signers are built from lacre key URIs",
            expected="lacre.keys.load_signer(uri)",
            found=priv_key_uri,
        )
