"""Signing keys and public keys, independent of where the private key lives.

Private keys are named by URI; the backend is chosen by the scheme
(``file:`` today). Every backend yields a :class:`Signer`. Names are imported
from their modules when first used (see :mod:`lacre.lazy`): verifying needs
only :class:`PublicKey`.
"""

from typing import TYPE_CHECKING

from lacre.lazy import lazy_exports

if TYPE_CHECKING:
    from lacre.keys.public import KeyAlgorithm, PublicKey
    from lacre.keys.signer import Signer, SoftwareSigner, generate_signer
    from lacre.keys.uri import ensure_key_file, load_signer, save_signer

__all__ = [
    "KeyAlgorithm",
    "PublicKey",
    "Signer",
    "SoftwareSigner",
    "ensure_key_file",
    "generate_signer",
    "load_signer",
    "save_signer",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "KeyAlgorithm": "public",
        "PublicKey": "public",
        "Signer": "signer",
        "SoftwareSigner": "signer",
        "generate_signer": "signer",
        "ensure_key_file": "uri",
        "load_signer": "uri",
        "save_signer": "uri",
    },
)
