"""Issuance: a verified principal and its key become a certificate with an embedded SCT."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.ca.ctlog import CtLog
from lacre.ca.possession import check_key_strength
from lacre.errors import ConfigError
from lacre.keys import PublicKey, Signer
from lacre.oidc import Principal
from lacre.x509.casigning import check_issuer
from lacre.x509.profile import CaChain, LeafProfile, encode_sct_list


@dataclass(frozen=True)
class IssuedChain:
    """A leaf certificate and the chain up to the root."""

    certificates: list[x509.Certificate]
    issuing_pems: tuple[str, ...] = field(repr=False, compare=False)
    """The PEM of every certificate after the leaf, encoded once by the issuer."""

    def pem(self) -> list[str]:
        """Every certificate as one PEM block, leaf first."""
        return [_pem(self.certificates[0]), *self.issuing_pems]


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class CertificateAuthority:
    """Issues ten-minute code-signing certificates under an intermediate, logged to a CT log."""

    def __init__(
        self,
        chain: CaChain,
        signer: Signer,
        ctlog: CtLog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Issue under ``chain.intermediate``, whose key ``signer`` holds.

        ``signer`` is any :class:`~lacre.keys.Signer` with an ECDSA P-256 or P-384 key,
        in memory or in a PKCS#11 token; a key that is not the intermediate's is
        refused here with :class:`~lacre.errors.ConfigError`.
        """
        check_issuer(chain.intermediate, signer)
        self.chain, self._signer, self._ctlog, self._clock = chain, signer, ctlog, clock
        self._issuing_pems = (_pem(chain.intermediate), _pem(chain.root))

    async def issue(self, principal: Principal, key: PublicKey) -> IssuedChain:
        """A certificate naming ``principal`` for ``key``, its SCT embedded.

        The CT log of this process logs the certificate's precertificate entry (its
        TBSCertificate without poison or SCT list) before the certificate is signed:
        one CA signature per certificate, and no precertificate to sign.
        """
        check_key_strength(key)
        profile = LeafProfile(
            subject_alt_name=principal.subject_alt_name.general_name(),
            public_key=key,
            fulcio_extensions=principal.claims,
            not_before=dt.datetime.fromtimestamp(int(self._clock()), dt.UTC),
        )
        intermediate = self.chain.intermediate
        tbs = profile.tbs_for_sct(intermediate)
        sct = await self._ctlog.add_issued_tbs(tbs, intermediate)
        leaf = profile.certificate(intermediate, self._signer, encode_sct_list([sct.encode()]))
        if leaf.tbs_precertificate_bytes != tbs:
            raise ConfigError("the issued certificate differs from the one its SCT was made for")
        return IssuedChain([leaf, intermediate, self.chain.root], self._issuing_pems)
