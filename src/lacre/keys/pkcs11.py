"""Signing keys held in a PKCS#11 token, named by RFC 7512 ``pkcs11:`` URIs.

A URI names the module, the token and the key, and says where the PIN comes from::

    pkcs11:token=lacre;object=log-key;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234

Path attributes (``;``-separated): ``token`` (required), ``object`` and/or ``id``
(at least one), ``type`` (``private`` if given), ``serial``, ``manufacturer``,
``model``. Query attributes (``&``-separated): ``module-path`` (required), and at
most one of ``pin-value`` or ``pin-source`` (a ``file:`` URI whose first line is
the PIN). Without either, the PIN comes from the caller's passphrase callback.
Values are percent-decoded; anything else is refused with a :class:`ConfigError`
naming the attribute.

Supported keys are ECDSA on P-256 (signed over SHA-256) and P-384 (SHA-384).
The digest is computed here and signed on the token with ``CKM_ECDSA``; the
token's raw ``r || s`` output is re-encoded as DER.

PKCS#11 logins belong to the whole process: when another session already
logged in to the token, the new session shares that login and the PIN given
here is not checked again.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote_to_bytes

import pkcs11
from cryptography.hazmat.primitives.asymmetric import ec, utils
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

from lacre.errors import ConfigError
from lacre.keys.public import KeyAlgorithm, PublicKey
from lacre.record import record

PassphraseSource = Callable[[], bytes | None]

SCHEME = "pkcs11:"
_PATH_ATTRIBUTES = ("token", "object", "id", "type", "serial", "manufacturer", "model")
_QUERY_ATTRIBUTES = ("module-path", "pin-value", "pin-source")
# RFC 3986 characters: unreserved, sub-delims, ":@/?[]" and percent escapes.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]%]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

# DER-encoded named-curve OIDs (CKA_EC_PARAMS) -> curve and the hash signed with it.
_CURVES: dict[bytes, tuple[ec.EllipticCurve, str]] = {
    bytes.fromhex("06082a8648ce3d030107"): (ec.SECP256R1(), "sha256"),
    bytes.fromhex("06052b81040022"): (ec.SECP384R1(), "sha384"),
}
_SUPPORTED = "an EC key on P-256 or P-384"
_ALGORITHMS = (KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ECDSA_P384_SHA384)


@record(kw_only=True)
class Pkcs11Uri:
    """The parts of a ``pkcs11:`` key URI lacre uses."""

    module_path: str
    token: str
    object: str | None = None
    id: bytes | None = None
    serial: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    pin_value: str | None = None
    pin_source: str | None = None

    @classmethod
    def parse(cls, uri: str) -> Pkcs11Uri:
        """Parse ``uri`` strictly; raise :class:`ConfigError` naming the offending attribute."""
        if not uri.startswith(SCHEME):
            raise ConfigError("not a PKCS#11 URI", expected=f"{SCHEME}...", found=repr(uri[:16]))
        if not _URI_CHARS.fullmatch(uri):
            raise ConfigError(
                "PKCS#11 URI has characters that must be percent-encoded", found=repr(uri)
            )
        path, _, query = uri[len(SCHEME) :].partition("?")
        found = _attributes(path, ";", _PATH_ATTRIBUTES, "path")
        found.update(_attributes(query, "&", _QUERY_ATTRIBUTES, "query"))
        return cls._from_attributes(found)

    @classmethod
    def _from_attributes(cls, found: dict[str, bytes]) -> Pkcs11Uri:
        text = {name: _text(name, value) for name, value in found.items() if name != "id"}
        for name in ("token", "module-path"):
            if not text.get(name):
                raise ConfigError(f"PKCS#11 URI has no '{name}' attribute")
        if "object" not in found and "id" not in found:
            raise ConfigError("PKCS#11 URI has no 'object' attribute (nor 'id') naming the key")
        if text.get("type", "private") != "private":
            raise ConfigError(
                "PKCS#11 URI attribute 'type' names no private key",
                expected="private",
                found=text["type"],
            )
        if "pin-value" in text and "pin-source" in text:
            raise ConfigError("PKCS#11 URI has both 'pin-value' and 'pin-source'; give one")
        if "pin-source" in text:
            _pin_file(text["pin-source"])
        return cls(
            module_path=text["module-path"],
            token=text["token"],
            object=text.get("object"),
            id=found.get("id"),
            serial=text.get("serial"),
            manufacturer=text.get("manufacturer"),
            model=text.get("model"),
            pin_value=text.get("pin-value"),
            pin_source=text.get("pin-source"),
        )

    @property
    def key_description(self) -> str:
        """A human-readable name of the key (never includes the PIN)."""
        parts = [f"token={self.token!r}"]
        if self.object is not None:
            parts.append(f"object={self.object!r}")
        if self.id is not None:
            parts.append(f"id={self.id.hex()}")
        return " ".join(parts)


def _attributes(
    part: str, separator: str, allowed: tuple[str, ...], where: str
) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    if not part:
        return found
    for item in part.split(separator):
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise ConfigError(
                f"malformed PKCS#11 URI {where} attribute", expected="name=value", found=repr(item)
            )
        if name not in allowed:
            raise ConfigError(
                f"unknown PKCS#11 URI {where} attribute '{name}'",
                expected="one of " + ", ".join(allowed),
                found=repr(name),
            )
        if name in found:
            raise ConfigError(f"PKCS#11 URI attribute '{name}' is given twice")
        found[name] = _decode(name, value)
    return found


def _decode(name: str, value: str) -> bytes:
    if _BAD_ESCAPE.search(value):
        raise ConfigError(
            f"PKCS#11 URI attribute '{name}' has a bad percent escape", found=repr(value)
        )
    return unquote_to_bytes(value)


def _text(name: str, value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"PKCS#11 URI attribute '{name}' is not UTF-8 text") from None


def _read_pin(parsed: Pkcs11Uri, passphrase: PassphraseSource | None) -> str:
    if parsed.pin_value is not None:
        return parsed.pin_value
    if parsed.pin_source is not None:
        return _pin_from_source(parsed.pin_source)
    secret = passphrase() if passphrase is not None else None
    if secret is None:
        raise ConfigError(
            f"no PIN for PKCS#11 token {parsed.token!r}",
            expected="'pin-value' or 'pin-source' in the URI, or a passphrase",
        )
    return _text("pin", secret)


def _pin_file(source: str) -> Path:
    path = source.removeprefix("file://") if source.startswith("file://") else source[5:]
    if not source.startswith("file:") or not path:
        raise ConfigError(
            "unsupported PKCS#11 URI attribute 'pin-source'",
            expected="a file: URI naming a file",
            found=repr(source),
        )
    return Path(path)


def _pin_from_source(source: str) -> str:
    path = _pin_file(source)
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read 'pin-source' {path}: {exc.strerror}") from exc
    if not lines or not lines[0]:
        raise ConfigError(f"'pin-source' {path} has no PIN on its first line")
    return _text("pin-source", lines[0])


class Pkcs11Signer:
    """A :class:`~lacre.keys.Signer` whose ECDSA private key stays in a PKCS#11 token.

    One logged-in session is kept open and shared by all threads (signing is
    serialized by a lock). Use :meth:`open` to load one from a URI.
    """

    def __init__(
        self, session: Any, private_key: Any, public_key: PublicKey, *, description: str
    ) -> None:
        """Wrap an open session, the token's private key object and its public key."""
        self._session, self._key, self._public = session, private_key, public_key
        self.description = description
        hash_name = public_key.algorithm.hash_name
        if public_key.algorithm not in _ALGORITHMS or hash_name is None:
            raise ConfigError(
                f"PKCS#11 key {description} has an unsupported type",
                expected=_SUPPORTED,
                found=public_key.algorithm.value,
            )
        self._hash_name = hash_name
        self._lock = threading.Lock()

    @classmethod
    def open(cls, uri: str, passphrase: PassphraseSource | None = None) -> Pkcs11Signer:
        """Load the module, log in to the token and find the key ``uri`` names."""
        parsed = Pkcs11Uri.parse(uri)
        token = _find_token(_load_module(parsed.module_path), parsed)
        session = _login(token, _read_pin(parsed, passphrase), parsed)
        try:
            private_key = _find_key(session, ObjectClass.PRIVATE_KEY, parsed)
            public_key = _public_key(session, private_key, parsed)
        except BaseException:
            session.close()
            raise
        return cls(session, private_key, public_key, description=parsed.key_description)

    @property
    def public_key(self) -> PublicKey:
        """The key that verifies this signer's signatures."""
        return self._public

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: a DER ECDSA signature over its SHA-256 (P-256) or SHA-384 (P-384)."""
        digest = hashlib.new(self._hash_name, data).digest()
        try:
            with self._lock:
                raw: bytes = self._key.sign(digest, mechanism=Mechanism.ECDSA)
        except pkcs11.PKCS11Error as exc:
            raise ConfigError(
                f"PKCS#11 key {self.description} failed to sign: {_describe(exc)}"
            ) from exc
        half = len(raw) // 2
        if not raw or len(raw) % 2:
            raise ConfigError(f"PKCS#11 key {self.description} returned a malformed signature")
        r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        return utils.encode_dss_signature(r, s)

    def close(self) -> None:
        """Close the session; the signer cannot sign afterwards."""
        with self._lock:
            self._session.close()

    def __enter__(self) -> Pkcs11Signer:
        """Use the signer as a context manager that closes its session."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the session."""
        self.close()


def _describe(exc: BaseException) -> str:
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _load_module(module_path: str) -> Any:
    if not Path(module_path).is_file():
        raise ConfigError(
            "PKCS#11 URI attribute 'module-path' names no file", found=repr(module_path)
        )
    try:
        return pkcs11.lib(module_path)
    except pkcs11.PKCS11Error as exc:
        raise ConfigError(
            f"PKCS#11 URI attribute 'module-path': cannot load {module_path}: {_describe(exc)}"
        ) from exc


def _find_token(module: Any, parsed: Pkcs11Uri) -> Any:
    try:
        tokens = [token for token in module.get_tokens() if _token_matches(token, parsed)]
    except pkcs11.PKCS11Error as exc:
        raise ConfigError(f"cannot list PKCS#11 tokens: {_describe(exc)}") from exc
    if len(tokens) != 1:
        labels = sorted(token.label for token in module.get_tokens())
        raise ConfigError(
            f"PKCS#11 URI attribute 'token': {len(tokens)} tokens match {parsed.token!r}",
            expected="exactly one",
            found="tokens " + (", ".join(repr(label) for label in labels) or "none"),
        )
    return tokens[0]


def _token_matches(token: Any, parsed: Pkcs11Uri) -> bool:
    wanted = {
        "label": parsed.token,
        "serial": parsed.serial,
        "manufacturer_id": parsed.manufacturer,
        "model": parsed.model,
    }
    for field, value in wanted.items():
        if value is None:
            continue
        actual = getattr(token, field)
        if isinstance(actual, bytes):
            actual = actual.decode("utf-8", "replace")
        if str(actual).rstrip() != value:
            return False
    return True


def _login(token: Any, pin: str, parsed: Pkcs11Uri) -> Any:
    try:
        return token.open(user_pin=pin)
    except pkcs11.UserAlreadyLoggedIn:
        return _open_without_login(token, parsed)
    except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
        raise ConfigError(f"wrong PIN for PKCS#11 token {parsed.token!r}") from exc
    except pkcs11.PKCS11Error as exc:
        raise ConfigError(
            f"cannot log in to PKCS#11 token {parsed.token!r}: {_describe(exc)}"
        ) from exc


def _open_without_login(token: Any, parsed: Pkcs11Uri) -> Any:
    try:
        return token.open()
    except pkcs11.PKCS11Error as exc:
        raise ConfigError(
            f"cannot open a session on PKCS#11 token {parsed.token!r}: {_describe(exc)}"
        ) from exc


def _find_key(session: Any, object_class: ObjectClass, parsed: Pkcs11Uri) -> Any:
    kind = "private" if object_class is ObjectClass.PRIVATE_KEY else "public"
    template: dict[Attribute, Any] = {Attribute.CLASS: object_class}
    if parsed.object is not None:
        template[Attribute.LABEL] = parsed.object
    if parsed.id is not None:
        template[Attribute.ID] = parsed.id
    try:
        found = list(session.get_objects(template))  # exhausted: ends the search operation
    except pkcs11.PKCS11Error as exc:
        raise ConfigError(f"cannot search PKCS#11 token for a key: {_describe(exc)}") from exc
    if not found:
        raise ConfigError(f"PKCS#11 URI attribute 'object': no {kind} key {parsed.key_description}")
    if len(found) > 1:
        raise ConfigError(
            f"PKCS#11 URI attribute 'object': several {kind} keys match "
            f"{parsed.key_description}; add an 'id'"
        )
    return found[0]


def _public_key(session: Any, private_key: Any, parsed: Pkcs11Uri) -> PublicKey:
    if private_key.key_type != KeyType.EC:
        raise ConfigError(
            f"PKCS#11 key {parsed.key_description} has an unsupported type",
            expected=_SUPPORTED,
            found=getattr(private_key.key_type, "name", str(private_key.key_type)),
        )
    public = _find_key(session, ObjectClass.PUBLIC_KEY, parsed)
    try:
        params, point = public[Attribute.EC_PARAMS], public[Attribute.EC_POINT]
    except pkcs11.PKCS11Error as exc:
        raise ConfigError(f"cannot read PKCS#11 public key: {_describe(exc)}") from exc
    return ec_public_key(bytes(params), bytes(point), parsed.key_description)


def ec_public_key(params: bytes, point: bytes, what: str = "PKCS#11 key") -> PublicKey:
    """Build a public key from ``CKA_EC_PARAMS`` (named-curve OID) and ``CKA_EC_POINT``.

    The point may be DER-wrapped in an OCTET STRING (as PKCS#11 specifies) or raw.
    """
    if params not in _CURVES:
        raise ConfigError(f"{what} is on an unsupported curve", expected=_SUPPORTED)
    curve = _CURVES[params][0]
    raw = _unwrap_point(point, (curve.key_size + 7) // 8)
    try:
        return PublicKey(ec.EllipticCurvePublicKey.from_encoded_point(curve, raw))
    except ValueError as exc:
        raise ConfigError(f"{what} has an invalid EC point: {exc}") from exc


def _unwrap_point(point: bytes, coordinate: int) -> bytes:
    if len(point) == 2 * coordinate + 1 and point[0] == 0x04:
        return point
    if len(point) < 2 or point[0] != 0x04:
        return point
    length, offset = point[1], 2
    if length & 0x80:
        size = length & 0x7F
        length, offset = int.from_bytes(point[2 : 2 + size], "big"), 2 + size
    return point[offset : offset + length] if len(point) == offset + length else point
