"""The CT log: chains checked, precertificates logged, SCTs and tree heads verifiable."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.ca.ctlog import CtLog, tree_head_signed_data
from lacre.errors import ConfigError, InvalidInput
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.ct import (
    PRECERT_ENTRY,
    X509_ENTRY,
    PrecertEntry,
    parse_timestamped_entry_leaf,
    verify_sct,
)
from lacre.x509.fulcio import FulcioClaims
from lacre.x509.profile import CaChain, LeafProfile, ca_chain, encode_sct_list
from tests.unit.x509.damaged import with_invalid_version

NOW = dt.datetime.now(dt.UTC)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _profile(email: str = "alice@example.com") -> LeafProfile:
    return LeafProfile(
        subject_alt_name=x509.RFC822Name(email),
        public_key=generate_signer().public_key,
        fulcio_extensions=FulcioClaims(issuer="https://issuer.example"),
        not_before=NOW,
    )


def test_precertificate_is_logged_and_its_sct_embeds_into_the_final_certificate(
    ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner], ct_signer: SoftwareSigner
) -> None:
    chain, signer = ca
    profile = _profile()
    precert = profile.precertificate(chain.intermediate, signer)
    sct = asyncio.run(
        ctlog.add_pre_chain([_der(precert), _der(chain.intermediate), _der(chain.root)])
    )
    entry = PrecertEntry(
        hashlib.sha256(_spki(chain.intermediate)).digest(), profile.tbs_for_sct(chain.intermediate)
    )
    verify_sct(sct, ct_signer.public_key, entry)
    final = profile.certificate(chain.intermediate, signer, encode_sct_list([sct.encode()]))
    embedded = final.extensions.get_extension_for_class(
        x509.PrecertificateSignedCertificateTimestamps
    )
    (parsed,) = embedded.value
    assert (
        parsed.log_id == ctlog.log_id
        and parsed.entry_type == x509.certificate_transparency.LogEntryType.PRE_CERTIFICATE
    )
    verify_sct(
        sct,
        ct_signer.public_key,
        PrecertEntry(entry.issuer_key_hash, final.tbs_precertificate_bytes),
    )
    (leaf,) = ctlog.entries(0, 0)
    logged = parse_timestamped_entry_leaf(leaf)
    assert logged.timestamp == sct.timestamp and logged.entry.entry_type == PRECERT_ENTRY


def test_chains_may_stop_below_the_root(ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner]) -> None:
    chain, signer = ca
    precert = _profile().precertificate(chain.intermediate, signer)
    asyncio.run(ctlog.add_pre_chain([_der(precert), _der(chain.intermediate)]))
    assert ctlog.log.reader.state().size == 1


def test_final_certificates_go_through_add_chain(
    ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner]
) -> None:
    chain, signer = ca
    profile = _profile()
    precert = profile.precertificate(chain.intermediate, signer)
    sct = asyncio.run(ctlog.add_pre_chain([_der(precert), _der(chain.intermediate)]))
    final = profile.certificate(chain.intermediate, signer, encode_sct_list([sct.encode()]))
    asyncio.run(ctlog.add_chain([_der(final), _der(chain.intermediate)]))
    assert parse_timestamped_entry_leaf(ctlog.entries(1, 1)[0]).entry.entry_type == X509_ENTRY
    with pytest.raises(InvalidInput, match="add-chain: the first certificate is a precertificate"):
        asyncio.run(ctlog.add_chain([_der(precert), _der(chain.intermediate)]))
    with pytest.raises(InvalidInput, match="no critical poison"):
        asyncio.run(ctlog.add_pre_chain([_der(final), _der(chain.intermediate)]))


def test_bad_chains_are_refused_and_nothing_is_logged(
    ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner]
) -> None:
    chain, signer = ca
    precert = _der(_profile().precertificate(chain.intermediate, signer))
    other = generate_signer()
    stranger = ca_chain(
        root_signer=generate_signer(),
        intermediate_signer=other,
        organization="elsewhere",
        not_before=NOW - dt.timedelta(hours=1),
    )
    other_precert = _der(_profile().precertificate(stranger.intermediate, other))
    cases = [
        ([precert], "chain length"),
        ([precert] * 11, "chain length"),
        ([b"garbage", _der(chain.intermediate)], r"chain\[0\] is not a DER certificate"),
        (
            [with_invalid_version(precert), _der(chain.intermediate)],
            r"chain\[0\] is not a DER certificate: 106 is not a valid X509 version",
        ),
        ([precert, _der(chain.root)], r"chain\[0\] is not issued by chain\[1\]"),
        (
            [other_precert, _der(stranger.intermediate), _der(stranger.root)],
            "does not end at a root",
        ),
    ]
    for submitted, message in cases:
        with pytest.raises(InvalidInput, match=message):
            asyncio.run(ctlog.add_pre_chain(submitted))
    assert ctlog.log.reader.state().size == 0


def test_signed_tree_head_and_proofs_verify(
    ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner], ct_signer: SoftwareSigner
) -> None:
    chain, signer = ca
    for n in range(5):
        precert = _profile(f"user{n}@example.com").precertificate(chain.intermediate, signer)
        asyncio.run(ctlog.add_pre_chain([_der(precert), _der(chain.intermediate)]))
    sth = ctlog.signed_tree_head()
    leaves = ctlog.entries(0, 100)
    assert sth.tree_size == len(leaves) == 5
    assert sth.root_hash == merkle.root_of([merkle.leaf_hash(leaf) for leaf in leaves])
    assert sth.signature[:2] == bytes([4, 3])
    ct_signer.public_key.verify(
        sth.signature[4:], tree_head_signed_data(sth.timestamp, 5, sth.root_hash)
    )
    index, path = ctlog.proof_by_hash(merkle.leaf_hash(leaves[3]), 5)
    merkle.verify_inclusion(merkle.leaf_hash(leaves[3]), index, 5, path, sth.root_hash)


def test_only_p256_keys_sign_for_the_ct_log(
    tmp_path: Path, ca: tuple[CaChain, SoftwareSigner]
) -> None:
    store = SqliteStore(tmp_path / "ct.db")
    signer = generate_signer(KeyAlgorithm.ED25519)
    log = TransparencyLog.open(store, name="ct", origin="ct.example", signer=signer)
    try:
        with pytest.raises(ConfigError, match="CT log key type"):
            CtLog(log, signer, [ca[0].root])
    finally:
        log.close()


def test_a_remembered_issuing_chain_still_checks_each_precertificate(
    ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner]
) -> None:
    chain, signer = ca
    issuing = [_der(chain.intermediate), _der(chain.root)]
    good = _profile().precertificate(chain.intermediate, signer)
    asyncio.run(ctlog.add_pre_chain([_der(good), *issuing]))
    twin_signer = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
    twin = ca_chain(  # same names as the real chain, other keys
        root_signer=generate_signer(KeyAlgorithm.ECDSA_P384_SHA384),
        intermediate_signer=twin_signer,
        organization="lacre test",
        not_before=NOW - dt.timedelta(hours=1),
    )
    forged = _profile().precertificate(twin.intermediate, twin_signer)
    bad_signature = bytearray(_der(good))
    bad_signature[-3] ^= 0x55
    for submitted in (_der(forged), bytes(bad_signature)):
        with pytest.raises(InvalidInput, match=r"chain\[0\] is not (issued by chain\[1\]|a DER)"):
            asyncio.run(ctlog.add_pre_chain([submitted, *issuing]))
    with pytest.raises(InvalidInput, match=r"chain\[1\] is not issued by chain\[2\]"):
        asyncio.run(ctlog.add_pre_chain([_der(good), _der(chain.intermediate), _der(good)]))
    assert ctlog.log.reader.state().size == 1


def test_the_ca_may_log_the_tbs_of_a_certificate_it_has_not_signed_yet(
    ctlog: CtLog, ca: tuple[CaChain, SoftwareSigner], ct_signer: SoftwareSigner
) -> None:
    chain, signer = ca
    profile = _profile()
    tbs = profile.tbs_for_sct(chain.intermediate)
    sct = asyncio.run(ctlog.add_issued_tbs(tbs, chain.intermediate))
    issuer_hash = hashlib.sha256(_spki(chain.intermediate)).digest()
    verify_sct(sct, ct_signer.public_key, PrecertEntry(issuer_hash, tbs))
    final = profile.certificate(chain.intermediate, signer, encode_sct_list([sct.encode()]))
    assert final.tbs_precertificate_bytes == tbs
    # the entry is the one a signed precertificate of the same certificate would give
    precert = profile.precertificate(chain.intermediate, signer)
    again = asyncio.run(ctlog.add_pre_chain([_der(precert), _der(chain.intermediate)]))
    assert ctlog.log.reader.state().size == 2
    leaves = ctlog.entries(0, 1)
    assert leaves[0][10:] == leaves[1][10:]  # same entry; only the timestamps may differ
    verify_sct(again, ct_signer.public_key, PrecertEntry(issuer_hash, tbs))
