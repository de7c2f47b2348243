"""Sigstore ``TrustedRoot`` documents (media type version 0.1).

Only what this instance publishes is modelled here; unknown fields of an
existing document are kept when it is updated.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lacre.keys import PublicKey

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"


@dataclass(frozen=True, kw_only=True)
class TransparencyLogKey:
    """A transparency log as a trusted root names it: where it is and the key it signs with."""

    base_url: str
    key: PublicKey
    log_id: bytes
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``TransparencyLogInstance`` JSON object."""
        valid_for = {"start": _timestamp(self.valid_from)}
        if self.valid_until is not None:
            valid_for["end"] = _timestamp(self.valid_until)
        return {
            "baseUrl": self.base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": base64.b64encode(self.key.spki_der).decode(),
                "keyDetails": self.key.algorithm.key_details,
                "validFor": valid_for,
            },
            "logId": {"keyId": base64.b64encode(self.log_id).decode()},
        }


@dataclass(frozen=True, kw_only=True)
class CertificateAuthorityEntry:
    """A CA as a trusted root names it: its chain (intermediates, then root) and validity."""

    uri: str
    organization: str
    common_name: str
    chain_der: tuple[bytes, ...]
    valid_from: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The ``CertificateAuthority`` JSON object."""
        return {
            "subject": {"organization": self.organization, "commonName": self.common_name},
            "uri": self.uri,
            "certChain": {
                "certificates": [
                    {"rawBytes": base64.b64encode(der).decode()} for der in self.chain_der
                ]
            },
            "validFor": {"start": _timestamp(self.valid_from)},
        }


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def trusted_root(
    tlogs: Sequence[TransparencyLogKey],
    previous: Mapping[str, Any] | None = None,
    *,
    ctlogs: Sequence[TransparencyLogKey] = (),
    authorities: Sequence[CertificateAuthorityEntry] = (),
) -> dict[str, Any]:
    """A trusted root naming ``tlogs``, ``ctlogs`` and ``authorities``.

    Other fields of ``previous`` are kept. A log or CA already named in
    ``previous`` keeps its recorded validity start, so rewriting the document
    does not move it.
    """
    document: dict[str, Any] = dict(previous or {})
    document["mediaType"] = TRUSTED_ROOT_MEDIA_TYPE
    if tlogs:
        document["tlogs"] = _logs(tlogs, document.get("tlogs", []))
    if ctlogs:
        document["ctlogs"] = _logs(ctlogs, document.get("ctlogs", []))
    if authorities:
        document["certificateAuthorities"] = _authorities(
            authorities, document.get("certificateAuthorities", [])
        )
    for field in ("tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"):
        document.setdefault(field, [])
    return document


def _logs(logs: Sequence[TransparencyLogKey], previous: list[Any]) -> list[dict[str, Any]]:
    earlier = {entry.get("logId", {}).get("keyId"): entry for entry in previous}
    entries = []
    for log in logs:
        entry = log.to_json()
        kept = earlier.get(entry["logId"]["keyId"])
        if kept is not None:
            entry["publicKey"]["validFor"] = kept["publicKey"]["validFor"]
        entries.append(entry)
    return entries


def _authorities(
    authorities: Sequence[CertificateAuthorityEntry], previous: list[Any]
) -> list[dict[str, Any]]:
    def chain_of(entry: Mapping[str, Any]) -> str:
        return str(entry.get("certChain", {}).get("certificates", []))

    earlier = {chain_of(entry): entry for entry in previous}
    entries = []
    for authority in authorities:
        entry = authority.to_json()
        kept = earlier.get(chain_of(entry))
        if kept is not None and "validFor" in kept:
            entry["validFor"] = kept["validFor"]
        entries.append(entry)
    return entries
