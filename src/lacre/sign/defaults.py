"""The signing config shipped with lacre: the Sigstore public-good instance's."""

from __future__ import annotations

from importlib import resources

PUBLIC_GOOD_RESOURCE = "public_good/signing_config.json"
"""Package data path (inside ``lacre.sign``) of the public-good signing config."""


def public_good_signing_config_bytes() -> bytes:
    """The public-good production ``signing_config.v0.2.json``."""
    return resources.files("lacre.sign").joinpath(PUBLIC_GOOD_RESOURCE).read_bytes()
