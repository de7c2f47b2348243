"""Start-up of the certificate authority: CA chain, CT log, identity issuer.

In development mode every key and the CA chain are created on first start
and reused afterwards, and the built-in OIDC issuer is the one identity
provider. Outside development mode the CA is not started yet: it needs a
key ceremony and configured issuers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.apps.server.config import ServerConfig, origin_of
from lacre.ca.ctlog import CtLog
from lacre.ca.issuer import CertificateAuthority
from lacre.ca.service import CaService
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer, load_signer, save_signer
from lacre.models.trusted_root import CertificateAuthorityEntry, TransparencyLogKey
from lacre.oidc import TokenVerifier
from lacre.oidc.devissuer import DevIssuer
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore
from lacre.transparency.ct import log_id
from lacre.x509.profile import CaChain, ca_chain

CT_LOG = "ct"
ORGANIZATION = "lacre"


@dataclass(frozen=True)
class CaParts:
    """Everything the CA, its CT log and the built-in issuer need at run time."""

    service: CaService
    ctlog: CtLog
    issuer: DevIssuer

    def close(self) -> None:
        """Integrate what the CT log has queued and stop."""
        self.ctlog.log.close()


def open_ca(config: ServerConfig, store: LogStore, base_url: str) -> CaParts | None:
    """The CA's parts, created on first start in development mode; None otherwise."""
    if not config.dev or "ca" not in config.services:
        return None
    keys = config.data_dir / "keys"
    intermediate_signer = _signer(keys / "ca-intermediate.pem", KeyAlgorithm.ECDSA_P384_SHA384)
    chain = _chain(config.data_dir / "ca", keys, intermediate_signer)
    ct_signer = _signer(keys / "ct.pem", KeyAlgorithm.ECDSA_P256_SHA256)
    ct_log = TransparencyLog.open(
        store, name=CT_LOG, origin=f"{origin_of(base_url)}/ct", signer=ct_signer
    )
    ctlog = CtLog(ct_log, ct_signer, [chain.root])
    issuer = DevIssuer(
        f"{base_url}/oidc", _signer(keys / "oidc.pem", KeyAlgorithm.ECDSA_P256_SHA256)
    )
    verifier = TokenVerifier([issuer.issuer_config()], issuer.jwks_source())
    service = CaService(CertificateAuthority(chain, intermediate_signer, ctlog), verifier)
    return CaParts(service, ctlog, issuer)


def _signer(path: Path, algorithm: KeyAlgorithm) -> SoftwareSigner:
    if not path.exists():
        save_signer(generate_signer(algorithm), path)
    signer = load_signer(f"file:{path}")
    assert isinstance(signer, SoftwareSigner)  # file: keys are always in-process
    return signer


def _chain(directory: Path, keys: Path, intermediate_signer: SoftwareSigner) -> CaChain:
    root_path, intermediate_path = directory / "root.pem", directory / "intermediate.pem"
    if not (root_path.exists() and intermediate_path.exists()):
        chain = ca_chain(
            root_signer=_signer(keys / "ca-root.pem", KeyAlgorithm.ECDSA_P384_SHA384),
            intermediate_signer=intermediate_signer,
            organization=ORGANIZATION,
            not_before=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        )
        directory.mkdir(parents=True, exist_ok=True)
        for path, cert in ((root_path, chain.root), (intermediate_path, chain.intermediate)):
            path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CaChain(
        root=x509.load_pem_x509_certificate(root_path.read_bytes()),
        intermediate=x509.load_pem_x509_certificate(intermediate_path.read_bytes()),
    )


def trust_entries(
    parts: CaParts, base_url: str, now: dt.datetime
) -> tuple[list[TransparencyLogKey], list[CertificateAuthorityEntry]]:
    """The CT log and CA entries of the trusted root."""
    key = parts.ctlog.signer.public_key
    ctlog = TransparencyLogKey(base_url=base_url, key=key, log_id=log_id(key), valid_from=now)
    chain = parts.service.authority.chain
    authority = CertificateAuthorityEntry(
        uri=base_url,
        organization=ORGANIZATION,
        common_name="lacre intermediate",
        chain_der=tuple(
            cert.public_bytes(serialization.Encoding.DER) for cert in chain.certificates
        ),
        valid_from=chain.intermediate.not_valid_before_utc,
    )
    return [ctlog], [authority]
