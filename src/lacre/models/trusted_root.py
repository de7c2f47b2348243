"""Sigstore ``TrustedRoot`` documents (media type version 0.1), kept as a history.

Only what this instance publishes is modelled here; unknown fields of an
existing document are kept when it is updated.

A trusted root is rewritten on every start of the server. Each section
(``tlogs``, ``ctlogs``, ``certificateAuthorities``, ``timestampAuthorities``)
is a history, oldest first and newest last (as in the public-good root):

* a key or chain still in service keeps its recorded ``validFor``, so an
  identical rewrite changes nothing;
* one no longer in service stays, its ``validFor.end`` set to the moment it
  was replaced, so signatures made while it was in service still verify and
  later ones do not;
* a new one is appended, its window starting at that same moment (or at its
  own start, if later);
* a retired one that is put back in service gets its window reopened (its
  ``end`` removed) rather than a second entry: clients index logs by log ID,
  so a trusted root names each key once.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lacre.errors import InvalidInput
from lacre.keys import PublicKey
from lacre.models import protojson as pj
from lacre.record import record

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

Identity = Callable[[Mapping[str, Any]], str | None]
"""What names an entry across rewrites (a log ID, a certificate chain); None for junk."""


@record(kw_only=True)
class TransparencyLogKey:
    """A transparency log as a trusted root names it: where it is and the key it signs with."""

    base_url: str
    key: PublicKey
    log_id: bytes
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``TransparencyLogInstance`` JSON object."""
        return {
            "baseUrl": self.base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": base64.b64encode(self.key.spki_der).decode(),
                "keyDetails": self.key.algorithm.key_details,
                "validFor": validity_json(self.valid_from, self.valid_until),
            },
            "logId": {"keyId": base64.b64encode(self.log_id).decode()},
        }


@record(kw_only=True)
class CertificateAuthorityEntry:
    """A CA as a trusted root names it: its chain (intermediates, then root) and validity."""

    uri: str
    organization: str
    common_name: str
    chain_der: tuple[bytes, ...]
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None

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
            "validFor": validity_json(self.valid_from, self.valid_until),
        }


def validity_json(start: dt.datetime, end: dt.datetime | None = None) -> dict[str, str]:
    """A ``validFor`` object: ``start`` and, when given, ``end`` (whole seconds, UTC)."""
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("validity times must be timezone-aware", found=moment)
    window = {"start": pj.format_timestamp(start)}
    if end is not None:
        window["end"] = pj.format_timestamp(end)
    return window


def trusted_root(
    tlogs: Sequence[TransparencyLogKey],
    previous: Mapping[str, Any] | None = None,
    *,
    ctlogs: Sequence[TransparencyLogKey] = (),
    authorities: Sequence[CertificateAuthorityEntry] = (),
    replaced_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A trusted root whose current logs, CT logs and CAs are the ones given.

    ``previous`` is the document being rewritten: its other fields are kept,
    and each section given here is carried on as a history (see the module
    documentation). Entries of ``previous`` no longer given end at
    ``replaced_at`` (default: the latest start among the entries given). A
    section given empty is left as it was: that service does not run here.
    """
    document: dict[str, Any] = dict(previous or {})
    document["mediaType"] = TRUSTED_ROOT_MEDIA_TYPE
    sections: tuple[tuple[str, Sequence[Any], Identity, str | None], ...] = (
        ("tlogs", tlogs, log_identity, "publicKey"),
        ("ctlogs", ctlogs, log_identity, "publicKey"),
        ("certificateAuthorities", authorities, chain_identity, None),
    )
    for field, given, identity, holder in sections:
        if given:
            document[field] = history(
                document.get(field),
                [entry.to_json() for entry in given],
                identity=identity,
                holder=holder,
                replaced_at=replaced_at or max(entry.valid_from for entry in given),
            )
    for field in ("tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"):
        document.setdefault(field, [])
    return document


def log_identity(entry: Mapping[str, Any]) -> str | None:
    """A log entry's log ID (base64), or None when it has none."""
    log_id = entry.get("logId")
    key_id = log_id.get("keyId") if isinstance(log_id, Mapping) else None
    return key_id if isinstance(key_id, str) and key_id else None


def chain_identity(entry: Mapping[str, Any]) -> str | None:
    """An authority entry's certificate chain (the base64 certificates), or None."""
    chain = entry.get("certChain")
    certificates = chain.get("certificates") if isinstance(chain, Mapping) else None
    if not isinstance(certificates, list) or not certificates:
        return None
    raw = [item.get("rawBytes") if isinstance(item, Mapping) else None for item in certificates]
    if not all(isinstance(value, str) for value in raw):
        return None
    return " ".join(str(value) for value in raw)


def history(
    previous: object,
    current: Sequence[dict[str, Any]],
    *,
    identity: Identity,
    holder: str | None,
    replaced_at: dt.datetime,
) -> list[dict[str, Any]]:
    """One section of a trusted root: ``previous`` carried on with ``current`` in service.

    ``holder`` names the member holding ``validFor`` (``publicKey`` for logs),
    None when it is on the entry itself. Entries of ``previous`` without an
    identity or a readable ``validFor.start`` are dropped: no client could use
    them, and verifiers refuse a whole trusted root for one of them.
    """
    if replaced_at.tzinfo is None:
        raise InvalidInput("the replacement time must be timezone-aware", found=replaced_at)
    moment = replaced_at.astimezone(dt.UTC).replace(microsecond=0)
    given = {identity(entry): entry for entry in current}
    kept = [dict(entry) for entry in _entries(previous) if _usable(entry, identity, holder)]
    serving = {identity(entry) for entry in kept if _serving(_window(entry, holder), moment)}
    result: list[dict[str, Any]] = []
    for entry in kept:
        name = identity(entry)
        window = _window(entry, holder)
        if name not in given:
            result.append(_ended(entry, holder, window, moment))
        elif _serving(window, moment):
            result.append(_with_window(given[name], holder, window))
        elif name not in serving:
            serving.add(name)
            window.pop("end", None)
            result.append(_with_window(given[name], holder, window))
        else:
            result.append(entry)
    known = {identity(entry) for entry in kept}
    for name, entry in given.items():
        if name not in known:
            result.append(_started(entry, holder, moment) if kept else entry)
    return result


def _usable(entry: Mapping[str, Any], identity: Identity, holder: str | None) -> bool:
    window = _window(entry, holder)
    readable = all(_moment(window[part]) is not None for part in ("start", "end") if part in window)
    return identity(entry) is not None and "start" in window and readable


def _entries(section: object) -> list[Mapping[str, Any]]:
    items = section if isinstance(section, list) else []
    return [item for item in items if isinstance(item, Mapping)]


def _window(entry: Mapping[str, Any], holder: str | None) -> dict[str, Any]:
    container = entry.get(holder) if holder is not None else entry
    window = container.get("validFor") if isinstance(container, Mapping) else None
    return dict(window) if isinstance(window, Mapping) else {}


def _with_window(
    entry: Mapping[str, Any], holder: str | None, window: dict[str, Any]
) -> dict[str, Any]:
    updated = dict(entry)
    if holder is None:
        updated["validFor"] = window
    else:
        container = updated.get(holder)
        updated[holder] = {
            **(container if isinstance(container, Mapping) else {}),
            "validFor": window,
        }
    return updated


def _serving(window: Mapping[str, Any], moment: dt.datetime) -> bool:
    """Whether the window is open, or ends (as planned) no earlier than ``moment``."""
    if "end" not in window:
        return True
    end = _moment(window["end"])
    return end is not None and end >= moment


def _ended(
    entry: Mapping[str, Any], holder: str | None, window: dict[str, Any], moment: dt.datetime
) -> dict[str, Any]:
    if not _serving(window, moment):
        return dict(entry)
    start = _moment(window.get("start"))
    end = moment if start is None or moment >= start else start
    return _with_window(entry, holder, {**window, "end": pj.format_timestamp(end)})


def _started(entry: Mapping[str, Any], holder: str | None, moment: dt.datetime) -> dict[str, Any]:
    window = _window(entry, holder)
    start = _moment(window.get("start"))
    if start is None or start < moment:
        window["start"] = pj.format_timestamp(moment)
    return _with_window(entry, holder, window)


def _moment(value: object) -> dt.datetime | None:
    try:
        return pj.timestamp(value, "validFor")
    except InvalidInput:
        return None
