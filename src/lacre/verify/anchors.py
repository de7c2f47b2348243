"""A trusted root prepared for verifying many bundles, and what they share.

Everything here is a pure function of the trusted root and of the bytes it is
keyed by, so remembering it changes no outcome: the CA chains' own checks,
the SCT issuer key hashes, the note verifiers of the logs, checkpoints that
verified, and signing certificates whose time-independent checks passed
(their signature by a trusted CA and their SCTs). Of what depends on a
bundle, only successes are remembered: a failing certificate or checkpoint
is checked again, and reported, every time. Checks that depend on the
bundle as a whole (times, the entry body, the artifact signature, the
policy) are never skipped.
"""

from __future__ import annotations

from cryptography import x509

from lacre.models.trust_reader import TrustedLog, TrustedRoot
from lacre.transparency.checkpoint import Checkpoint
from lacre.transparency.ct import issuer_key_hash
from lacre.transparency.note import KeyNoteVerifier
from lacre.verify.chain import ChainValidator
from lacre.verify.lru import CACHE_SIZE, Lru
from lacre.x509.identity_cache import IdentityCache


class TrustAnchors:
    """A trusted root and the verification results that bundles checked against it share."""

    def __init__(self, root: TrustedRoot, *, cache_size: int = CACHE_SIZE) -> None:
        """Prepare ``root``; remember up to ``cache_size`` checkpoints and certificates."""
        self.root = root
        self.chains = ChainValidator(root.certificate_authorities, cache_size=cache_size)
        self.checkpoints: Lru[tuple[bytes, bytes, bool], Checkpoint] = Lru(cache_size)
        self.scts: Lru[tuple[bytes, bytes, int], bool] = Lru(cache_size)
        self._key_hashes: IdentityCache[bytes] = IdentityCache()
        self._note_verifiers: dict[tuple[bytes, str], KeyNoteVerifier] = {}

    def issuer_key_hash(self, issuer: x509.Certificate) -> bytes:
        """SHA-256 of the issuer's SubjectPublicKeyInfo (the SCT ``issuer_key_hash``)."""
        digest = self._key_hashes.get(issuer)
        if digest is None:
            digest = issuer_key_hash(issuer)
            self._key_hashes.put(digest, issuer)
        return digest

    def note_verifier(self, log: TrustedLog, name: str) -> KeyNoteVerifier:
        """The verifier of ``log``'s note signatures under key name ``name``."""
        assert log.key is not None  # TrustedRoot.tlog only returns logs with a usable key
        key = (log.log_id, name)
        found = self._note_verifiers.get(key)
        if found is None:
            found = self._note_verifiers[key] = KeyNoteVerifier(name, log.key)
        return found
