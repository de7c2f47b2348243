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


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def trusted_root(
    tlogs: Sequence[TransparencyLogKey], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A trusted root naming ``tlogs``, keeping the other fields of ``previous``.

    A log already named in ``previous`` (same log ID) keeps its recorded
    validity start, so rewriting the document does not move it.
    """
    document: dict[str, Any] = dict(previous or {})
    earlier = {entry.get("logId", {}).get("keyId"): entry for entry in document.get("tlogs", [])}
    entries = []
    for tlog in tlogs:
        entry = tlog.to_json()
        kept = earlier.get(entry["logId"]["keyId"])
        if kept is not None:
            entry["publicKey"]["validFor"] = kept["publicKey"]["validFor"]
        entries.append(entry)
    document["mediaType"] = TRUSTED_ROOT_MEDIA_TYPE
    document["tlogs"] = entries
    for field in ("certificateAuthorities", "ctlogs", "timestampAuthorities"):
        document.setdefault(field, [])
    return document
