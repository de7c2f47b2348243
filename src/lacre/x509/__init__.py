"""X.509 vocabulary shared by the Sigstore services: loading, PEM canonical form, identities.

Certificate issuance (:mod:`lacre.x509.profile`) is imported by the services that issue,
so that verification does not load it.
"""

from lacre.x509.certificates import canonical_pem, is_ca, load_certificate, subject_identities
from lacre.x509.fulcio import FulcioClaims, read_username, username_san

__all__ = [
    "FulcioClaims",
    "canonical_pem",
    "is_ca",
    "load_certificate",
    "read_username",
    "subject_identities",
    "username_san",
]
