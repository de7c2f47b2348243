"""Fulcio OID arc: constants, both encodings, the username SAN and the claims reader."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore.verify import policy

from lacre.errors import InvalidInput
from lacre.x509 import fulcio
from lacre.x509.fulcio import FulcioClaims

KEY = ec.generate_private_key(ec.SECP256R1())

FULL = FulcioClaims(
    issuer="https://token.actions.githubusercontent.com",
    github_workflow_trigger="push",
    github_workflow_sha="a" * 40,
    github_workflow_name="release",
    github_workflow_repository="o/r",
    github_workflow_ref="refs/heads/main",
    build_signer_uri="https://github.com/o/r/.github/workflows/rel.yml@refs/heads/main",
    build_signer_digest="b" * 40,
    runner_environment="github-hosted",
    source_repository_uri="https://github.com/o/r",
    source_repository_digest="c" * 40,
    source_repository_ref="refs/heads/main",
    source_repository_identifier="123",
    source_repository_owner_uri="https://github.com/o",
    source_repository_owner_identifier="456",
    build_config_uri="https://github.com/o/r/.github/workflows/rel.yml@refs/heads/main",
    build_config_digest="d" * 40,
    build_trigger="push",
    run_invocation_uri="https://github.com/o/r/actions/runs/1/attempts/1",
    source_repository_visibility_at_signing="public",
    deployment_environment="prod",
    token_subject="repo:o/r:ref:refs/heads/main",
)


def cert_with(extensions: list[tuple[x509.ObjectIdentifier, bytes]]) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(minutes=10))
    )
    for oid, value in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, value), critical=False)
    return builder.sign(KEY, hashes.SHA256())


def claims_cert(claims: FulcioClaims) -> x509.Certificate:
    return cert_with([(ext.oid, ext.value.value) for ext in claims.extensions()])


def test_oid_constants_cover_the_arc() -> None:
    names = [
        "ISSUER",
        "GITHUB_WORKFLOW_TRIGGER",
        "GITHUB_WORKFLOW_SHA",
        "GITHUB_WORKFLOW_NAME",
        "GITHUB_WORKFLOW_REPOSITORY",
        "GITHUB_WORKFLOW_REF",
        "USERNAME",
        "ISSUER_V2",
        "BUILD_SIGNER_URI",
        "BUILD_SIGNER_DIGEST",
        "RUNNER_ENVIRONMENT",
        "SOURCE_REPOSITORY_URI",
        "SOURCE_REPOSITORY_DIGEST",
        "SOURCE_REPOSITORY_REF",
        "SOURCE_REPOSITORY_IDENTIFIER",
        "SOURCE_REPOSITORY_OWNER_URI",
        "SOURCE_REPOSITORY_OWNER_IDENTIFIER",
        "BUILD_CONFIG_URI",
        "BUILD_CONFIG_DIGEST",
        "BUILD_TRIGGER",
        "RUN_INVOCATION_URI",
        "SOURCE_REPOSITORY_VISIBILITY",
        "DEPLOYMENT_ENVIRONMENT",
        "TOKEN_SUBJECT",
    ]
    for index, name in enumerate(names, start=1):
        oid = getattr(fulcio, f"{name}_OID")
        assert oid.dotted_string == f"1.3.6.1.4.1.57264.1.{index}"


def test_encodings() -> None:
    assert fulcio.encode_raw("https://ïss") == "https://ïss".encode()
    assert fulcio.encode_utf8string("abc") == b"\x0c\x03abc"
    long = "x" * 200
    assert fulcio.encode_utf8string(long) == b"\x0c\x81\xc8" + long.encode()
    assert fulcio.decode_utf8string(b"\x0c\x81\xc8" + long.encode()) == long
    assert fulcio.decode_raw("é".encode()) == "é"


def test_extensions_order_criticality_and_encoding() -> None:
    extensions = FULL.extensions()
    assert [ext.oid.dotted_string.rsplit(".", 1)[1] for ext in extensions] == [
        str(n) for n in (1, 2, 3, 4, 5, 6, *range(8, 25))
    ]
    assert not any(ext.critical for ext in extensions)
    by_oid = {ext.oid: ext.value.value for ext in extensions}
    assert by_oid[fulcio.ISSUER_OID] == FULL.issuer.encode()
    assert (
        by_oid[fulcio.ISSUER_V2_OID] == b"\x0c" + bytes([len(FULL.issuer)]) + FULL.issuer.encode()
    )
    assert by_oid[fulcio.GITHUB_WORKFLOW_REF_OID] == b"refs/heads/main"
    assert by_oid[fulcio.TOKEN_SUBJECT_OID] == b"\x0c\x1crepo:o/r:ref:refs/heads/main"


def test_minimal_claims_emit_both_issuers_only() -> None:
    extensions = FulcioClaims(issuer="https://iss").extensions()
    assert [(e.oid, e.value.value) for e in extensions] == [
        (fulcio.ISSUER_OID, b"https://iss"),
        (fulcio.ISSUER_V2_OID, b"\x0c\x0bhttps://iss"),
    ]


def test_round_trip_through_a_certificate() -> None:
    assert FulcioClaims.from_certificate(claims_cert(FULL)) == FULL
    minimal = FulcioClaims(issuer="https://iss")
    assert FulcioClaims.from_certificate(claims_cert(minimal)) == minimal


def test_claims_are_frozen_and_keyword_only() -> None:
    with pytest.raises(AttributeError):
        FULL.issuer = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        FulcioClaims("https://iss")  # type: ignore[call-arg]


def test_issuer_from_either_extension() -> None:
    only_raw = cert_with([(fulcio.ISSUER_OID, b"https://a")])
    only_der = cert_with([(fulcio.ISSUER_V2_OID, b"\x0c\x09https://b")])
    assert FulcioClaims.from_certificate(only_raw).issuer == "https://a"
    assert FulcioClaims.from_certificate(only_der).issuer == "https://b"


def test_username_san() -> None:
    name = fulcio.username_san("alice!example.org")
    assert name.type_id.dotted_string == "1.3.6.1.4.1.57264.1.7"
    assert name.value == b"\x0c\x11alice!example.org"
    assert fulcio.read_username(name) == "alice!example.org"
    with pytest.raises(InvalidInput, match="not a Fulcio username"):
        fulcio.read_username(x509.OtherName(x509.ObjectIdentifier("1.2.3"), name.value))
    with pytest.raises(InvalidInput, match="not a DER UTF8String"):
        fulcio.read_username(x509.OtherName(fulcio.USERNAME_OID, b"alice!example.org"))


TOO_BIG = b"x" * (fulcio.MAX_VALUE_BYTES + 1)


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ([(fulcio.ISSUER_V2_OID, b"https://iss")], "57264.1.8 is not a DER UTF8String"),
        ([(fulcio.ISSUER_V2_OID, b"\x13\x03iss")], "not a DER UTF8String"),  # PrintableString
        ([(fulcio.ISSUER_V2_OID, b"\x0c\x05iss")], "not a DER UTF8String"),  # truncated
        ([(fulcio.ISSUER_V2_OID, b"\x0c\x02iss")], "not a DER UTF8String"),  # trailing byte
        ([(fulcio.ISSUER_V2_OID, b"\x0c\x81\x03iss")], "not a DER UTF8String"),  # not minimal
        ([(fulcio.ISSUER_V2_OID, b"\x0c\x02\xff\xfe")], "not a DER UTF8String"),  # bad UTF-8
        ([(fulcio.ISSUER_V2_OID, b"")], "not a DER UTF8String"),
        ([(fulcio.BUILD_TRIGGER_OID, b"push"), (fulcio.ISSUER_OID, b"i")], "57264.1.20 is not"),
        ([(fulcio.ISSUER_OID, b"\xc3\x28")], "57264.1.1 is not valid UTF-8"),
        ([(fulcio.GITHUB_WORKFLOW_SHA_OID, b"\xff")], "57264.1.3 is not valid UTF-8"),
        ([(fulcio.ISSUER_OID, TOO_BIG)], "57264.1.1 is too large"),
        ([(fulcio.ISSUER_V2_OID, b"\x0c\x82\x10\x01" + TOO_BIG)], "57264.1.8 is too large"),
        (
            [(fulcio.ISSUER_OID, b"https://a"), (fulcio.ISSUER_V2_OID, b"\x0c\x09https://b")],
            "the two Fulcio issuer extensions disagree",
        ),
        ([(fulcio.GITHUB_WORKFLOW_SHA_OID, b"abc")], "carries no Fulcio issuer"),
        ([], "carries no Fulcio issuer"),
    ],
)
def test_hostile_certificates_are_refused(
    extensions: list[tuple[x509.ObjectIdentifier, bytes]], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        FulcioClaims.from_certificate(cert_with(extensions))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"issuer": ""}, "need an issuer"),
        ({"issuer": "x" * (fulcio.MAX_VALUE_BYTES + 1)}, "too large"),
        ({"issuer": "i", "token_subject": "\ud800"}, "not encodable as UTF-8"),
    ],
)
def test_unencodable_claims_are_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        FulcioClaims(**kwargs)


def test_sigstore_python_reads_our_extensions() -> None:
    cert = claims_cert(FULL)
    policy.OIDCIssuer(FULL.issuer).verify(cert)
    policy.OIDCIssuerV2(FULL.issuer).verify(cert)
    policy.GitHubWorkflowSHA("a" * 40).verify(cert)
    policy.GitHubWorkflowRef("refs/heads/main").verify(cert)
    policy.OIDCSourceRepositoryURI("https://github.com/o/r").verify(cert)
    policy.OIDCRunInvocationURI(FULL.run_invocation_uri or "").verify(cert)
    policy.OIDCSourceRepositoryVisibility("public").verify(cert)
    with pytest.raises(SigstoreVerificationError):
        policy.OIDCIssuer("https://other").verify(cert)
    with pytest.raises(SigstoreVerificationError):
        policy.OIDCIssuerV2("https://other").verify(cert)
