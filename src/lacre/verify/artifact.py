"""The artifact a bundle is verified against: its bytes, or only its SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import re

from lacre.errors import InvalidInput, VerificationError
from lacre.record import record

_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")


@record
class Artifact:
    """An artifact to verify: ``data`` when its bytes are known, always its SHA-256."""

    sha256: bytes
    data: bytes | None = None

    def __post_init__(self) -> None:
        """Refuse a digest of the wrong length."""
        if len(self.sha256) != hashlib.sha256().digest_size:
            raise InvalidInput(
                "artifact SHA-256 digest has the wrong length", expected=32, found=len(self.sha256)
            )

    @classmethod
    def from_bytes(cls, data: bytes) -> Artifact:
        """An artifact whose bytes are known."""
        return cls(hashlib.sha256(data).digest(), data)

    @classmethod
    def from_digest(cls, text: str) -> Artifact:
        """An artifact known by its digest, written ``sha256:<64 hex digits>``."""
        match = _DIGEST.fullmatch(text)
        if match is None:
            shown = text if len(text) <= 80 else text[:80] + "..."
            raise InvalidInput(
                "artifact digest", expected="sha256:<64 hex digits>", found=repr(shown)
            )
        return cls(bytes.fromhex(match.group(1)))

    def digest(self, hash_name: str) -> bytes:
        """The artifact's digest with ``hash_name`` (``sha256``, ``sha384`` or ``sha512``)."""
        if hash_name == "sha256":
            return self.sha256
        if hash_name not in ("sha384", "sha512"):
            raise VerificationError(
                "unsupported digest algorithm", expected="sha256, sha384 or sha512", found=hash_name
            )
        if self.data is None:
            raise VerificationError(
                f"cannot compute the artifact's {hash_name} digest",
                expected="the artifact's bytes",
                found="only its sha256 digest",
            )
        return hashlib.new(hash_name, self.data).digest()

    def matches(self, hash_name: str, digest: bytes) -> bool:
        """Whether ``digest`` is this artifact's ``hash_name`` digest (constant time)."""
        return hmac.compare_digest(self.digest(hash_name), digest)
