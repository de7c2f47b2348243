from pathlib import Path

import pytest

from lacre.errors import ConfigError, InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, generate_signer, load_signer, save_signer
from lacre.keys.signer import SIGNING_ALGORITHMS


@pytest.mark.parametrize("algorithm", SIGNING_ALGORITHMS)
def test_signatures_verify_with_the_public_key(algorithm: KeyAlgorithm) -> None:
    signer = generate_signer(algorithm)
    signature = signer.sign(b"message")
    signer.public_key.verify(signature, b"message")
    assert signer.public_key.algorithm is algorithm
    with pytest.raises(VerificationError, match=algorithm.value):
        signer.public_key.verify(signature, b"messagE")


def test_public_key_round_trips_through_der_and_pem() -> None:
    key = generate_signer().public_key
    assert PublicKey.from_der(key.spki_der) == key
    assert PublicKey.from_pem(key.pem).spki_der == key.spki_der
    assert len(key.key_id) == 32


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x01", b"garbage" * 10])
def test_malformed_public_keys_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="not valid DER"):
        PublicKey.from_der(data)
    with pytest.raises(InvalidInput, match="not a valid PEM"):
        PublicKey.from_pem(data)


def test_raw_bytes_exist_only_for_ed25519() -> None:
    assert len(generate_signer(KeyAlgorithm.ED25519).public_key.raw_ed25519) == 32
    with pytest.raises(InvalidInput, match="only for Ed25519"):
        _ = generate_signer().public_key.raw_ed25519


def test_saved_key_loads_back_by_uri_and_path(tmp_path: Path) -> None:
    signer = generate_signer()
    path = tmp_path / "keys" / "log.pem"
    save_signer(signer, path)
    assert path.stat().st_mode & 0o777 == 0o600
    for uri in (f"file:{path}", f"file://{path}", str(path)):
        assert load_signer(uri).public_key == signer.public_key


def test_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    signer = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
    path = tmp_path / "enc.pem"
    save_signer(signer, path, passphrase=b"s3cret")
    assert b"ENCRYPTED" in path.read_bytes()
    assert load_signer(str(path), lambda: b"s3cret").public_key == signer.public_key
    with pytest.raises(InvalidInput, match="not a usable PEM private key"):
        load_signer(str(path), lambda: b"wrong")
    with pytest.raises(InvalidInput, match="not a usable PEM private key"):
        load_signer(str(path))


def test_a_bare_path_with_a_colon_names_a_file_when_one_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    signer = generate_signer()
    save_signer(signer, tmp_path / "team:release.pem")
    assert load_signer("team:release.pem").public_key == signer.public_key
    with pytest.raises(ConfigError, match=r"found team: \(no file named team:other.pem\)"):
        load_signer("team:other.pem")


def test_bad_key_uris_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unsupported key URI scheme"):
        load_signer("awskms:///alias/x")
    with pytest.raises(ConfigError, match="cannot read key"):
        load_signer(f"file:{tmp_path / 'missing.pem'}")
    (tmp_path / "junk.pem").write_bytes(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(InvalidInput, match="not a usable PEM private key"):
        load_signer(str(tmp_path / "junk.pem"))
