"""The ``timestampAuthorities`` entries of a Sigstore trusted root.

An entry names the TSA by the subject of its leaf, where it answers, and its
certificate chain, **leaf first** and root last (unlike the CA chains, which
carry no leaf).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lacre.errors import InvalidInput

TIMESTAMP_PATH = "/api/v1/timestamp"
"""Where a lacre TSA answers, under its base URL."""


@dataclass(frozen=True, kw_only=True)
class TimestampAuthorityEntry:
    """A TSA as a trusted root names it: its chain (leaf first, root last) and validity."""

    uri: str
    organization: str
    common_name: str
    chain_der: tuple[bytes, ...]
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None

    def __post_init__(self) -> None:
        """Refuse a chain without the leaf and its root, and naive times."""
        if len(self.chain_der) < 2:
            raise InvalidInput(
                "a TSA chain needs the leaf and its root",
                expected="at least 2 certificates",
                found=len(self.chain_der),
            )
        for moment in (self.valid_from, self.valid_until):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput("validity times must be timezone-aware", found=moment)

    def to_json(self) -> dict[str, Any]:
        """The ``CertificateAuthority`` JSON object of ``timestampAuthorities``."""
        valid_for = {"start": _timestamp(self.valid_from)}
        if self.valid_until is not None:
            valid_for["end"] = _timestamp(self.valid_until)
        return {
            "subject": {"organization": self.organization, "commonName": self.common_name},
            "uri": self.uri,
            "certChain": {
                "certificates": [
                    {"rawBytes": base64.b64encode(der).decode()} for der in self.chain_der
                ]
            },
            "validFor": valid_for,
        }


def with_timestamp_authorities(
    document: Mapping[str, Any], authorities: Sequence[TimestampAuthorityEntry]
) -> dict[str, Any]:
    """A copy of the trusted root ``document`` whose ``timestampAuthorities`` are ``authorities``.

    An authority whose chain ``document`` already lists keeps its recorded
    validity, so rewriting the document does not move it.
    """
    updated = dict(document)
    previous = document.get("timestampAuthorities")
    earlier = {
        _chain_key(entry): entry
        for entry in (previous if isinstance(previous, list) else [])
        if isinstance(entry, Mapping)
    }
    entries = []
    for authority in authorities:
        entry = authority.to_json()
        kept = earlier.get(_chain_key(entry))
        if kept is not None and "validFor" in kept:
            entry["validFor"] = kept["validFor"]
        entries.append(entry)
    updated["timestampAuthorities"] = entries
    return updated


def _chain_key(entry: Mapping[str, Any]) -> str:
    chain = entry.get("certChain")
    return str(chain.get("certificates", []) if isinstance(chain, Mapping) else [])


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
