"""Content digests (``sha256:<hex>``) of manifests and blobs, and the tags derived from them."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Self

from lacre.errors import InvalidInput, VerificationError

_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_FORM = re.compile(r"([a-z0-9]+):([0-9a-f]+)")


@dataclass(frozen=True)
class Digest:
    """A content digest: ``algorithm`` (sha256 or sha512) and lowercase ``hex`` value."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse ``<algorithm>:<hex>``; raises InvalidInput naming the bad value."""
        match = _FORM.fullmatch(text) if isinstance(text, str) else None
        if match is None or len(match.group(2)) != _HEX_LENGTHS.get(match.group(1), -1):
            raise InvalidInput(
                "invalid content digest",
                expected="sha256:<64 hex> or sha512:<128 hex>",
                found=repr(text)[:200],
            )
        return cls(match.group(1), match.group(2))

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Self:
        """The digest of ``data`` with ``algorithm``."""
        if algorithm not in _HEX_LENGTHS:
            raise InvalidInput(
                "unsupported digest algorithm", expected="sha256 or sha512", found=algorithm
            )
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        """The ``<algorithm>:<hex>`` form."""
        return f"{self.algorithm}:{self.hex}"

    def verify(self, data: bytes, *, subject: str) -> None:
        """Check that ``data`` has this digest; raise VerificationError naming ``subject``."""
        actual = Digest.of(data, self.algorithm)
        if not hmac.compare_digest(actual.hex, self.hex):
            raise VerificationError(
                f"digest mismatch for {subject}", expected=str(self), found=str(actual)
            )

    def tag(self, suffix: str | None = None) -> str:
        """The cosign tag for this digest: ``sha256-<hex>`` plus ``.<suffix>`` if given."""
        base = f"{self.algorithm}-{self.hex}"
        return f"{base}.{suffix}" if suffix else base
