"""Key URIs: ``file:PATH`` (or a bare path) naming a PEM private key, or ``pkcs11:``.

An RFC 7512 ``pkcs11:`` URI names a key in a PKCS#11 token (see :mod:`lacre.keys.pkcs11`).

A passphrase for an encrypted PEM comes from a callback, so that only the
edges of the program decide whether it is read from a file, the environment
or a prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from lacre.errors import ConfigError, InvalidInput
from lacre.keys.public import KeyAlgorithm
from lacre.keys.signer import Signer, SoftwareSigner, generate_signer

PassphraseSource = Callable[[], bytes | None]


def key_path(uri: str) -> Path:
    """Return the file a ``file:`` key URI (or a bare path) names.

    Text whose first path segment holds a ``:`` reads as a URI of another
    scheme, refused, unless a file of that very name exists (``my:key.pub``).
    """
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if uri.startswith("file:"):
        return Path(uri[len("file:") :])
    if ":" in uri.split("/", 1)[0] and not Path(uri).is_file():
        scheme = uri.split(":", 1)[0]
        raise ConfigError(
            "unsupported key URI scheme",
            expected="a file: URI or the path of an existing key file",
            found=f"{scheme}: (no file named {uri})",
        )
    return Path(uri)


def load_signer(uri: str, passphrase: PassphraseSource | None = None) -> Signer:
    """Load the private key named by ``uri`` as a signer.

    For ``pkcs11:`` URIs, ``passphrase`` supplies the token PIN when the URI
    carries neither ``pin-value`` nor ``pin-source``.
    """
    if uri.startswith("pkcs11:"):
        from lacre.keys.pkcs11 import Pkcs11Signer  # loads python-pkcs11 only when used

        return Pkcs11Signer.open(uri, passphrase)
    return _load_file_signer(uri, passphrase)


def _load_file_signer(uri: str, passphrase: PassphraseSource | None) -> SoftwareSigner:
    path = key_path(uri)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key {path}: {exc.strerror}") from exc
    secret = passphrase() if passphrase is not None and b"ENCRYPTED" in pem else None
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(f"key {path} is not a usable PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise InvalidInput(
            f"key {path} has an unsupported type",
            expected="ECDSA or Ed25519",
            found=type(key).__name__,
        )
    return SoftwareSigner(key)


def ensure_key_file(
    uri: str, algorithm: KeyAlgorithm, passphrase: bytes | None = None
) -> Path | None:
    """Make a new ``algorithm`` key where the ``file:`` URI ``uri`` names no file yet.

    Return the path made, or None when there was nothing to make (the file exists,
    or ``uri`` names a PKCS#11 key).
    """
    if uri.startswith("pkcs11:"):
        return None
    path = key_path(uri)
    if path.exists():
        return None
    save_signer(generate_signer(algorithm), path, passphrase)
    return path


def save_signer(signer: SoftwareSigner, path: Path, passphrase: bytes | None = None) -> None:
    """Write ``signer``'s private key to ``path`` as PKCS#8 PEM, readable by the owner only."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
