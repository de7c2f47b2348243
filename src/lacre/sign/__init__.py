"""Signing: keyless or with a managed key, producing Sigstore bundles v0.3.

Names are imported from their modules when first used (see :mod:`lacre.lazy`), except
those of :mod:`lacre.sign.statement`: its function ``statement`` must not be shadowed by
the module of the same name.
"""

from typing import TYPE_CHECKING

from lacre.lazy import lazy_exports
from lacre.sign.statement import PREDICATE_TYPES, Subject, predicate_type, statement

if TYPE_CHECKING:
    from lacre.sign.config import SigningServices, select_services
    from lacre.sign.context import SigningContext, SigningSession, check_issued
    from lacre.sign.defaults import public_good_signing_config_bytes
    from lacre.sign.ports import CertificateAuthority, TimestampAuthority, TransparencyLog

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

__getattr__ = lazy_exports(
    __name__,
    {
        "SigningServices": "config",
        "select_services": "config",
        "SigningContext": "context",
        "SigningSession": "context",
        "check_issued": "context",
        "public_good_signing_config_bytes": "defaults",
        "CertificateAuthority": "ports",
        "TimestampAuthority": "ports",
        "TransparencyLog": "ports",
    },
)
