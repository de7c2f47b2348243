"""The ``timestampAuthorities`` entries of a Sigstore trusted root.

An entry names the TSA by the subject of its leaf, where it answers, and its
certificate chain, **leaf first** and root last (unlike the CA chains, which
carry no leaf).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from lacre.errors import InvalidInput
from lacre.models.trusted_root import CertificateAuthorityEntry, chain_identity, history
from lacre.record import record

TIMESTAMP_PATH = "/api/v1/timestamp"
"""Where a lacre TSA answers, under its base URL."""


@record(kw_only=True)
class TimestampAuthorityEntry(CertificateAuthorityEntry):
    """A TSA as a trusted root names it: its chain (leaf first, root last) and validity.

    Its JSON form is a CA's (``CertificateAuthority``); only the chain differs,
    holding the leaf.
    """

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


def with_timestamp_authorities(
    document: Mapping[str, Any],
    authorities: Sequence[TimestampAuthorityEntry],
    *,
    replaced_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A copy of the trusted root ``document`` whose TSAs in service are ``authorities``.

    ``timestampAuthorities`` is kept as a history, as the other sections of a
    trusted root (:mod:`lacre.models.trusted_root`): an authority already
    listed keeps its recorded validity; one no longer given stays, ending at
    ``replaced_at`` (default: the latest start among ``authorities``); a new
    one starts then.
    """
    updated = dict(document)
    moment = replaced_at or max(
        (authority.valid_from for authority in authorities), default=dt.datetime.now(dt.UTC)
    )
    updated["timestampAuthorities"] = history(
        document.get("timestampAuthorities"),
        [authority.to_json() for authority in authorities],
        identity=chain_identity,
        holder=None,
        replaced_at=moment,
    )
    return updated
