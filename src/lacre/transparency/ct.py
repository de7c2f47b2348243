"""RFC 6962 Certificate Transparency structures: SCTs, signed data, SCT lists and log leaves.

Everything is TLS presentation language: big-endian integers and vectors with
1-, 2- or 3-byte length prefixes. A log signs, for an entry at a timestamp,
``version(0) | signature_type(0) | timestamp(8) | entry_type(2) | signed_entry | extensions``;
the RFC 6962 ``MerkleTreeLeaf`` of the same entry has the same layout (its second
byte is ``leaf_type`` 0, ``timestamped_entry``). Removing the poison extension
from a precertificate lives in :mod:`lacre.transparency.ct_precert`.
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization

from lacre.errors import InvalidInput, VerificationError
from lacre.jsontypes import MISSING, type_name
from lacre.keys import KeyAlgorithm, PublicKey
from lacre.record import record
from lacre.transparency.note import b64decode, b64encode

if TYPE_CHECKING:
    from cryptography import x509

    from lacre.keys import Signer

SCT_VERSION_V1 = 0
"""``sct_version`` of RFC 6962 SCTs (``v1(0)``)."""
X509_ENTRY = 0
"""``entry_type`` of a final certificate."""
PRECERT_ENTRY = 1
"""``entry_type`` of a precertificate."""
HASH_SHA256 = 4
"""TLS ``HashAlgorithm`` sha256, the only one SCTs may use."""
SIG_RSA = 1
"""TLS ``SignatureAlgorithm`` rsa (PKCS#1 v1.5)."""
SIG_ECDSA = 3
"""TLS ``SignatureAlgorithm`` ecdsa."""
SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2"
"""OID of the X.509 extension carrying embedded SCTs."""
LOG_ID_SIZE = 32
MAX_U16 = (1 << 16) - 1
MAX_U24 = (1 << 24) - 1
MAX_U64 = (1 << 64) - 1
_ALGORITHMS = "ECDSA P-256 (PKIX_ECDSA_P256_SHA_256) or RSA PKCS#1 v1.5 with SHA-256"


class TlsReader:
    """A strict reader over TLS-encoded bytes; every error names the field and ``what``."""

    def __init__(self, data: bytes, what: str) -> None:
        """Read ``data``, which holds a ``what`` (used in error messages)."""
        self.data = data
        self.what = what
        self.offset = 0

    def take(self, size: int, field: str) -> bytes:
        """Return the next ``size`` bytes of ``field``; raise if the input is shorter."""
        left = len(self.data) - self.offset
        if left < size:
            raise InvalidInput(
                f"{self.what}: truncated {field}", expected=f"{size} bytes", found=f"{left} bytes"
            )
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        """Read a big-endian unsigned integer of ``size`` bytes."""
        return int.from_bytes(self.take(size, field), "big")

    def vector(self, prefix: int, field: str, *, minimum: int = 0) -> bytes:
        """Read a vector with a ``prefix``-byte length, at least ``minimum`` bytes long."""
        length = self.uint(prefix, f"{field} length")
        if length < minimum:
            raise InvalidInput(
                f"{self.what}: {field} is too short",
                expected=f"at least {minimum} bytes",
                found=f"{length} bytes",
            )
        return self.take(length, field)

    def expect(self, size: int, field: str, value: int) -> None:
        """Read an integer that must equal ``value``."""
        found = self.uint(size, field)
        if found != value:
            raise InvalidInput(f"{self.what}: unsupported {field}", expected=value, found=found)

    def end(self) -> None:
        """Raise if bytes are left over."""
        if self.offset != len(self.data):
            raise InvalidInput(
                f"{self.what}: trailing bytes",
                expected="end of input",
                found=f"{len(self.data) - self.offset} more bytes",
            )


def _vector(data: bytes, prefix: int, field: str, *, minimum: int = 0) -> bytes:
    limit = (1 << (8 * prefix)) - 1
    if not minimum <= len(data) <= limit:
        raise InvalidInput(
            f"{field} does not fit its length prefix",
            expected=f"{minimum}..{limit} bytes",
            found=f"{len(data)} bytes",
        )
    return len(data).to_bytes(prefix, "big") + data


def _check_timestamp(timestamp: int) -> bytes:
    if (
        not isinstance(timestamp, int)
        or isinstance(timestamp, bool)
        or not 0 <= timestamp <= MAX_U64
    ):
        raise InvalidInput("CT timestamp is out of range", expected="0..2**64-1", found=timestamp)
    return timestamp.to_bytes(8, "big")


@record
class X509Entry:
    """A final certificate as a CT entry (``x509_entry``): its DER encoding."""

    cert_der: bytes

    entry_type = X509_ENTRY

    def encode(self) -> bytes:
        """The TLS ``signed_entry``: ``ASN.1Cert<1..2^24-1>``."""
        return _vector(self.cert_der, 3, "certificate", minimum=1)


@record
class PrecertEntry:
    """A precertificate as a CT entry: issuer key hash and the TBS without the poison."""

    issuer_key_hash: bytes
    tbs: bytes

    entry_type = PRECERT_ENTRY

    def encode(self) -> bytes:
        """The TLS ``signed_entry``: ``issuer_key_hash[32] | TBSCertificate<1..2^24-1>``."""
        if len(self.issuer_key_hash) != LOG_ID_SIZE:
            raise InvalidInput(
                "issuer key hash has the wrong length",
                expected=f"{LOG_ID_SIZE} bytes",
                found=f"{len(self.issuer_key_hash)} bytes",
            )
        return self.issuer_key_hash + _vector(self.tbs, 3, "TBSCertificate", minimum=1)


CtEntry = X509Entry | PrecertEntry


def _timestamped(first: int, timestamp: int, entry: CtEntry, extensions: bytes) -> bytes:
    head = bytes([SCT_VERSION_V1, first]) + _check_timestamp(timestamp)
    body = entry.entry_type.to_bytes(2, "big") + entry.encode()
    return head + body + _vector(extensions, 2, "CT extensions")


def signed_data(entry: CtEntry, *, timestamp: int, extensions: bytes = b"") -> bytes:
    """The bytes a CT log signs for ``entry`` (``signature_type`` certificate_timestamp)."""
    return _timestamped(0, timestamp, entry, extensions)


def precert_signed_data(
    timestamp: int, issuer_key_hash: bytes, tbs: bytes, extensions: bytes = b""
) -> bytes:
    """The bytes a CT log signs for a precertificate (``tbs`` without the poison)."""
    return signed_data(
        PrecertEntry(issuer_key_hash, tbs), timestamp=timestamp, extensions=extensions
    )


def x509_signed_data(timestamp: int, cert_der: bytes, extensions: bytes = b"") -> bytes:
    """The bytes a CT log signs for a final certificate (detached SCT)."""
    return signed_data(X509Entry(cert_der), timestamp=timestamp, extensions=extensions)


def timestamped_entry_leaf(timestamp: int, entry: CtEntry, extensions: bytes = b"") -> bytes:
    """The RFC 6962 §3.4 ``MerkleTreeLeaf`` (v1, ``timestamped_entry``) of ``entry``."""
    return _timestamped(0, timestamp, entry, extensions)


@record
class TimestampedEntry:
    """A decoded ``MerkleTreeLeaf``: the entry, its timestamp and its extensions."""

    timestamp: int
    entry: CtEntry
    extensions: bytes = b""


def parse_timestamped_entry_leaf(data: bytes) -> TimestampedEntry:
    """Decode a ``MerkleTreeLeaf`` strictly (version 0, ``timestamped_entry``, no trailing)."""
    reader = TlsReader(data, "CT Merkle tree leaf")
    reader.expect(1, "version", SCT_VERSION_V1)
    reader.expect(1, "leaf_type", 0)
    timestamp = reader.uint(8, "timestamp")
    entry_type = reader.uint(2, "entry_type")
    entry: CtEntry
    if entry_type == X509_ENTRY:
        entry = X509Entry(reader.vector(3, "certificate", minimum=1))
    elif entry_type == PRECERT_ENTRY:
        key_hash = reader.take(LOG_ID_SIZE, "issuer_key_hash")
        entry = PrecertEntry(key_hash, reader.vector(3, "TBSCertificate", minimum=1))
    else:
        raise InvalidInput(
            "CT Merkle tree leaf: unknown entry_type", expected="0 or 1", found=entry_type
        )
    extensions = reader.vector(2, "extensions")
    reader.end()
    return TimestampedEntry(timestamp, entry, extensions)


def log_id(key: PublicKey) -> bytes:
    """The RFC 6962 log ID of ``key``: SHA-256 of its DER SubjectPublicKeyInfo."""
    return key.key_id


def issuer_key_hash(issuer: x509.Certificate) -> bytes:
    """The RFC 6962 ``issuer_key_hash``: SHA-256 of the issuer's DER SubjectPublicKeyInfo."""
    spki = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()


@record
class SignedCertificateTimestamp:
    """An RFC 6962 v1 SCT; ``signature`` is the raw signature inside ``DigitallySigned``."""

    log_id: bytes
    timestamp: int
    signature: bytes
    extensions: bytes = b""
    hash_alg: int = HASH_SHA256
    sig_alg: int = SIG_ECDSA
    version: int = SCT_VERSION_V1

    def __post_init__(self) -> None:
        """Refuse field values the wire format cannot carry."""
        if self.version != SCT_VERSION_V1:
            raise InvalidInput("unsupported SCT version", expected=0, found=self.version)
        if len(self.log_id) != LOG_ID_SIZE:
            raise InvalidInput(
                "SCT log_id has the wrong length", expected="32 bytes", found=len(self.log_id)
            )
        _check_timestamp(self.timestamp)
        for name, value in (("hash_alg", self.hash_alg), ("sig_alg", self.sig_alg)):
            if isinstance(value, bool) or not 0 <= value <= 255:
                raise InvalidInput(f"SCT {name} is out of range", expected="0..255", found=value)
        if len(self.extensions) > MAX_U16 or len(self.signature) > MAX_U16:
            _vector(self.extensions, 2, "SCT extensions")  # raises, naming the field
            _vector(self.signature, 2, "SCT signature")

    def digitally_signed(self) -> bytes:
        """The TLS ``DigitallySigned``: ``hash_alg | sig_alg | signature<0..2^16-1>``."""
        return bytes([self.hash_alg, self.sig_alg]) + _vector(self.signature, 2, "SCT signature")

    def encode(self) -> bytes:
        """The TLS encoding of this SCT."""
        head = bytes([self.version]) + self.log_id + self.timestamp.to_bytes(8, "big")
        return head + _vector(self.extensions, 2, "SCT extensions") + self.digitally_signed()

    @classmethod
    def decode(cls, data: bytes) -> SignedCertificateTimestamp:
        """Decode a TLS-encoded SCT strictly (no truncation, no trailing bytes)."""
        return cls(*(_well_formed_sct(data) or _read_sct(data)))

    def to_json(self) -> dict[str, object]:
        """The RFC 6962 ``add-chain`` / ``add-pre-chain`` response object."""
        return {
            "sct_version": self.version,
            "id": b64encode(self.log_id),
            "timestamp": self.timestamp,
            "extensions": b64encode(self.extensions),
            "signature": b64encode(self.digitally_signed()),
        }

    @classmethod
    def from_json(cls, document: object) -> SignedCertificateTimestamp:
        """Parse an ``AddChainResponse`` object strictly."""
        if not isinstance(document, dict):
            raise InvalidInput(
                "AddChainResponse is not a JSON object",
                expected="object",
                found=type_name(document),
            )
        version = _json_int(document, "sct_version")
        if version != SCT_VERSION_V1:
            raise InvalidInput("AddChainResponse.sct_version", expected=0, found=version)
        reader = TlsReader(b64decode(_json_str(document, "signature"), "signature"), "signature")
        hash_alg, sig_alg, signature = _read_digitally_signed(reader)
        reader.end()
        return cls(
            log_id=b64decode(_json_str(document, "id"), "AddChainResponse.id"),
            timestamp=_json_int(document, "timestamp"),
            signature=signature,
            extensions=b64decode(_json_str(document, "extensions"), "AddChainResponse.extensions"),
            hash_alg=hash_alg,
            sig_alg=sig_alg,
        )


_SCT_HEAD = struct.Struct(">B32sQH")
"""sct_version, log_id, timestamp and the length of the extensions."""
_SIGNATURE_HEAD = struct.Struct(">BBH")
"""hash_alg, sig_alg and the length of the signature."""
_SctFields = tuple[bytes, int, bytes, bytes, int, int]


def _read_sct(data: bytes) -> _SctFields:
    """The fields of a v1 SCT read one by one, refusing the first that is wrong."""
    reader = TlsReader(data, "SCT")
    reader.expect(1, "sct_version", SCT_VERSION_V1)
    ident = reader.take(LOG_ID_SIZE, "log_id")
    timestamp = reader.uint(8, "timestamp")
    extensions = reader.vector(2, "extensions")
    hash_alg, sig_alg, signature = _read_digitally_signed(reader)
    reader.end()
    return ident, timestamp, signature, extensions, hash_alg, sig_alg


def _well_formed_sct(data: bytes) -> _SctFields | None:
    """The fields of a well-formed v1 SCT, read at once; None for anything else.

    :func:`_read_sct` reads the same fields; this is its shortcut for the common
    case, and the two must agree on every input this accepts.
    """
    head_end = _SCT_HEAD.size
    if len(data) < head_end + _SIGNATURE_HEAD.size:
        return None
    version, ident, timestamp, extensions_size = _SCT_HEAD.unpack_from(data)
    signature_head = head_end + extensions_size
    if version != SCT_VERSION_V1 or len(data) < signature_head + _SIGNATURE_HEAD.size:
        return None
    hash_alg, sig_alg, signature_size = _SIGNATURE_HEAD.unpack_from(data, signature_head)
    signature_start = signature_head + _SIGNATURE_HEAD.size
    if signature_start + signature_size != len(data):
        return None
    extensions = data[head_end:signature_head]
    return ident, timestamp, data[signature_start:], extensions, hash_alg, sig_alg


def _read_digitally_signed(reader: TlsReader) -> tuple[int, int, bytes]:
    hash_alg = reader.uint(1, "hash_alg")
    sig_alg = reader.uint(1, "sig_alg")
    return hash_alg, sig_alg, reader.vector(2, "signature")


def _json_int(document: dict[object, object], name: str) -> int:
    value = document.get(name, MISSING)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"AddChainResponse.{name}", expected="integer", found=type_name(value))
    return value


def _json_str(document: dict[object, object], name: str) -> str:
    value = document.get(name, MISSING)
    if not isinstance(value, str):
        raise InvalidInput(f"AddChainResponse.{name}", expected="string", found=type_name(value))
    return value


def _sig_alg_for(key: PublicKey) -> int:
    algorithm = key.algorithm
    if algorithm is KeyAlgorithm.ECDSA_P256_SHA256:
        return SIG_ECDSA
    if algorithm.name.startswith("RSA_PKCS1V15_"):
        return SIG_RSA
    raise InvalidInput("CT logs sign SCTs only with", expected=_ALGORITHMS, found=algorithm.value)


def sign_sct(
    signer: Signer, entry: CtEntry, *, timestamp: int, extensions: bytes = b""
) -> SignedCertificateTimestamp:
    """Sign an SCT for ``entry`` at ``timestamp`` (ms) as the log whose key ``signer`` holds."""
    sig_alg = _sig_alg_for(signer.public_key)
    data = signed_data(entry, timestamp=timestamp, extensions=extensions)
    return SignedCertificateTimestamp(
        log_id=log_id(signer.public_key),
        timestamp=timestamp,
        signature=signer.sign(data),
        extensions=extensions,
        hash_alg=HASH_SHA256,
        sig_alg=sig_alg,
    )


def verify_sct(sct: SignedCertificateTimestamp, log_key: PublicKey, entry: CtEntry) -> None:
    """Check that ``log_key`` signed ``sct`` for ``entry``; raise :class:`VerificationError`.

    The signed data is rebuilt from ``entry`` and the SCT's own timestamp and
    extensions, so they cannot disagree with what is checked.
    """
    if sct.log_id != log_id(log_key):
        raise VerificationError(
            "SCT is from another log", expected=log_id(log_key).hex(), found=sct.log_id.hex()
        )
    if sct.hash_alg != HASH_SHA256:
        raise VerificationError("SCT hash algorithm", expected=HASH_SHA256, found=sct.hash_alg)
    try:
        expected = _sig_alg_for(log_key)
    except InvalidInput as exc:
        raise VerificationError(exc.message, expected=exc.expected, found=exc.found) from None
    if sct.sig_alg != expected:
        raise VerificationError("SCT signature algorithm", expected=expected, found=sct.sig_alg)
    data = signed_data(entry, timestamp=sct.timestamp, extensions=sct.extensions)
    try:
        log_key.verify(sct.signature, data)
    except VerificationError as exc:
        raise VerificationError(f"SCT from {sct.log_id.hex()[:16]}: {exc.message}") from exc
