"""The Sigstore public-good instance's TUF repository and the root shipped to bootstrap it."""

from __future__ import annotations

from importlib import resources

PUBLIC_GOOD_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
"""Where the public-good instance publishes its trusted root and signing config."""

ROOT_RESOURCE = "data/public-good-root.json"
"""Package data path (inside ``lacre.trust``) of the public-good TUF root lacre ships."""


def public_good_tuf_root() -> bytes:
    """The public-good TUF ``root.json`` shipped with lacre (the bootstrap pin)."""
    return resources.files("lacre.trust").joinpath(ROOT_RESOURCE).read_bytes()
