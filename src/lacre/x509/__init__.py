"""X.509 vocabulary shared by the Sigstore services: loading, PEM canonical form, identities."""

from lacre.x509.certificates import canonical_pem, is_ca, load_certificate, subject_identities

__all__ = ["canonical_pem", "is_ca", "load_certificate", "subject_identities"]
