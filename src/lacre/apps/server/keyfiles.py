"""The server's own keys: read by URI, made on first start in development mode only."""

from __future__ import annotations

from lacre.apps.server.config import ServerConfig
from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, Signer, ensure_key_file, load_signer
from lacre.keys.uri import key_path


def server_signer(
    config: ServerConfig, uri: str, algorithm: KeyAlgorithm, *, role: str, advice: str
) -> Signer:
    """The ``role`` key at ``uri``; a missing key file is made (``algorithm``) with --dev only.

    Outside development mode a missing file is a ConfigError ending with ``advice``.
    """
    if config.dev:
        ensure_key_file(uri, algorithm, config.key_passphrase)
    elif not uri.startswith("pkcs11:") and not key_path(uri).exists():
        raise ConfigError(f"no {role} key at {key_path(uri)}: {advice}")
    return load_signer(uri, lambda: config.key_passphrase)
