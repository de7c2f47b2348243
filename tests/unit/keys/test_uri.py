"""Key files made on demand."""

from __future__ import annotations

from pathlib import Path

from lacre.keys import KeyAlgorithm, ensure_key_file, load_signer


def test_ensure_key_file_makes_a_missing_key_once(tmp_path: Path) -> None:
    uri = f"file:{tmp_path / 'keys' / 'ca.pem'}"
    made = ensure_key_file(uri, KeyAlgorithm.ECDSA_P384_SHA384, b"secret")
    assert made == tmp_path / "keys" / "ca.pem"
    assert b"ENCRYPTED" in made.read_bytes()
    first = made.read_bytes()
    assert ensure_key_file(uri, KeyAlgorithm.ECDSA_P256_SHA256) is None
    assert made.read_bytes() == first
    signer = load_signer(uri, lambda: b"secret")
    assert signer.public_key.algorithm is KeyAlgorithm.ECDSA_P384_SHA384
    assert ensure_key_file("pkcs11:token=t;object=o", KeyAlgorithm.ECDSA_P256_SHA256) is None
