"""An RFC 6962 certificate-transparency log on the log engine.

The CA submits each precertificate with its issuing chain; the log checks the
chain ends at a root it accepts and that every certificate is issued by the
next, strips the poison extension itself, appends the ``MerkleTreeLeaf`` and
answers with an SCT over exactly what it logged.

Issuing chains repeat from one submission to the next (every certificate of a
CA shares its intermediate and root), so their parsing and their signature
checks are remembered: only the first certificate of a chain costs a signature
verification. The CA of the same process, which vouches for what it issues,
signs no precertificate at all: it submits the TBS the log would have
extracted from one with :meth:`CtLog.add_issued_tbs`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from lacre.errors import ConfigError, InvalidInput, NotFound
from lacre.keys import KeyAlgorithm, Signer
from lacre.tlog import TransparencyLog
from lacre.transparency.ct import (
    HASH_SHA256,
    SIG_ECDSA,
    CtEntry,
    PrecertEntry,
    SignedCertificateTimestamp,
    X509Entry,
    issuer_key_hash,
    log_id,
    sign_sct,
    timestamped_entry_leaf,
)
from lacre.transparency.ct_precert import POISON_OID, precert_tbs
from lacre.x509.certificates import UNREADABLE_CERTIFICATE, extension_map
from lacre.x509.identity_cache import IdentityCache

MAX_CHAIN = 10
_TREE_HASH = 1
_REMEMBERED = 64
"""Issuing certificates (parsed) and verified issuing chains kept in memory."""
_V = TypeVar("_V")


@dataclass(frozen=True)
class SignedTreeHead:
    """A signed tree head (``get-sth``)."""

    tree_size: int
    timestamp: int
    root_hash: bytes
    signature: bytes
    """TLS ``DigitallySigned`` over the RFC 6962 ``TreeHeadSignature``."""


def tree_head_signed_data(timestamp: int, tree_size: int, root_hash: bytes) -> bytes:
    """The bytes an STH signature covers (RFC 6962 section 3.5)."""
    return (
        bytes([0, _TREE_HASH])
        + timestamp.to_bytes(8, "big")
        + tree_size.to_bytes(8, "big")
        + root_hash
    )


class CtLog:
    """A CT log accepting chains that end at one of ``roots``."""

    def __init__(
        self,
        log: TransparencyLog,
        signer: Signer,
        roots: Sequence[x509.Certificate],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Log into ``log``, signing SCTs and tree heads with ``signer`` (ECDSA P-256)."""
        if signer.public_key.algorithm is not KeyAlgorithm.ECDSA_P256_SHA256:
            raise ConfigError(
                "CT log key type",
                expected=KeyAlgorithm.ECDSA_P256_SHA256.value,
                found=signer.public_key.algorithm.value,
            )
        self.log, self.signer, self.roots, self._clock = log, signer, list(roots), clock
        self.log_id = log_id(signer.public_key)
        self._issuers: dict[bytes, x509.Certificate] = {}
        self._verified_chains: set[tuple[bytes, ...]] = set()
        self._issuer_key_hashes: IdentityCache[bytes] = IdentityCache()

    async def add_pre_chain(self, chain: Sequence[bytes]) -> SignedCertificateTimestamp:
        """Log a precertificate (first) with its issuing chain; return its SCT."""
        certificates = self._checked_chain(chain)
        if not _has_critical_poison(certificates[0]):
            raise InvalidInput("add-pre-chain: the first certificate has no critical poison")
        issuer_key_hash = self._issuer_key_hash(certificates[1])
        return await self._log(PrecertEntry(issuer_key_hash, precert_tbs(certificates[0])))

    async def add_issued_tbs(
        self, tbs: bytes, issuer: x509.Certificate
    ) -> SignedCertificateTimestamp:
        """Log the precertificate entry of a certificate the caller is issuing; return its SCT.

        ``tbs`` is the certificate's DER TBSCertificate without poison or SCT list,
        exactly what RFC 6962 logs for a precertificate and what the SCT covers. For
        the CA sharing this process, which vouches for it: no precertificate needs to
        be signed, so issuing a certificate takes one CA signature instead of two.
        """
        return await self._log(PrecertEntry(self._issuer_key_hash(issuer), tbs))

    def _issuer_key_hash(self, issuer: x509.Certificate) -> bytes:
        """The RFC 6962 ``issuer_key_hash`` of ``issuer``, computed once per certificate."""
        digest = self._issuer_key_hashes.get(issuer)
        if digest is None:
            digest = issuer_key_hash(issuer)
            self._issuer_key_hashes.put(digest, issuer)
        return digest

    async def add_chain(self, chain: Sequence[bytes]) -> SignedCertificateTimestamp:
        """Log a final certificate (first) with its issuing chain; return its SCT."""
        certificates = self._checked_chain(chain)
        if _has_critical_poison(certificates[0]):
            raise InvalidInput("add-chain: the first certificate is a precertificate")
        return await self._log(X509Entry(chain[0]))

    async def _log(self, entry: CtEntry) -> SignedCertificateTimestamp:
        timestamp = int(self._clock() * 1000)
        await self.log.append_async(timestamped_entry_leaf(timestamp, entry))
        return sign_sct(self.signer, entry, timestamp=timestamp)

    def _checked_chain(self, chain: Sequence[bytes]) -> list[x509.Certificate]:
        if not 2 <= len(chain) <= MAX_CHAIN:
            raise InvalidInput(
                "chain length", expected=f"2 to {MAX_CHAIN} certificates", found=len(chain)
            )
        certificates = [_parse(chain[0], 0)]
        certificates += [self._issuer(der, position + 1) for position, der in enumerate(chain[1:])]
        _check_issued(certificates[0], certificates[1], 0)
        issuing = tuple(chain[1:])
        if issuing not in self._verified_chains:
            for position, (child, parent) in enumerate(itertools.pairwise(certificates[1:])):
                _check_issued(child, parent, position + 1)
            self._check_anchor(certificates[-1])
            if len(self._verified_chains) >= _REMEMBERED:
                self._verified_chains.clear()
            self._verified_chains.add(issuing)
        return certificates

    def _issuer(self, der: bytes, position: int) -> x509.Certificate:
        """An issuing certificate, parsed once for all the chains it appears in."""
        cert = self._issuers.get(der)
        if cert is None:
            cert = _parse(der, position)
            _remember(self._issuers, der, cert)
        return cert

    def _check_anchor(self, last: x509.Certificate) -> None:
        for root in self.roots:
            if last == root:
                return
            try:
                last.verify_directly_issued_by(root)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return
        raise InvalidInput("chain does not end at a root this log accepts")

    def root_ders(self) -> list[bytes]:
        """The accepted roots, DER."""
        return [root.public_bytes(serialization.Encoding.DER) for root in self.roots]

    def signed_tree_head(self) -> SignedTreeHead:
        """The current tree head, freshly signed."""
        size = self.log.reader.state().size
        root = self.log.reader.root(size)
        timestamp = int(self._clock() * 1000)
        signature = self.signer.sign(tree_head_signed_data(timestamp, size, root))
        return SignedTreeHead(size, timestamp, root, _digitally_signed(signature))

    def proof_by_hash(self, digest: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """(index, audit path) of the leaf with Merkle leaf hash ``digest``."""
        index = self.log.reader.index_of(digest)
        if index >= tree_size:
            raise NotFound(f"leaf {digest.hex()} is not in the tree of size {tree_size}")
        return index, self.log.reader.inclusion_proof(index, tree_size).hashes

    def entries(self, start: int, end: int) -> list[bytes]:
        """The ``MerkleTreeLeaf`` inputs of entries ``start`` to ``end`` inclusive (at most 256)."""
        size = self.log.reader.state().size
        if not 0 <= start <= end or start >= size:
            raise InvalidInput("entry range", expected=f"0 <= start <= end, start < {size}")
        last = min(end, size - 1, start + 255)
        return self.log.store.entries(self.log.info, start, last + 1)


def _remember(cache: dict[bytes, _V], key: bytes, value: _V) -> None:
    """Store ``value`` in a small bounded cache (emptied when full)."""
    if len(cache) >= _REMEMBERED:
        cache.clear()
    cache[key] = value


def _digitally_signed(signature: bytes) -> bytes:
    return bytes([HASH_SHA256, SIG_ECDSA]) + len(signature).to_bytes(2, "big") + signature


def _parse(der: bytes, position: int) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except UNREADABLE_CERTIFICATE as exc:
        raise InvalidInput(f"chain[{position}] is not a DER certificate: {exc}") from exc


def _check_issued(child: x509.Certificate, parent: x509.Certificate, position: int) -> None:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise InvalidInput(
            f"chain[{position}] is not issued by chain[{position + 1}]: {exc or 'bad signature'}"
        ) from exc


def _has_critical_poison(cert: x509.Certificate) -> bool:
    return any(
        extension.oid.dotted_string == POISON_OID and extension.critical
        for extension in extension_map(cert).values()
    )
