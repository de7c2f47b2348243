import base64
import datetime as dt

from lacre.keys import KeyAlgorithm, generate_signer
from lacre.models.trusted_root import TRUSTED_ROOT_MEDIA_TYPE, TransparencyLogKey, trusted_root

START = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _log(start: dt.datetime = START) -> TransparencyLogKey:
    key = generate_signer(KeyAlgorithm.ED25519).public_key
    return TransparencyLogKey(
        base_url="https://log.example", key=key, log_id=b"\x01" * 32, valid_from=start
    )


def test_document_names_the_log_with_sigstore_field_names() -> None:
    log = _log()
    document = trusted_root([log])
    assert document["mediaType"] == TRUSTED_ROOT_MEDIA_TYPE
    (entry,) = document["tlogs"]
    assert entry["baseUrl"] == "https://log.example"
    assert entry["hashAlgorithm"] == "SHA2_256"
    assert base64.b64decode(entry["publicKey"]["rawBytes"]) == log.key.spki_der
    assert entry["publicKey"]["keyDetails"] == "PKIX_ED25519"
    assert entry["publicKey"]["validFor"] == {"start": "2026-01-02T03:04:05Z"}
    assert base64.b64decode(entry["logId"]["keyId"]) == b"\x01" * 32
    assert document["certificateAuthorities"] == []


def test_rewriting_keeps_the_validity_start_and_unknown_fields() -> None:
    first = trusted_root([_log()])
    first["ctlogs"] = [{"kept": True}]
    later = trusted_root([_log(START + dt.timedelta(days=30))], first)
    assert later["tlogs"][0]["publicKey"]["validFor"]["start"] == "2026-01-02T03:04:05Z"
    assert later["ctlogs"] == [{"kept": True}]


def test_end_of_validity_is_written_when_set() -> None:
    log = TransparencyLogKey(
        base_url="https://log.example",
        key=generate_signer().public_key,
        log_id=b"\x02" * 32,
        valid_from=START,
        valid_until=START + dt.timedelta(hours=1),
    )
    assert log.to_json()["publicKey"]["validFor"]["end"] == "2026-01-02T04:04:05Z"
