"""Container images: sign, attest, verify and inspect images in OCI registries, as cosign does.

* :mod:`~lacre.containers.signing` — sign and attest an image digest, storing the
  result as an OCI 1.1 referrer bundle and/or in cosign's legacy ``.sig``/``.att`` tags.
* :mod:`~lacre.containers.verifying` — find every signature stored either way and
  verify each candidate with :mod:`lacre.verify`; pass if one verifies.
* :mod:`~lacre.containers.inspect` — ``download`` and ``tree``.
* :mod:`~lacre.containers.cache` — a content-addressed cache for repeated verification.
"""

from lacre.containers.cache import CachingRegistryClient, DigestCache
from lacre.containers.inspect import AttachedItem, download, sbom, tree
from lacre.containers.signing import ImageSigner, SignedImage, Storage
from lacre.containers.statements import SIGN_PREDICATE_TYPE
from lacre.containers.verifying import ImageVerification, ImageVerifier

__all__ = [
    "SIGN_PREDICATE_TYPE",
    "AttachedItem",
    "CachingRegistryClient",
    "DigestCache",
    "ImageSigner",
    "ImageVerification",
    "ImageVerifier",
    "SignedImage",
    "Storage",
    "download",
    "sbom",
    "tree",
]
