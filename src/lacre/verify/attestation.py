"""The in-toto statement a bundle attests: a DSSE envelope of the expected predicate type."""

from __future__ import annotations

from lacre.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, Statement
from lacre.errors import InvalidInput, VerificationError


def in_toto_statement(payload: bytes, payload_type: str, where: str) -> Statement:
    """Parse the in-toto statement of a DSSE payload; raise VerificationError naming ``where``."""
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise VerificationError(
            f"{where}: DSSE payload type", expected=IN_TOTO_PAYLOAD_TYPE, found=payload_type
        )
    try:
        return Statement.from_payload(payload)
    except InvalidInput as exc:
        raise VerificationError(f"{where}: not an in-toto statement: {exc}") from None


def attested_statement(envelope: Envelope | None, predicate_type: str, where: str) -> Statement:
    """The statement of a bundle's ``envelope``, which must be of ``predicate_type``.

    Raises VerificationError when the bundle signs a message instead (no
    envelope), when the payload is no in-toto statement, or when its predicate
    type is another.
    """
    if envelope is None:
        raise VerificationError(
            f"{where} is not an attestation",
            expected="a DSSE envelope with an in-toto statement",
            found="a message signature",
        )
    statement = in_toto_statement(envelope.payload, envelope.payload_type, where)
    if statement.predicate_type != predicate_type:
        raise VerificationError(
            f"{where}: attestation predicate type mismatch",
            expected=predicate_type,
            found=statement.predicate_type,
        )
    return statement
