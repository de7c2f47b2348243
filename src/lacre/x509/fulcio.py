"""The Fulcio OID arc ``1.3.6.1.4.1.57264.1``: constants, extension codecs and a claims reader.

Two encodings live on the arc. ``.1`` to ``.6`` (deprecated) carry the **raw UTF-8
bytes** of the value as the extension's OCTET STRING content; ``.8`` to ``.24`` carry
a DER ``UTF8String``. ``.7`` never appears as an extension: it is the ``otherName``
type of a username Subject Alternative Name. Every extension is non-critical.
"""

from __future__ import annotations

from typing import Protocol

from cryptography import x509

from lacre import der
from lacre.errors import InvalidInput
from lacre.record import field_names, record
from lacre.x509.certificates import FULCIO_USERNAME_OID, ExtensionMap, extension_map

_ARC = "1.3.6.1.4.1.57264.1"

ISSUER_OID = x509.ObjectIdentifier(f"{_ARC}.1")
"""``.1`` OIDC issuer, deprecated raw encoding (sigstore-python reads only this one)."""
GITHUB_WORKFLOW_TRIGGER_OID = x509.ObjectIdentifier(f"{_ARC}.2")
"""``.2`` GitHub workflow trigger (deprecated, raw)."""
GITHUB_WORKFLOW_SHA_OID = x509.ObjectIdentifier(f"{_ARC}.3")
"""``.3`` GitHub workflow commit SHA (deprecated, raw)."""
GITHUB_WORKFLOW_NAME_OID = x509.ObjectIdentifier(f"{_ARC}.4")
"""``.4`` GitHub workflow name (deprecated, raw)."""
GITHUB_WORKFLOW_REPOSITORY_OID = x509.ObjectIdentifier(f"{_ARC}.5")
"""``.5`` GitHub workflow repository (deprecated, raw)."""
GITHUB_WORKFLOW_REF_OID = x509.ObjectIdentifier(f"{_ARC}.6")
"""``.6`` GitHub workflow ref (deprecated, raw)."""
USERNAME_OID = FULCIO_USERNAME_OID
"""``.7`` ``otherName`` type of a username SAN (``"user!domain"``, DER ``UTF8String``)."""
ISSUER_V2_OID = x509.ObjectIdentifier(f"{_ARC}.8")
"""``.8`` OIDC issuer (DER ``UTF8String``); same value as ``.1``."""
BUILD_SIGNER_URI_OID = x509.ObjectIdentifier(f"{_ARC}.9")
"""``.9`` build signer URI."""
BUILD_SIGNER_DIGEST_OID = x509.ObjectIdentifier(f"{_ARC}.10")
"""``.10`` build signer digest."""
RUNNER_ENVIRONMENT_OID = x509.ObjectIdentifier(f"{_ARC}.11")
"""``.11`` runner environment."""
SOURCE_REPOSITORY_URI_OID = x509.ObjectIdentifier(f"{_ARC}.12")
"""``.12`` source repository URI."""
SOURCE_REPOSITORY_DIGEST_OID = x509.ObjectIdentifier(f"{_ARC}.13")
"""``.13`` source repository digest."""
SOURCE_REPOSITORY_REF_OID = x509.ObjectIdentifier(f"{_ARC}.14")
"""``.14`` source repository ref."""
SOURCE_REPOSITORY_IDENTIFIER_OID = x509.ObjectIdentifier(f"{_ARC}.15")
"""``.15`` source repository identifier."""
SOURCE_REPOSITORY_OWNER_URI_OID = x509.ObjectIdentifier(f"{_ARC}.16")
"""``.16`` source repository owner URI."""
SOURCE_REPOSITORY_OWNER_IDENTIFIER_OID = x509.ObjectIdentifier(f"{_ARC}.17")
"""``.17`` source repository owner identifier."""
BUILD_CONFIG_URI_OID = x509.ObjectIdentifier(f"{_ARC}.18")
"""``.18`` build config URI."""
BUILD_CONFIG_DIGEST_OID = x509.ObjectIdentifier(f"{_ARC}.19")
"""``.19`` build config digest."""
BUILD_TRIGGER_OID = x509.ObjectIdentifier(f"{_ARC}.20")
"""``.20`` build trigger."""
RUN_INVOCATION_URI_OID = x509.ObjectIdentifier(f"{_ARC}.21")
"""``.21`` run invocation URI."""
SOURCE_REPOSITORY_VISIBILITY_OID = x509.ObjectIdentifier(f"{_ARC}.22")
"""``.22`` source repository visibility at signing."""
DEPLOYMENT_ENVIRONMENT_OID = x509.ObjectIdentifier(f"{_ARC}.23")
"""``.23`` deployment environment."""
TOKEN_SUBJECT_OID = x509.ObjectIdentifier(f"{_ARC}.24")
"""``.24`` the token's raw ``sub`` claim."""

MAX_VALUE_BYTES = 4096
"""Largest UTF-8 value accepted on the arc, in either direction."""


def encode_raw(value: str) -> bytes:
    """Encode ``value`` for ``.1`` to ``.6``: its raw UTF-8 bytes."""
    return _checked_utf8(value)


def encode_utf8string(value: str) -> bytes:
    """Encode ``value`` for ``.8`` to ``.24`` (and the ``.7`` otherName): a DER ``UTF8String``."""
    return der.encode(der.UTF8STRING, _checked_utf8(value))


def decode_raw(data: bytes, *, oid: x509.ObjectIdentifier = ISSUER_OID) -> str:
    """Decode a raw ``.1`` to ``.6`` value; ``oid`` only names the field in errors."""
    _check_size(len(data), oid)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"Fulcio extension {oid.dotted_string} is not valid UTF-8",
            expected="raw UTF-8 bytes",
            found=data[:32].hex(),
        ) from None


def decode_utf8string(data: bytes, *, oid: x509.ObjectIdentifier = ISSUER_V2_OID) -> str:
    """Decode a strict DER ``UTF8String`` value; ``oid`` only names the field in errors."""
    _check_size(len(data), oid)
    try:
        return der.utf8_string(data, "the value")
    except InvalidInput as exc:
        raise InvalidInput(
            f"Fulcio extension {oid.dotted_string} is not a DER UTF8String",
            expected="tag 0x0c, minimal length, valid UTF-8, no trailing bytes",
            found=str(exc),
        ) from None


def username_san(username: str) -> x509.OtherName:
    """Build the ``otherName`` SAN Fulcio uses for username identities (``"user!domain"``)."""
    return x509.OtherName(USERNAME_OID, encode_utf8string(username))


def read_username(name: x509.OtherName) -> str:
    """Read the username out of a Fulcio ``otherName`` SAN; raise on another type or encoding."""
    if name.type_id != USERNAME_OID:
        raise InvalidInput(
            "otherName SAN is not a Fulcio username",
            expected=USERNAME_OID.dotted_string,
            found=name.type_id.dotted_string,
        )
    return decode_utf8string(name.value, oid=USERNAME_OID)


@record(kw_only=True)
class FulcioClaims:
    """The claims a Fulcio certificate carries on the OID arc; None means absent.

    ``issuer`` is written twice, as ``.1`` (raw) and ``.8`` (DER); the deprecated
    ``github_workflow_*`` fields only as raw ``.2`` to ``.6``; the rest as DER ``.9`` to ``.24``.
    """

    issuer: str
    github_workflow_trigger: str | None = None
    github_workflow_sha: str | None = None
    github_workflow_name: str | None = None
    github_workflow_repository: str | None = None
    github_workflow_ref: str | None = None
    build_signer_uri: str | None = None
    build_signer_digest: str | None = None
    runner_environment: str | None = None
    source_repository_uri: str | None = None
    source_repository_digest: str | None = None
    source_repository_ref: str | None = None
    source_repository_identifier: str | None = None
    source_repository_owner_uri: str | None = None
    source_repository_owner_identifier: str | None = None
    build_config_uri: str | None = None
    build_config_digest: str | None = None
    build_trigger: str | None = None
    run_invocation_uri: str | None = None
    source_repository_visibility_at_signing: str | None = None
    deployment_environment: str | None = None
    token_subject: str | None = None

    def __post_init__(self) -> None:
        """Refuse an empty issuer and values the arc cannot carry."""
        if not self.issuer:
            raise InvalidInput("Fulcio claims need an issuer", expected="a non-empty string")
        for name in field_names(self):
            value = getattr(self, name)
            if value is not None:
                _checked_utf8(value)

    def extensions(self) -> list[x509.Extension[x509.UnrecognizedExtension]]:
        """Return the non-critical extensions in arc order (.1, .2 to .6, .8, .9 to .24)."""
        result = [_extension(ISSUER_OID, encode_raw(self.issuer))]
        result += [
            _extension(oid, encode_raw(value))
            for oid, name in _RAW_FIELDS
            if (value := getattr(self, name)) is not None
        ]
        result.append(_extension(ISSUER_V2_OID, encode_utf8string(self.issuer)))
        result += [
            _extension(oid, encode_utf8string(value))
            for oid, name in _DER_FIELDS
            if (value := getattr(self, name)) is not None
        ]
        return result

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> FulcioClaims:
        """Read the claims of ``cert``; raise InvalidInput on bad encodings or no issuer."""
        extensions = extension_map(cert)
        raw = {oid: _raw_value(extensions, oid, decode_raw) for oid in _ALL_RAW}
        der = {oid: _raw_value(extensions, oid, decode_utf8string) for oid in _ALL_DER}
        issuer = _issuer(raw[ISSUER_OID], der[ISSUER_V2_OID])
        values = {name: raw[oid] for oid, name in _RAW_FIELDS}
        values |= {name: der[oid] for oid, name in _DER_FIELDS}
        return cls(issuer=issuer, **values)


_RAW_FIELDS: tuple[tuple[x509.ObjectIdentifier, str], ...] = (
    (GITHUB_WORKFLOW_TRIGGER_OID, "github_workflow_trigger"),
    (GITHUB_WORKFLOW_SHA_OID, "github_workflow_sha"),
    (GITHUB_WORKFLOW_NAME_OID, "github_workflow_name"),
    (GITHUB_WORKFLOW_REPOSITORY_OID, "github_workflow_repository"),
    (GITHUB_WORKFLOW_REF_OID, "github_workflow_ref"),
)
_DER_FIELDS: tuple[tuple[x509.ObjectIdentifier, str], ...] = (
    (BUILD_SIGNER_URI_OID, "build_signer_uri"),
    (BUILD_SIGNER_DIGEST_OID, "build_signer_digest"),
    (RUNNER_ENVIRONMENT_OID, "runner_environment"),
    (SOURCE_REPOSITORY_URI_OID, "source_repository_uri"),
    (SOURCE_REPOSITORY_DIGEST_OID, "source_repository_digest"),
    (SOURCE_REPOSITORY_REF_OID, "source_repository_ref"),
    (SOURCE_REPOSITORY_IDENTIFIER_OID, "source_repository_identifier"),
    (SOURCE_REPOSITORY_OWNER_URI_OID, "source_repository_owner_uri"),
    (SOURCE_REPOSITORY_OWNER_IDENTIFIER_OID, "source_repository_owner_identifier"),
    (BUILD_CONFIG_URI_OID, "build_config_uri"),
    (BUILD_CONFIG_DIGEST_OID, "build_config_digest"),
    (BUILD_TRIGGER_OID, "build_trigger"),
    (RUN_INVOCATION_URI_OID, "run_invocation_uri"),
    (SOURCE_REPOSITORY_VISIBILITY_OID, "source_repository_visibility_at_signing"),
    (DEPLOYMENT_ENVIRONMENT_OID, "deployment_environment"),
    (TOKEN_SUBJECT_OID, "token_subject"),
)
_ALL_RAW = (ISSUER_OID, *(oid for oid, _ in _RAW_FIELDS))
_ALL_DER = (ISSUER_V2_OID, *(oid for oid, _ in _DER_FIELDS))


def read_issuer(cert: x509.Certificate) -> str:
    """The OIDC issuer of ``cert``: ``.8`` if present, else ``.1``; the two must agree.

    Only the issuer is decoded (the other claims may be absent or unread);
    :class:`InvalidInput` on a bad encoding or no issuer.
    """
    extensions = extension_map(cert)
    raw = _raw_value(extensions, ISSUER_OID, decode_raw)
    return _issuer(raw, _raw_value(extensions, ISSUER_V2_OID, decode_utf8string))


def _checked_utf8(value: str) -> bytes:
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("Fulcio claim is not encodable as UTF-8", found=repr(value)) from None
    _check_size(len(data), None)
    return data


def _check_size(size: int, oid: x509.ObjectIdentifier | None) -> None:
    if size > MAX_VALUE_BYTES:
        where = f"Fulcio extension {oid.dotted_string}" if oid else "Fulcio claim"
        raise InvalidInput(
            f"{where} is too large", expected=f"at most {MAX_VALUE_BYTES} bytes", found=size
        )


def _extension(
    oid: x509.ObjectIdentifier, value: bytes
) -> x509.Extension[x509.UnrecognizedExtension]:
    return x509.Extension(oid, False, x509.UnrecognizedExtension(oid, value))


def _raw_value(
    extensions: ExtensionMap, oid: x509.ObjectIdentifier, decode: _Decoder
) -> str | None:
    extension = extensions.get(oid)
    if extension is None:
        return None
    value = extension.value
    if not isinstance(value, x509.UnrecognizedExtension):  # pragma: no cover - cryptography
        raise InvalidInput(f"Fulcio extension {oid.dotted_string} has an unexpected type")
    return decode(value.value, oid=oid)


def _issuer(raw: str | None, der: str | None) -> str:
    if raw is not None and der is not None and raw != der:
        raise InvalidInput(
            "the two Fulcio issuer extensions disagree", expected=repr(raw), found=repr(der)
        )
    issuer = der if der is not None else raw
    if not issuer:
        raise InvalidInput(
            "certificate carries no Fulcio issuer",
            expected=f"extension {ISSUER_V2_OID.dotted_string} or {ISSUER_OID.dotted_string}",
        )
    return issuer


class _Decoder(Protocol):
    def __call__(self, data: bytes, *, oid: x509.ObjectIdentifier) -> str: ...
