"""The key types a CA's new keys may have, by the names configuration and the CLI use."""

from __future__ import annotations

from lacre.keys import KeyAlgorithm

CA_KEY_TYPES = {
    "ecdsa-p256": KeyAlgorithm.ECDSA_P256_SHA256,
    "ecdsa-p384": KeyAlgorithm.ECDSA_P384_SHA384,
}
"""The CA key types new keys may have, by name."""
