"""Certificate Transparency inside X.509: the SCT-list extension and the precertificate poison.

A precertificate is the final certificate's TBS plus the critical poison
extension (``1.3.6.1.4.1.11129.2.4.3``, value ``05 00``). A CT log signs the TBS
with the poison removed; :func:`strip_poison` removes it with a small, strict DER
walk that keeps every other byte. The final certificate carries the SCTs in the
extension ``1.3.6.1.4.1.11129.2.4.2`` whose value :func:`sct_list_extension_value`
builds.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509

from lacre.der import OCTET_STRING, OID, SEQUENCE, context, read_tlv
from lacre.der import encode as _der
from lacre.errors import InvalidInput
from lacre.transparency.ct import SignedCertificateTimestamp, TlsReader

POISON_OID = "1.3.6.1.4.1.11129.2.4.3"
"""OID of the critical extension that marks a precertificate."""
_POISON_OID_DER = bytes.fromhex("060a2b06010401d679020403")
_TRUE_DER = bytes.fromhex("0101ff")
_NULL_OCTETS_DER = bytes.fromhex("04020500")
_EXTENSIONS_TAG = context(3)  # [3] EXPLICIT


def _children(data: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int]]:
    """Split ``data[start:end]`` into its TLVs as (tag, element start, element end)."""
    children = []
    bounded = data[:end]
    offset = start
    while offset < end:
        tag, _, child_end = read_tlv(bounded, offset, what)
        children.append((tag, offset, child_end))
        offset = child_end
    return children


def _outer(data: bytes, tag: int, what: str) -> tuple[int, int]:
    found, start, end = read_tlv(data, 0, what)
    if found != tag:
        raise InvalidInput(f"{what}: unexpected DER tag", expected=hex(tag), found=hex(found))
    if end != len(data):
        raise InvalidInput(
            f"{what}: trailing bytes", expected="end of input", found=f"{len(data) - end} bytes"
        )
    return start, end


def _is_poison(extension: bytes) -> bool:
    start, end = _outer(extension, SEQUENCE, "TBSCertificate extension")
    tag, _, _ = read_tlv(extension[:end], start, "TBSCertificate extension")
    if tag != OID:
        raise InvalidInput("extension does not start with an OID", expected="06", found=hex(tag))
    if not extension[start:end].startswith(_POISON_OID_DER):
        return False
    if extension[start:end] != _POISON_OID_DER + _TRUE_DER + _NULL_OCTETS_DER:
        raise InvalidInput(
            "precertificate poison extension is malformed or not critical",
            expected=(_POISON_OID_DER + _TRUE_DER + _NULL_OCTETS_DER).hex(),
            found=extension[start:end].hex(),
        )
    return True


def strip_poison(tbs_der: bytes) -> bytes:
    """Remove the critical poison extension from a precertificate's DER TBSCertificate.

    Every other byte is kept; the lengths of the enclosing structures are
    re-encoded. If the poison was the only extension, the extensions field goes.
    Raises :class:`InvalidInput` on malformed DER or an absent, duplicated,
    non-critical or malformed poison.
    """
    start, end = _outer(tbs_der, SEQUENCE, "TBSCertificate")
    fields = _children(tbs_der, start, end, "TBSCertificate")
    tags = [tag for tag, _, _ in fields]
    if not tags or tags[-1] != _EXTENSIONS_TAG:
        raise InvalidInput("TBSCertificate has no extensions, so no poison extension")
    if tags.count(_EXTENSIONS_TAG) != 1:
        raise InvalidInput(
            "TBSCertificate has more than one extensions field",
            expected=1,
            found=tags.count(_EXTENSIONS_TAG),
        )
    _, field_start, field_end = fields[-1]
    wrapper = tbs_der[field_start:field_end]
    seq_start, seq_end = _outer(wrapper, _EXTENSIONS_TAG, "TBSCertificate extensions")
    inner = wrapper[seq_start:seq_end]
    list_start, list_end = _outer(inner, SEQUENCE, "Extensions")
    extensions = [inner[a:b] for _, a, b in _children(inner, list_start, list_end, "Extensions")]
    kept = [ext for ext in extensions if not _is_poison(ext)]
    if len(extensions) - len(kept) != 1:
        raise InvalidInput(
            "TBSCertificate must carry exactly one poison extension",
            expected=1,
            found=len(extensions) - len(kept),
        )
    rebuilt = _der(_EXTENSIONS_TAG, _der(SEQUENCE, b"".join(kept))) if kept else b""
    return _der(SEQUENCE, tbs_der[start:field_start] + rebuilt)


def precert_tbs(precert: x509.Certificate) -> bytes:
    """The DER TBSCertificate of ``precert`` without its poison: what a CT log signs."""
    return strip_poison(precert.tbs_certificate_bytes)


def sct_list_extension_value(scts: Iterable[SignedCertificateTimestamp]) -> bytes:
    """The extnValue content of the SCT-list extension: a DER OCTET STRING of the TLS list.

    Add it, last, as ``x509.UnrecognizedExtension(ObjectIdentifier(SCT_LIST_OID), value)``.
    """
    serialized = b"".join(_tls_vector(sct.encode(), "SCT") for sct in scts)
    if not serialized:
        raise InvalidInput("an SCT list needs at least one SCT", expected=">= 1", found=0)
    return _der(OCTET_STRING, _tls_vector(serialized, "SCT list"))


def _tls_vector(data: bytes, what: str) -> bytes:
    if len(data) > 0xFFFF:
        raise InvalidInput(f"{what} is too long", expected="<= 65535 bytes", found=len(data))
    return len(data).to_bytes(2, "big") + data


def parse_sct_list(value: bytes) -> list[SignedCertificateTimestamp]:
    """Parse the SCT-list extension value (DER OCTET STRING of a TLS list), strictly."""
    start, end = _outer(value, OCTET_STRING, "SCT list extension")
    outer = TlsReader(value[start:end], "SCT list")
    body = outer.vector(2, "sct_list", minimum=1)
    outer.end()
    reader = TlsReader(body, "SCT list")
    scts = []
    while reader.offset < len(body):
        scts.append(SignedCertificateTimestamp.decode(reader.vector(2, "SCT", minimum=1)))
    return scts
