"""A throwaway SoftHSM2 token store for PKCS#11 tests.

SoftHSM reads ``SOFTHSM2_CONF`` when the module is initialized (the first
``pkcs11.lib()`` call in a process), so :func:`start_softhsm` sets it in this
process's environment and refuses to run once the module is already loaded.
Tokens are initialized with ``softhsm2-util`` before that first load; keys are
generated through python-pkcs11.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
SO_PIN = "5678"
CONF_ENV = "SOFTHSM2_CONF"
P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
P384_PARAMS = bytes.fromhex("06052b81040022")


class SoftHsmUnavailable(RuntimeError):
    """SoftHSM2 or python-pkcs11 cannot be used on this machine (the reason is the message)."""


@dataclass(frozen=True)
class SoftHsm:
    """A SoftHSM2 configuration whose tokens live under ``directory``."""

    directory: Path
    conf: Path

    def init_token(self, label: str) -> None:
        """Create a token named ``label`` with the user PIN :data:`PIN`."""
        command = ["softhsm2-util", "--init-token", "--free", "--label", label]
        command += ["--pin", PIN, "--so-pin", SO_PIN]
        env = {**os.environ, CONF_ENV: str(self.conf)}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SoftHsmUnavailable(f"softhsm2-util --init-token failed: {done.stderr.strip()}")


def uri(
    token: str, obj: str | None = None, *, query: dict[str, str] | None = None, **path: str
) -> str:
    """Build a ``pkcs11:`` URI for ``token``/``obj`` with percent-encoded values.

    ``query`` defaults to the SoftHSM module and :data:`PIN`.
    """
    parts = {"token": token, **({"object": obj} if obj is not None else {}), **path}
    query = {"module-path": MODULE, "pin-value": PIN} if query is None else query
    encoded = ";".join(f"{name}={quote(value, safe='')}" for name, value in parts.items())
    if not query:
        return f"pkcs11:{encoded}"
    return f"pkcs11:{encoded}?" + "&".join(
        f"{name}={quote(value, safe='/:')}" for name, value in query.items()
    )


def start_softhsm(directory: Path, labels: list[str]) -> SoftHsm:
    """Configure SoftHSM2 under ``directory`` for this process and create tokens ``labels``."""
    if not Path(MODULE).is_file():
        raise SoftHsmUnavailable(f"{MODULE} is missing: install the Debian package softhsm2")
    if shutil.which("softhsm2-util") is None:
        raise SoftHsmUnavailable("softhsm2-util is missing: install the Debian package softhsm2")
    try:
        import pkcs11
    except ImportError as exc:
        raise SoftHsmUnavailable(f"python-pkcs11 cannot be imported: {exc}") from exc
    if MODULE in getattr(pkcs11, "_loaded", {}):
        raise SoftHsmUnavailable(f"{MODULE} was loaded before {CONF_ENV} was set")
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ[CONF_ENV] = str(conf)
    hsm = SoftHsm(directory, conf)
    for label in labels:
        hsm.init_token(label)
    return hsm


def generate_ec_key(token_label: str, label: str, key_id: bytes, params: bytes) -> None:
    """Generate a stored EC key pair (``params``: DER curve OID) on the token."""
    import pkcs11
    from pkcs11 import Attribute, KeyType

    token = pkcs11.lib(MODULE).get_token(token_label=token_label)
    with token.open(rw=True, user_pin=PIN) as session:
        domain = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: params}, local=True
        )
        domain.generate_keypair(store=True, label=label, id=key_id)


def generate_rsa_key(token_label: str, label: str, key_id: bytes) -> None:
    """Generate a stored RSA-2048 key pair on the token."""
    import pkcs11
    from pkcs11 import KeyType

    token = pkcs11.lib(MODULE).get_token(token_label=token_label)
    with token.open(rw=True, user_pin=PIN) as session:
        session.generate_keypair(KeyType.RSA, 2048, store=True, label=label, id=key_id)
