"""X.509 vocabulary shared by the Sigstore services: loading, PEM canonical form, identities."""

from lacre.x509.certificates import canonical_pem, is_ca, load_certificate, subject_identities
from lacre.x509.fulcio import FulcioClaims, read_username, username_san
from lacre.x509.profile import CaChain, LeafProfile, ca_chain, encode_sct_list, random_serial

__all__ = [
    "CaChain",
    "FulcioClaims",
    "LeafProfile",
    "ca_chain",
    "canonical_pem",
    "encode_sct_list",
    "is_ca",
    "load_certificate",
    "random_serial",
    "read_username",
    "subject_identities",
    "username_san",
]
