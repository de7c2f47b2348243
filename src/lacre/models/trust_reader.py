"""Reading a ``trusted_root.json`` into typed objects for verification.

Logs (transparency and CT) with their IDs, keys and validity windows, and
certificate and timestamp authorities with their chains and validity windows.
A log key this package cannot use (an unsupported algorithm) is kept with
``key = None``: entries naming that log then count as from an unknown log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cryptography import x509

from lacre.errors import InvalidInput
from lacre.jsontypes import MISSING, type_name
from lacre.keys import PublicKey
from lacre.models import protojson as pj
from lacre.record import record
from lacre.x509.certificates import UNREADABLE_CERTIFICATE

TRUSTED_ROOT_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
)
MAX_TRUSTED_ROOT_BYTES = 8 << 20


@record(kw_only=True)
class ValidityPeriod:
    """A closed time interval ``[start, end]``; no ``end`` means open-ended."""

    start: dt.datetime
    end: dt.datetime | None = None

    def contains(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` lies within the interval (both ends included)."""
        return self.start <= moment and (self.end is None or moment <= self.end)

    def describe(self) -> str:
        """The interval for error messages."""
        end = pj.format_timestamp(self.end) if self.end is not None else "open-ended"
        return f"[{pj.format_timestamp(self.start)}, {end}]"


@record(kw_only=True)
class TrustedLog:
    """A transparency or CT log: base URL, log ID, key and the key's validity."""

    base_url: str
    log_id: bytes
    key: PublicKey | None
    key_details: str
    validity: ValidityPeriod

    @property
    def hostname(self) -> str:
        """The host part of ``base_url`` (no scheme, user, port or path): the checkpoint name."""
        rest = self.base_url.split("://", 1)[-1]
        authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        host = authority.rsplit("@", 1)[-1]
        if host.startswith("["):
            return host.split("]", 1)[0] + "]"
        return host.split(":", 1)[0]


@record(kw_only=True)
class Authority:
    """A certificate or timestamp authority: its chain and validity.

    For a CA the chain is intermediates then root; for a TSA it is the TSA leaf
    first, then intermediates, then the root.
    """

    uri: str
    chain: tuple[x509.Certificate, ...]
    validity: ValidityPeriod


@record(kw_only=True)
class TrustedRoot:
    """The parsed content of a ``trusted_root.json``."""

    tlogs: tuple[TrustedLog, ...] = ()
    ctlogs: tuple[TrustedLog, ...] = ()
    certificate_authorities: tuple[Authority, ...] = ()
    timestamp_authorities: tuple[Authority, ...] = ()

    @classmethod
    def parse(cls, data: bytes | str) -> TrustedRoot:
        """Parse ``trusted_root.json`` text."""
        document = pj.load_document(data, "trusted root", limit=MAX_TRUSTED_ROOT_BYTES)
        return cls.from_json(document)

    @classmethod
    def from_json(cls, value: object) -> TrustedRoot:
        """Build from the parsed JSON object of a trusted root."""
        document = pj.mapping(value, "trustedRoot")
        media_type = pj.text(document, "mediaType", "trustedRoot")
        if media_type not in TRUSTED_ROOT_MEDIA_TYPES:
            raise InvalidInput(
                "trustedRoot.mediaType",
                expected=" or ".join(TRUSTED_ROOT_MEDIA_TYPES),
                found=repr(media_type),
            )
        return cls(
            tlogs=_logs(document, "tlogs"),
            ctlogs=_logs(document, "ctlogs"),
            certificate_authorities=_authorities(document, "certificateAuthorities"),
            timestamp_authorities=_authorities(document, "timestampAuthorities"),
        )

    def tlog(self, log_id: bytes) -> TrustedLog | None:
        """The transparency log with ``log_id`` and a usable key, if any."""
        return _find(self.tlogs, log_id)

    def ctlog(self, log_id: bytes) -> TrustedLog | None:
        """The CT log with ``log_id`` and a usable key, if any."""
        return _find(self.ctlogs, log_id)


def _find(logs: tuple[TrustedLog, ...], log_id: bytes) -> TrustedLog | None:
    for log in logs:
        if log.log_id == log_id and log.key is not None:
            return log
    return None


def _logs(document: Mapping[str, Any], name: str) -> tuple[TrustedLog, ...]:
    items = pj.array(document, name, "trustedRoot")
    return tuple(_log(item, f"trustedRoot.{name}[{n}]") for n, item in enumerate(items))


def _log(value: object, path: str) -> TrustedLog:
    document = pj.mapping(value, path)
    key = pj.child(document, "publicKey", path)
    where = f"{path}.publicKey"
    return TrustedLog(
        base_url=pj.text(document, "baseUrl", path, default=""),
        log_id=pj.b64bytes(pj.child(document, "logId", path), "keyId", f"{path}.logId"),
        key=_key(pj.b64bytes(key, "rawBytes", where)),
        key_details=pj.text(key, "keyDetails", where, default=""),
        validity=_validity(pj.get(key, "validFor"), f"{where}.validFor"),
    )


def _key(der: bytes) -> PublicKey | None:
    try:
        return PublicKey.from_der(der)
    except InvalidInput:
        return None


def _authorities(document: Mapping[str, Any], name: str) -> tuple[Authority, ...]:
    items = pj.array(document, name, "trustedRoot")
    return tuple(_authority(item, f"trustedRoot.{name}[{n}]") for n, item in enumerate(items))


def _authority(value: object, path: str) -> Authority:
    document = pj.mapping(value, path)
    chain = pj.child(document, "certChain", path)
    items = pj.array(chain, "certificates", f"{path}.certChain")
    if not items:
        raise InvalidInput(
            f"{path}.certChain.certificates is empty", expected="at least one certificate"
        )
    where = f"{path}.certChain.certificates"
    return Authority(
        uri=pj.text(document, "uri", path, default=""),
        chain=tuple(_certificate(item, f"{where}[{n}]") for n, item in enumerate(items)),
        validity=_validity(pj.get(document, "validFor"), f"{path}.validFor"),
    )


def _certificate(value: object, path: str) -> x509.Certificate:
    der = pj.b64bytes(pj.mapping(value, path), "rawBytes", path)
    try:
        return x509.load_der_x509_certificate(der)
    except UNREADABLE_CERTIFICATE as exc:
        raise InvalidInput(
            f"{path}.rawBytes is not a DER certificate", expected="X.509 DER", found=str(exc)
        ) from None


def _validity(value: object, path: str) -> ValidityPeriod:
    document = pj.mapping(value, path)
    start = pj.get(document, "start")
    if start is MISSING:
        raise InvalidInput(
            f"{path}.start is required", expected="an RFC 3339 timestamp", found=type_name(start)
        )
    end = pj.get(document, "end")
    return ValidityPeriod(
        start=pj.timestamp(start, f"{path}.start"),
        end=None if end is MISSING else pj.timestamp(end, f"{path}.end"),
    )
