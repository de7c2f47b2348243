"""The certificate authority signing with CA keys held in a SoftHSM2 token.

The intermediate's key (and in one chain the root's too) is generated inside the
token and never leaves it; certificates are issued through ``lacre.ca`` with a CT
log, then checked with cryptography's chain verifier and sigstore-python's SCT check.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import CTKeyring, Keyring
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore_models.common import v1 as common_v1

from lacre.ca.ctlog import CtLog
from lacre.ca.issuer import CertificateAuthority
from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, PublicKey, SoftwareSigner, generate_signer, load_signer
from lacre.keys.pkcs11 import Pkcs11Signer
from lacre.oidc import IssuerConfig, Principal
from lacre.oidc.principal import principal_for
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.x509.profile import CaChain, ca_chain
from tests.integration import softhsm
from tests.integration.softhsm import uri
from tests.unit.ca import conftest as ca_fixtures

TOKEN = "lacre-ca"
ISSUER = "https://accounts.example.com"
NOW = dt.datetime.now(dt.UTC)
ct_signer = ca_fixtures.ct_signer
"""The CT log's key (shared with the CA unit tests)."""
ctlog = ca_fixtures.ctlog
"""A CT log on SQLite accepting the ``ca`` root (shared with the CA unit tests)."""


@dataclass(frozen=True)
class HsmKeys:
    """Signers for the CA keys generated in the token."""

    p384: Pkcs11Signer
    p256_root: Pkcs11Signer
    p256: Pkcs11Signer


@pytest.fixture(scope="module")
def hsm_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HsmKeys]:
    """A fresh SoftHSM2 store with CA keys; fails (never skips) when SoftHSM2 is unusable.

    SoftHSM reads its configuration when loaded, so a module another test file of this
    process loaded with its own store is unloaded first, and ours is unloaded afterwards.
    """
    pkcs11.unload(softhsm.MODULE)
    try:
        softhsm.start_softhsm(tmp_path_factory.mktemp("softhsm-ca"), [TOKEN])
        softhsm.generate_ec_key(TOKEN, "ca-p384", b"\x01", softhsm.P384_PARAMS)
        softhsm.generate_ec_key(TOKEN, "root-p256", b"\x02", softhsm.P256_PARAMS)
        softhsm.generate_ec_key(TOKEN, "ca-p256", b"\x03", softhsm.P256_PARAMS)
    except (softhsm.SoftHsmUnavailable, pkcs11.PKCS11Error, OSError) as exc:
        pytest.fail(f"SoftHSM2 cannot be used for the CA tests: {exc!r}", pytrace=False)
    signers = [load_signer(uri(TOKEN, label)) for label in ("ca-p384", "root-p256", "ca-p256")]
    assert all(isinstance(signer, Pkcs11Signer) for signer in signers)
    yield HsmKeys(*signers)  # type: ignore[arg-type]
    for signer in signers:
        signer.close()  # type: ignore[attr-defined]
    pkcs11.unload(softhsm.MODULE)


@pytest.fixture
def ca(hsm_keys: HsmKeys) -> tuple[CaChain, Pkcs11Signer]:
    """A software P-384 root over an intermediate whose P-384 key is in the token."""
    chain = ca_chain(
        root_signer=generate_signer(KeyAlgorithm.ECDSA_P384_SHA384),
        intermediate_signer=hsm_keys.p384,
        organization="lacre hsm",
        not_before=NOW - dt.timedelta(hours=1),
    )
    return chain, hsm_keys.p384


def _principal(email: str = "alice@example.com") -> Principal:
    claims = {"iss": ISSUER, "sub": "1234", "email": email, "email_verified": True}
    return principal_for(IssuerConfig(url=ISSUER, type="email"), claims)  # type: ignore[arg-type]


def _ct_keyring(key: PublicKey) -> CTKeyring:
    details = common_v1.PublicKeyDetails.PKIX_ECDSA_P256_SHA_256
    public_key = common_v1.PublicKey(raw_bytes=base64.b64encode(key.spki_der), key_details=details)
    return CTKeyring(Keyring([public_key]))


def _verify_chain(leaf: x509.Certificate, chain: CaChain) -> list[x509.Certificate]:
    eku_allowed = (x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None)
    verifier = (
        PolicyBuilder()
        .store(Store([chain.root]))
        .time(dt.datetime.now(dt.UTC))
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca().may_be_present(*eku_allowed),
            ee_policy=ExtensionPolicy.webpki_defaults_ee().may_be_present(*eku_allowed),
        )
        .build_client_verifier()
    )
    return verifier.verify(leaf, [chain.intermediate]).chain


def _issue(ca: CertificateAuthority, email: str = "alice@example.com") -> list[x509.Certificate]:
    return asyncio.run(ca.issue(_principal(email), generate_signer().public_key)).certificates


def test_intermediate_key_in_the_token_issues_certificates_sigstore_python_accepts(
    ca: tuple[CaChain, Pkcs11Signer], ctlog: CtLog, ct_signer: SoftwareSigner
) -> None:
    chain, hsm_signer = ca
    authority = CertificateAuthority(chain, hsm_signer, ctlog)
    leaf, intermediate, root = _issue(authority)
    assert (intermediate, root) == (chain.intermediate, chain.root)
    assert PublicKey.wrap(intermediate.public_key()) == hsm_signer.public_key
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA384)
    leaf.verify_directly_issued_by(intermediate)
    assert _verify_chain(leaf, chain) == [leaf, intermediate, root]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]
    verify_sct(leaf, chain.certificates, _ct_keyring(ct_signer.public_key))
    with pytest.raises(SigstoreVerificationError):
        verify_sct(leaf, chain.certificates, _ct_keyring(generate_signer().public_key))
    assert ctlog.log.reader.state().size == 1


def test_many_issuances_each_sign_in_the_token(
    ca: tuple[CaChain, Pkcs11Signer], ctlog: CtLog, ct_signer: SoftwareSigner
) -> None:
    chain, hsm_signer = ca
    authority = CertificateAuthority(chain, hsm_signer, ctlog)
    leaves = [_issue(authority, f"user{n}@example.com")[0] for n in range(20)]
    assert len({leaf.serial_number for leaf in leaves}) == 20
    for leaf in leaves:
        assert _verify_chain(leaf, chain)[0] == leaf
        verify_sct(leaf, chain.certificates, _ct_keyring(ct_signer.public_key))
    assert ctlog.log.reader.state().size == 20


def test_root_and_intermediate_both_in_the_token(hsm_keys: HsmKeys, tmp_path: Path) -> None:
    chain = ca_chain(
        root_signer=hsm_keys.p256_root,
        intermediate_signer=hsm_keys.p256,
        organization="lacre hsm",
        not_before=NOW - dt.timedelta(hours=1),
    )
    chain.root.verify_directly_issued_by(chain.root)
    chain.intermediate.verify_directly_issued_by(chain.root)
    assert PublicKey.wrap(chain.root.public_key()) == hsm_keys.p256_root.public_key
    assert isinstance(chain.intermediate.signature_hash_algorithm, hashes.SHA256)
    ct_key = generate_signer()
    store = SqliteStore(tmp_path / "ct.db")
    log = TransparencyLog.open(store, name="ct", origin="ct.example", signer=ct_key)
    try:
        ct_log = CtLog(log, ct_key, [chain.root])
        leaf = _issue(CertificateAuthority(chain, hsm_keys.p256, ct_log))[0]
    finally:
        log.close()
        store.close()
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    assert _verify_chain(leaf, chain) == [leaf, chain.intermediate, chain.root]
    verify_sct(leaf, chain.certificates, _ct_keyring(ct_key.public_key))


def test_a_token_key_that_is_not_the_intermediate_is_refused(
    ca: tuple[CaChain, Pkcs11Signer], hsm_keys: HsmKeys, ctlog: CtLog
) -> None:
    chain, _ = ca
    with pytest.raises(ConfigError, match="does not match the issuer certificate"):
        CertificateAuthority(chain, hsm_keys.p256, ctlog)
    assert ctlog.log.reader.state().size == 0
