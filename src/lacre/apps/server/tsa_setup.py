"""Start-up of the timestamp authority: its key, its certificate chain, its trust entry.

In development mode the TSA key (``DATA_DIR/keys/tsa.pem``, unless a key URI is
given), a root key (``DATA_DIR/keys/tsa-root.pem``) and the chain
(``DATA_DIR/tsa/leaf.pem`` and ``root.pem``) are created on first start and
reused afterwards. Outside development mode the TSA runs only when given a key
URI and the PEM chain issued for that key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from lacre.errors import ConfigError
from lacre.keys import (
    KeyAlgorithm,
    Signer,
    ensure_key_file,
    load_signer,
)
from lacre.models.timestamp_authority import TIMESTAMP_PATH, TimestampAuthorityEntry
from lacre.tsa import TimestampAuthority, TimestampOptions, TsaChain, tsa_chain

ORGANIZATION = "lacre"
KEY_FILE = "tsa.pem"
ROOT_KEY_FILE = "tsa-root.pem"
CHAIN_DIRECTORY = "tsa"


@dataclass(frozen=True)
class TsaParts:
    """What the timestamp API needs at run time."""

    authority: TimestampAuthority

    def close(self) -> None:
        """Release the key (a PKCS#11 session); in-memory keys need nothing."""
        close = getattr(self.authority.signer, "close", None)
        if callable(close):
            close()


def open_tsa(
    *,
    data_dir: Path,
    key_uri: str | None,
    dev: bool,
    passphrase: bytes | None,
    chain_path: Path | None = None,
    options: TimestampOptions | None = None,
) -> TsaParts | None:
    """The TSA's parts; None outside development mode when no TSA key is configured.

    ``chain_path`` names a PEM chain (leaf first) for the key; in development
    mode it defaults to a chain created, and then reused, under ``data_dir``.
    """
    if not dev and key_uri is None:
        return None
    signer = _tsa_signer(data_dir, key_uri, passphrase)
    if chain_path is not None:
        chain = TsaChain.from_pem(_read(chain_path))
    elif dev:
        chain = _dev_chain(data_dir, signer, passphrase)
    else:
        raise ConfigError(
            "a TSA key outside development mode needs its certificate chain",
            expected="a PEM chain file, leaf first",
            found="none",
        )
    return TsaParts(TimestampAuthority(signer, chain, options))


def _tsa_signer(data_dir: Path, key_uri: str | None, passphrase: bytes | None) -> Signer:
    if key_uri is None:
        path = data_dir / "keys" / KEY_FILE
        ensure_key_file(f"file:{path}", KeyAlgorithm.ECDSA_P256_SHA256, passphrase)
        key_uri = f"file:{path}"
    return load_signer(key_uri, lambda: passphrase)


def _dev_chain(data_dir: Path, signer: Signer, passphrase: bytes | None) -> TsaChain:
    directory = data_dir / CHAIN_DIRECTORY
    leaf_path, root_path = directory / "leaf.pem", directory / "root.pem"
    if leaf_path.exists() and root_path.exists():
        chain = TsaChain(
            leaf=x509.load_pem_x509_certificate(_read(leaf_path)),
            root=x509.load_pem_x509_certificate(_read(root_path)),
        )
        if chain.leaf.public_key() != signer.public_key.key:
            raise ConfigError(
                f"the TSA certificate {leaf_path} was issued for another key",
                expected="the key of the configured TSA key URI",
                found=f"a different key (remove {directory} to issue a new chain)",
            )
        return chain
    root_key_path = data_dir / "keys" / ROOT_KEY_FILE
    ensure_key_file(f"file:{root_key_path}", KeyAlgorithm.ECDSA_P384_SHA384, passphrase)
    chain = tsa_chain(
        root_signer=load_signer(f"file:{root_key_path}", lambda: passphrase),
        tsa_key=signer.public_key,
        organization=ORGANIZATION,
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
    )
    directory.mkdir(parents=True, exist_ok=True)
    for path, cert in ((leaf_path, chain.leaf), (root_path, chain.root)):
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return chain


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def trust_entry(parts: TsaParts, base_url: str) -> TimestampAuthorityEntry:
    """The trusted root's ``timestampAuthorities`` entry for this TSA at ``base_url``."""
    chain = parts.authority.chain
    return TimestampAuthorityEntry(
        uri=f"{base_url.rstrip('/')}{TIMESTAMP_PATH}",
        organization=_attribute(chain.leaf.subject, NameOID.ORGANIZATION_NAME),
        common_name=_attribute(chain.leaf.subject, NameOID.COMMON_NAME),
        chain_der=chain.der(),
        valid_from=chain.leaf.not_valid_before_utc,
    )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""
