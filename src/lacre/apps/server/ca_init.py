"""``lacre ca init``: make or import the CA chain, and make the CT log key.

Making a chain: the issuing (intermediate) key is the configured CA key,
generated when it is a ``file:`` URI naming no file yet; the root key is an
existing key (``file:`` or ``pkcs11:``) or a new one written to a file that the
operator then moves offline. Importing: the chain (intermediate, then root) is
checked and must match the configured issuing key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from lacre.apps.server.ca_setup import chain_file, new_chain, write_chain
from lacre.apps.server.config import ServerConfig
from lacre.errors import ConfigError, InvalidInput
from lacre.keys import (
    KeyAlgorithm,
    Signer,
    ensure_key_file,
    generate_signer,
    load_signer,
    save_signer,
)
from lacre.x509.casigning import check_issuer
from lacre.x509.chains import parse_ca_chain
from lacre.x509.profile import CaChain


@dataclass(frozen=True, kw_only=True)
class CaInit:
    """What ``lacre ca init`` is asked to do."""

    root_key: str | None = None
    """Key URI of an existing root key; None: make one and write it to ``root_key_out``."""
    root_key_out: Path | None = None
    """Where a new root key is written (default ``DATA_DIR/keys/ca-root.pem``)."""
    import_chain: Path | None = None
    """A PEM chain (intermediate, then root) to use instead of making one."""
    force: bool = False
    """Replace an existing chain."""


@dataclass(frozen=True)
class CaInitResult:
    """What was written."""

    chain: CaChain
    chain_file: Path
    new_root_key: Path | None
    new_keys: tuple[Path, ...]


def init_ca(config: ServerConfig, request: CaInit) -> CaInitResult:
    """Write the CA chain where the server reads it; make missing key files."""
    target = chain_file(config)
    if target.exists() and not request.force:
        raise ConfigError(
            f"a CA chain already exists at {target}", expected="--force to replace it"
        )
    now = dt.datetime.now(dt.UTC)
    made: list[Path] = []
    issuing = _issuing_key(config, made)
    new_root = None
    if request.import_chain is not None:
        chain = _imported(request.import_chain, issuing, now)
    else:
        root, new_root = _root_key(config, request)
        chain = new_chain(root, issuing, config.organization, now)
    _ct_key(config, made)
    write_chain(target, chain)
    return CaInitResult(chain, target, new_root, tuple(made))


def _issuing_key(config: ServerConfig, made: list[Path]) -> Signer:
    made_path = ensure_key_file(config.ca_key_uri, config.ca_key_type, config.key_passphrase)
    if made_path:
        made.append(made_path)
    return load_signer(config.ca_key_uri, lambda: config.key_passphrase)


def _root_key(config: ServerConfig, request: CaInit) -> tuple[Signer, Path | None]:
    if request.root_key is not None:
        return load_signer(request.root_key, lambda: config.key_passphrase), None
    path = request.root_key_out or config.data_dir / "keys" / "ca-root.pem"
    if path.exists():
        raise ConfigError(
            f"a root key already exists at {path}",
            expected="--root-key to sign with it, or another --root-key-out",
        )
    signer = generate_signer(config.ca_key_type)
    save_signer(signer, path, config.key_passphrase)
    return signer, path


def _ct_key(config: ServerConfig, made: list[Path]) -> None:
    path = ensure_key_file(config.ct_key_uri, KeyAlgorithm.ECDSA_P256_SHA256, config.key_passphrase)
    if path:
        made.append(path)


def _imported(path: Path, issuing: Signer, now: dt.datetime) -> CaChain:
    try:
        chain = parse_ca_chain(path.read_bytes(), now=now, where=str(path))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except InvalidInput as exc:
        raise ConfigError(exc.message, expected=exc.expected, found=exc.found) from None
    check_issuer(chain.intermediate, issuing)
    return chain
