"""Sigstore entry kinds: check a submission and build its canonical body and search keys.

Rekor v1 (``POST /api/v1/log/entries``) takes a ProposedEntry of kind
``hashedrekord`` 0.0.1, ``dsse`` 0.0.1 or ``intoto`` 0.0.2; Rekor v2
(``POST /api/v2/log/entries``) a CreateEntryRequest holding a
``hashedRekordRequestV002`` (logged as ``hashedrekord`` 0.0.2) or a
``dsseRequestV002`` (logged as ``dsse`` 0.0.2). Every submission is verified
before it is accepted; anything wrong raises :class:`~lacre.errors.InvalidInput`
(:class:`~lacre.errors.VerificationError` for signatures) naming the JSON path.

Search keys are the ones re-derivable from the body alone, so that an index
rebuilt from the log equals the one written at submission. In-toto subject
digests, found in payloads that bodies do not keep, are reported separately as
:attr:`CanonicalEntry.subject_keys`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from lacre.errors import InvalidInput
from lacre.rekor.kinds import dsse, hashedrekord, intoto, v2, v2_dsse
from lacre.rekor.kinds.common import CanonicalEntry, Json, parse_json

__all__ = ["CanonicalEntry", "canonicalize_v1", "canonicalize_v2", "index_keys_of", "kind_of"]

_Canonicalize = Callable[[Json], CanonicalEntry]
_IndexKeys = Callable[[Json], frozenset[str]]

_V1: dict[tuple[str, str], _Canonicalize] = {
    ("hashedrekord", "0.0.1"): hashedrekord.canonicalize,
    ("dsse", "0.0.1"): dsse.canonicalize,
    ("intoto", "0.0.2"): intoto.canonicalize,
}
_BODIES: dict[tuple[str, str], _IndexKeys] = {
    ("hashedrekord", "0.0.1"): hashedrekord.index_keys,
    ("dsse", "0.0.1"): dsse.index_keys,
    ("intoto", "0.0.2"): intoto.index_keys,
    ("hashedrekord", "0.0.2"): v2.hashedrekord_index_keys,
    ("dsse", "0.0.2"): v2_dsse.index_keys,
}
_V2_REQUESTS = {
    "hashedRekordRequestV002": ("hashed_rekord_request_v002", v2.canonicalize_hashedrekord),
    "dsseRequestV002": ("dsse_request_v002", v2_dsse.canonicalize),
}
UNEXPECTED = "could not process the entry (unexpected"
"""Start of the message of the last-resort refusal; reaching it is a bug."""


def canonicalize_v1(proposed: object) -> CanonicalEntry:
    """Check a parsed Rekor v1 ProposedEntry and return its canonical entry."""
    with _refusing_the_unexpected():
        root = Json(proposed)
        kind, api_version = _kind_and_version(root)
        canonicalize = _V1.get((kind, api_version))
        if canonicalize is None:
            raise _unsupported(kind, api_version, _V1)
        return canonicalize(root.field("spec"))


def canonicalize_v2(request: object) -> CanonicalEntry:
    """Check a parsed Rekor v2 CreateEntryRequest and return its canonical entry."""
    with _refusing_the_unexpected():
        root = Json(request)
        present = [
            (name, root.optional(name, alias), canonicalize)
            for name, (alias, canonicalize) in _V2_REQUESTS.items()
        ]
        given = [(name, node, canonicalize) for name, node, canonicalize in present if node]
        if len(given) != 1:
            found = " and ".join(name for name, _, _ in given) or "neither"
            raise InvalidInput(
                "request: expected exactly one of hashedRekordRequestV002 or dsseRequestV002, "
                f"found {found}"
            )
        _, node, canonicalize = given[0]
        assert node is not None
        return canonicalize(node)


def index_keys_of(body: bytes) -> frozenset[str]:
    """Re-derive the search keys of a stored canonical body (any supported kind)."""
    with _refusing_the_unexpected():
        root = Json(parse_json(body, "body"))
        kind, api_version = _kind_and_version(root)
        index_keys = _BODIES.get((kind, api_version))
        if index_keys is None:
            raise _unsupported(kind, api_version, _BODIES)
        return index_keys(root.field("spec"))


def kind_of(body: bytes) -> tuple[str, str]:
    """Return ``(kind, apiVersion)`` of a stored canonical body."""
    with _refusing_the_unexpected():
        return _kind_and_version(Json(parse_json(body, "body")))


def _kind_and_version(root: Json) -> tuple[str, str]:
    return root.field("kind").text(), root.field("apiVersion").text()


def _unsupported(
    kind: str, api_version: str, table: Mapping[tuple[str, str], object]
) -> InvalidInput:
    supported = ", ".join(f"{k} {v}" for k, v in sorted(table))
    versions = sorted(v for k, v in table if k == kind)
    if versions:
        return InvalidInput(
            f"apiVersion: {kind} {api_version[:40]!r} is not supported",
            expected=" or ".join(versions),
            found=api_version[:40],
        )
    return InvalidInput(
        f"kind: unsupported entry kind {kind[:40]!r}",
        expected=f"one of {supported}",
        found=kind[:40],
    )


@contextmanager
def _refusing_the_unexpected() -> Iterator[None]:
    """Last line of defence: turn any stray Python error from hostile input into InvalidInput."""
    try:
        yield
    except InvalidInput:
        raise
    except (
        ArithmeticError,
        AttributeError,
        LookupError,
        TypeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise InvalidInput(f"{UNEXPECTED} {type(exc).__name__}: {exc})") from exc
