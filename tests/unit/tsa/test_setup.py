"""Start-up of the TSA (keys and chain under the data directory) and its trusted-root entry."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from lacre.apps.server.tsa_setup import open_tsa, trust_entry
from lacre.errors import ConfigError, InvalidInput
from lacre.keys import generate_signer, save_signer
from lacre.models.timestamp_authority import TimestampAuthorityEntry, with_timestamp_authorities
from lacre.tsa import DEFAULT_POLICY, TimestampOptions
from tests.unit.tsa.support import make_request, make_tsa, tst_info


def test_dev_mode_creates_then_reuses(tmp_path: Path) -> None:
    first = open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=None)
    assert first is not None
    for name in ("keys/tsa.pem", "keys/tsa-root.pem", "tsa/leaf.pem", "tsa/root.pem"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "keys" / "tsa.pem").stat().st_mode & 0o077 == 0
    second = open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=None)
    assert second is not None
    assert second.authority.chain == first.authority.chain
    assert second.authority.signer.public_key == first.authority.signer.public_key
    assert second.authority.respond(make_request()).granted
    first.close()


def test_dev_mode_with_passphrase(tmp_path: Path) -> None:
    parts = open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=b"secret")
    assert parts is not None
    assert b"ENCRYPTED" in (tmp_path / "keys" / "tsa.pem").read_bytes()
    again = open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=b"secret")
    assert again is not None and again.authority.chain == parts.authority.chain


def test_dev_mode_with_a_given_key(tmp_path: Path) -> None:
    signer = generate_signer()
    save_signer(signer, tmp_path / "mine.pem")
    parts = open_tsa(
        data_dir=tmp_path, key_uri=f"file:{tmp_path / 'mine.pem'}", dev=True, passphrase=None
    )
    assert parts is not None
    assert parts.authority.chain.leaf.public_key() == signer.public_key.key
    assert not (tmp_path / "keys" / "tsa.pem").exists()


def test_dev_chain_for_another_key_is_refused(tmp_path: Path) -> None:
    open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=None)
    save_signer(generate_signer(), tmp_path / "other.pem")
    with pytest.raises(ConfigError, match="issued for another key"):
        open_tsa(
            data_dir=tmp_path, key_uri=f"file:{tmp_path / 'other.pem'}", dev=True, passphrase=None
        )


def test_no_tsa_outside_dev_mode_without_a_key(tmp_path: Path) -> None:
    assert open_tsa(data_dir=tmp_path, key_uri=None, dev=False, passphrase=None) is None
    assert not (tmp_path / "keys").exists()


def test_production_key_needs_a_chain(tmp_path: Path) -> None:
    save_signer(generate_signer(), tmp_path / "tsa.pem")
    with pytest.raises(ConfigError, match="needs its certificate chain"):
        open_tsa(
            data_dir=tmp_path, key_uri=f"file:{tmp_path / 'tsa.pem'}", dev=False, passphrase=None
        )


def test_production_key_with_its_chain(tmp_path: Path) -> None:
    tsa = make_tsa()
    assert hasattr(tsa.signer, "private_key")
    save_signer(tsa.signer, tmp_path / "tsa.pem")  # type: ignore[arg-type]
    (tmp_path / "chain.pem").write_bytes(tsa.chain.pem())
    options = TimestampOptions(policy="1.2.3.4")
    parts = open_tsa(
        data_dir=tmp_path,
        key_uri=f"file:{tmp_path / 'tsa.pem'}",
        dev=False,
        passphrase=None,
        chain_path=tmp_path / "chain.pem",
        options=options,
    )
    assert parts is not None
    assert parts.authority.chain == tsa.chain
    assert tst_info(parts.authority.respond(make_request()).der)["policy"] == "1.2.3.4"


def test_missing_chain_file(tmp_path: Path) -> None:
    save_signer(generate_signer(), tmp_path / "tsa.pem")
    with pytest.raises(ConfigError, match="cannot read"):
        open_tsa(
            data_dir=tmp_path,
            key_uri=f"file:{tmp_path / 'tsa.pem'}",
            dev=False,
            passphrase=None,
            chain_path=tmp_path / "missing.pem",
        )


def test_trust_entry(tmp_path: Path) -> None:
    parts = open_tsa(data_dir=tmp_path, key_uri=None, dev=True, passphrase=None)
    assert parts is not None
    entry = trust_entry(parts, "http://tsa.example.test/").to_json()
    chain = parts.authority.chain
    assert entry["uri"] == "http://tsa.example.test/api/v1/timestamp"
    assert entry["subject"] == {"organization": "lacre", "commonName": "lacre tsa"}
    raw = [base64.b64decode(cert["rawBytes"]) for cert in entry["certChain"]["certificates"]]
    assert [x509.load_der_x509_certificate(der) for der in raw] == [chain.leaf, chain.root]
    assert entry["validFor"] == {
        "start": chain.leaf.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    }
    assert parts.authority.options.policy == DEFAULT_POLICY


def entry(
    start: dt.datetime, chain: tuple[bytes, ...] = (b"leaf", b"root")
) -> TimestampAuthorityEntry:
    return TimestampAuthorityEntry(
        uri="http://tsa.test/api/v1/timestamp",
        organization="o",
        common_name="c",
        chain_der=chain,
        valid_from=start,
    )


def test_trusted_root_keeps_recorded_validity() -> None:
    early = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    later = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    document = with_timestamp_authorities({"mediaType": "m", "tlogs": [1]}, [entry(early)])
    assert document["tlogs"] == [1]
    assert document["timestampAuthorities"][0]["validFor"] == {"start": "2025-01-01T00:00:00Z"}
    rewritten = with_timestamp_authorities(
        document, [entry(later), entry(later, (b"new", b"root"))]
    )
    starts = [item["validFor"]["start"] for item in rewritten["timestampAuthorities"]]
    assert starts == ["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]


def test_trusted_root_tolerates_junk_entries() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    document = with_timestamp_authorities(
        {"timestampAuthorities": [3, {"certChain": 5}]}, [entry(start)]
    )
    assert len(document["timestampAuthorities"]) == 1


def test_entry_validity_end_and_checks() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    ended = TimestampAuthorityEntry(
        uri="u",
        organization="o",
        common_name="c",
        chain_der=(b"a", b"b"),
        valid_from=start,
        valid_until=start + dt.timedelta(days=1),
    )
    assert ended.to_json()["validFor"] == {
        "start": "2025-01-01T00:00:00Z",
        "end": "2025-01-02T00:00:00Z",
    }
    with pytest.raises(InvalidInput, match="at least 2"):
        entry(start, (b"leaf",))
    with pytest.raises(InvalidInput, match="timezone"):
        entry(dt.datetime(2025, 1, 1))
