"""Start-up of the certificate authority: its chain, issuing key and CT log.

The chain is read from ``DATA_DIR/ca/chain.pem`` (written by ``lacre ca init``)
or the configured chain file; the issuing key and the CT key from their key
URIs (``file:`` or ``pkcs11:``). In development mode a missing chain and
missing key files are created on first start and reused afterwards; otherwise
they are a configuration error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from lacre.apps.server.config import ServerConfig, origin_of
from lacre.apps.server.keyfiles import server_signer
from lacre.ca.ctlog import CtLog
from lacre.ca.issuer import CertificateAuthority
from lacre.ca.service import CaService
from lacre.errors import ConfigError, InvalidInput
from lacre.keys import KeyAlgorithm, Signer
from lacre.models.trusted_root import CertificateAuthorityEntry, TransparencyLogKey
from lacre.oidc import TokenVerifier
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore
from lacre.transparency.ct import log_id
from lacre.x509.chains import chain_pem, parse_ca_chain
from lacre.x509.profile import CaChain, ca_chain

CT_LOG = "ct"


@dataclass(frozen=True)
class CaParts:
    """The CA service and its CT log."""

    service: CaService
    ctlog: CtLog

    def close(self) -> None:
        """Integrate what the CT log has queued and stop."""
        self.ctlog.log.close()


def chain_file(config: ServerConfig) -> Path:
    """Where the CA chain (intermediate, then root, PEM) is read from."""
    return config.ca_chain or config.data_dir / "ca" / "chain.pem"


def open_ca(
    config: ServerConfig, store: LogStore, base_url: str, verifier: TokenVerifier
) -> CaParts | None:
    """The CA's parts when the CA is among the services; None otherwise."""
    if "ca" not in config.services:
        return None
    issuing = _key(config, config.ca_key_uri, config.ca_key_type, "CA")
    chain = _chain(config, issuing)
    ct_signer = _key(config, config.ct_key_uri, KeyAlgorithm.ECDSA_P256_SHA256, "CT log")
    if not verifier.issuers.configs:
        raise ConfigError(
            "the CA trusts no identity provider",
            expected="oidc.issuers in the configuration file, or the built-in issuer",
        )
    ct_log = TransparencyLog.open(
        store, name=CT_LOG, origin=f"{origin_of(base_url)}/ct", signer=ct_signer
    )
    ctlog = CtLog(ct_log, ct_signer, [chain.root])
    service = CaService(CertificateAuthority(chain, issuing, ctlog), verifier)
    return CaParts(service, ctlog)


def _key(config: ServerConfig, uri: str, algorithm: KeyAlgorithm, role: str) -> Signer:
    """The key at ``uri``; a missing key file is made in development mode only."""
    advice = (
        f"run `lacre ca init --data-dir {config.data_dir}`, name an existing key in the "
        "configuration file, or start with --dev"
    )
    return server_signer(config, uri, algorithm, role=role, advice=advice)


def _chain(config: ServerConfig, issuing: Signer) -> CaChain:
    path = chain_file(config)
    now = dt.datetime.now(dt.UTC)
    if not path.exists():
        if not config.dev:
            raise ConfigError(
                f"no CA chain at {path}: run `lacre ca init --data-dir {config.data_dir}` "
                "(or set ca.chain in the configuration file), or start with --dev"
            )
        root_uri = f"file:{config.data_dir / 'keys' / 'ca-root.pem'}"
        root = _key(config, root_uri, config.ca_key_type, "root")
        write_chain(path, new_chain(root, issuing, config.organization, now))
    try:
        return parse_ca_chain(path.read_bytes(), now=now, where=str(path))
    except InvalidInput as exc:
        raise ConfigError(exc.message, expected=exc.expected, found=exc.found) from None


def new_chain(root: Signer, issuing: Signer, organization: str, now: dt.datetime) -> CaChain:
    """A new root and intermediate, valid from five minutes before ``now``."""
    return ca_chain(
        root_signer=root,
        intermediate_signer=issuing,
        organization=organization,
        not_before=now - dt.timedelta(minutes=5),
        root_common_name=f"{organization} root",
        intermediate_common_name=f"{organization} intermediate",
    )


def write_chain(path: Path, chain: CaChain) -> None:
    """Write ``chain`` to ``path`` (intermediate first), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(chain_pem(chain))
    tmp.replace(path)


def trust_entries(
    parts: CaParts, base_url: str, now: dt.datetime
) -> tuple[list[TransparencyLogKey], list[CertificateAuthorityEntry]]:
    """The CT log and CA entries of the trusted root."""
    key = parts.ctlog.signer.public_key
    ctlog = TransparencyLogKey(base_url=base_url, key=key, log_id=log_id(key), valid_from=now)
    chain = parts.service.authority.chain
    subject = chain.intermediate.subject
    organization = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    common_name = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    authority = CertificateAuthorityEntry(
        uri=base_url,
        organization=str(organization[0].value) if organization else "",
        common_name=str(common_name[0].value) if common_name else "",
        chain_der=tuple(
            cert.public_bytes(serialization.Encoding.DER) for cert in chain.certificates
        ),
        valid_from=chain.intermediate.not_valid_before_utc,
    )
    return [ctlog], [authority]
