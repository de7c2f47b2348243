"""The bundle-verify conformance cases copied into ``tests/assets/conformance``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "conformance"
CASES_DIR = ASSETS / "bundle-verify"
DEFAULT_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Case:
    """One conformance case: its files and whether it must verify."""

    directory: Path

    @property
    def name(self) -> str:
        """The case's directory name."""
        return self.directory.name

    @property
    def must_verify(self) -> bool:
        """Cases named ``*_fail`` must be rejected; all others must verify."""
        return not self.name.endswith("_fail")

    @property
    def bundle(self) -> Path:
        """The bundle file."""
        return self.directory / "bundle.sigstore.json"

    @property
    def artifact(self) -> Path:
        """The case's artifact, or the shared ``a.txt``."""
        own = self.directory / "artifact"
        return own if own.exists() else CASES_DIR / "a.txt"

    @property
    def digest(self) -> str:
        """The artifact as ``sha256:<hex>``."""
        return "sha256:" + hashlib.sha256(self.artifact.read_bytes()).hexdigest()

    def optional(self, name: str) -> Path | None:
        """The case file ``name`` if the case has one."""
        path = self.directory / name
        return path if path.exists() else None

    def text(self, name: str, default: str) -> str:
        """The stripped content of the case file ``name``, or ``default``."""
        path = self.optional(name)
        return default if path is None else path.read_text().strip()


def all_cases() -> list[Case]:
    """Every case, sorted by name."""
    return [Case(path) for path in sorted(CASES_DIR.iterdir()) if path.is_dir()]
