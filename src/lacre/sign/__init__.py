"""Signing: keyless or with a managed key, producing Sigstore bundles v0.3."""

from lacre.sign.config import SigningServices, select_services
from lacre.sign.context import SigningContext, SigningSession, check_issued
from lacre.sign.defaults import public_good_signing_config_bytes
from lacre.sign.ports import CertificateAuthority, TimestampAuthority, TransparencyLog
from lacre.sign.statement import PREDICATE_TYPES, Subject, predicate_type, statement

__all__ = [
    "PREDICATE_TYPES",
    "CertificateAuthority",
    "SigningContext",
    "SigningServices",
    "SigningSession",
    "Subject",
    "TimestampAuthority",
    "TransparencyLog",
    "check_issued",
    "predicate_type",
    "public_good_signing_config_bytes",
    "select_services",
    "statement",
]
