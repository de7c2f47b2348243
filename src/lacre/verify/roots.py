"""Trusted roots shipped with lacre: the Sigstore public-good instance's."""

from __future__ import annotations

from importlib import resources

from lacre.models.trust_reader import TrustedRoot

PUBLIC_GOOD_RESOURCE = "public_good/trusted_root.json"
"""Package data path (inside ``lacre.verify``) of the public-good ``trusted_root.json``."""


def public_good_trusted_root_bytes() -> bytes:
    """The public-good production ``trusted_root.json`` as published through its TUF repository."""
    return resources.files("lacre.verify").joinpath(PUBLIC_GOOD_RESOURCE).read_bytes()


def public_good_trusted_root() -> TrustedRoot:
    """The parsed public-good production trusted root."""
    return TrustedRoot.parse(public_good_trusted_root_bytes())
