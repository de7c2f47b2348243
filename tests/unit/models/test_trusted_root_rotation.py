"""The trusted root as a history: replaced keys and chains stay, with an end."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from sigstore_models.trustroot.v1 import TrustedRoot as OfficialTrustedRoot

from lacre.errors import InvalidInput
from lacre.keys import KeyAlgorithm, PublicKey, generate_signer
from lacre.models.timestamp_authority import TimestampAuthorityEntry, with_timestamp_authorities
from lacre.models.trust_reader import TrustedRoot
from lacre.models.trusted_root import (
    CertificateAuthorityEntry,
    TransparencyLogKey,
    trusted_root,
)

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ROTATED = dt.datetime(2026, 3, 1, 12, 30, 15, 987654, tzinfo=dt.UTC)
ROTATED_TEXT = "2026-03-01T12:30:15Z"
LATER = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _key() -> PublicKey:
    return generate_signer(KeyAlgorithm.ECDSA_P256_SHA256).public_key


def _log(key: PublicKey, start: dt.datetime = START) -> TransparencyLogKey:
    return TransparencyLogKey(
        base_url="https://lacre.test", key=key, log_id=key.key_id, valid_from=start
    )


def _ca(chain: tuple[bytes, ...], start: dt.datetime = START) -> CertificateAuthorityEntry:
    return CertificateAuthorityEntry(
        uri="https://lacre.test",
        organization="lacre",
        common_name="lacre intermediate",
        chain_der=chain,
        valid_from=start,
    )


def _tsa(chain: tuple[bytes, ...], start: dt.datetime = START) -> TimestampAuthorityEntry:
    return TimestampAuthorityEntry(
        uri="https://lacre.test/api/v1/timestamp",
        organization="lacre",
        common_name="lacre tsa",
        chain_der=chain,
        valid_from=start,
    )


def _windows(entries: list[dict[str, Any]], holder: str | None = None) -> list[dict[str, str]]:
    return [(entry[holder] if holder else entry)["validFor"] for entry in entries]


def test_a_replaced_log_key_stays_with_an_end_and_the_new_one_starts_then() -> None:
    old, new = _key(), _key()
    first = trusted_root([_log(old)])
    rotated = trusted_root([_log(new, ROTATED)], first, replaced_at=ROTATED)
    assert [entry["logId"] for entry in rotated["tlogs"]] == [
        first["tlogs"][0]["logId"],
        _log(new).to_json()["logId"],
    ], "oldest first, newest last"
    assert _windows(rotated["tlogs"], "publicKey") == [
        {"start": "2026-01-01T00:00:00Z", "end": ROTATED_TEXT},
        {"start": ROTATED_TEXT},
    ]


def test_the_new_window_starts_at_the_replacement_even_if_the_key_is_older() -> None:
    old, new = (b"intermediate-1", b"root-1"), (b"intermediate-2", b"root-2")
    first = trusted_root([], authorities=[_ca(old)])
    made_before = ROTATED - dt.timedelta(days=2)
    rotated = trusted_root([], first, authorities=[_ca(new, made_before)], replaced_at=ROTATED)
    assert _windows(rotated["certificateAuthorities"]) == [
        {"start": "2026-01-01T00:00:00Z", "end": ROTATED_TEXT},
        {"start": ROTATED_TEXT},
    ]


def test_a_new_window_starting_after_the_replacement_keeps_its_own_start() -> None:
    first = trusted_root([], ctlogs=[_log(_key())])
    rotated = trusted_root([], first, ctlogs=[_log(_key(), LATER)], replaced_at=ROTATED)
    assert _windows(rotated["ctlogs"], "publicKey")[1] == {"start": "2026-06-01T00:00:00Z"}


def test_an_identical_rewrite_later_does_not_move_any_window() -> None:
    old, new, ct = _key(), _key(), _key()
    chain = (b"intermediate", b"root")
    first = trusted_root([_log(old)], ctlogs=[_log(ct)], authorities=[_ca(chain)])
    rotated = trusted_root(
        [_log(new, ROTATED)],
        first,
        ctlogs=[_log(ct)],
        authorities=[_ca(chain)],
        replaced_at=ROTATED,
    )
    again = trusted_root(
        [_log(new, LATER)],
        copy.deepcopy(rotated),
        ctlogs=[_log(ct, LATER)],
        authorities=[_ca(chain, LATER)],
        replaced_at=LATER,
    )
    assert again == rotated
    assert _windows(rotated["ctlogs"], "publicKey") == [{"start": "2026-01-01T00:00:00Z"}]


def test_a_second_rotation_keeps_the_first_end_and_appends() -> None:
    keys = [_key() for _ in range(3)]
    document = trusted_root([_log(keys[0])])
    document = trusted_root([_log(keys[1])], document, replaced_at=ROTATED)
    document = trusted_root([_log(keys[2])], document, replaced_at=LATER)
    assert _windows(document["tlogs"], "publicKey") == [
        {"start": "2026-01-01T00:00:00Z", "end": ROTATED_TEXT},
        {"start": ROTATED_TEXT, "end": "2026-06-01T00:00:00Z"},
        {"start": "2026-06-01T00:00:00Z"},
    ]


def test_a_retired_key_put_back_is_reopened_not_duplicated() -> None:
    old, new = _key(), _key()
    document = trusted_root([_log(old)])
    document = trusted_root([_log(new)], document, replaced_at=ROTATED)
    document = trusted_root([_log(old)], document, replaced_at=LATER)
    assert len(document["tlogs"]) == 2
    assert _windows(document["tlogs"], "publicKey") == [
        {"start": "2026-01-01T00:00:00Z"},
        {"start": ROTATED_TEXT, "end": "2026-06-01T00:00:00Z"},
    ]


def test_a_section_not_given_is_left_as_it_was() -> None:
    first = trusted_root([_log(_key())], ctlogs=[_log(_key())])
    rewritten = trusted_root([], copy.deepcopy(first), replaced_at=LATER)
    assert rewritten["tlogs"] == first["tlogs"]
    assert rewritten["ctlogs"] == first["ctlogs"]


def test_a_replaced_tsa_chain_stays_with_an_end() -> None:
    old, new = (b"leaf-1", b"root-1"), (b"leaf-2", b"root-2")
    first = with_timestamp_authorities({"tlogs": []}, [_tsa(old)])
    rotated = with_timestamp_authorities(first, [_tsa(new)], replaced_at=ROTATED)
    assert _windows(rotated["timestampAuthorities"]) == [
        {"start": "2026-01-01T00:00:00Z", "end": ROTATED_TEXT},
        {"start": ROTATED_TEXT},
    ]
    assert with_timestamp_authorities(rotated, [_tsa(new)], replaced_at=LATER) == rotated


def test_the_windows_mean_what_they_say_to_a_verifier() -> None:
    old, new = _key(), _key()
    document = trusted_root([_log(new)], trusted_root([_log(old)]), replaced_at=ROTATED)
    parsed = TrustedRoot.from_json(json.loads(json.dumps(document)))
    before, after = ROTATED - dt.timedelta(minutes=1), ROTATED + dt.timedelta(minutes=1)
    retired, current = parsed.tlog(old.key_id), parsed.tlog(new.key_id)
    assert retired is not None and current is not None
    assert retired.validity.contains(before) and not retired.validity.contains(after)
    assert current.validity.contains(after) and not current.validity.contains(before)
    official = OfficialTrustedRoot.from_json(json.dumps(document))
    windows = [log.public_key.valid_for for log in official.tlogs]
    assert windows[0] is not None and windows[0].end is not None
    assert windows[1] is not None and windows[1].end is None


def test_a_planned_end_is_kept_while_served_and_cut_short_when_replaced() -> None:
    planned = _log(_key())
    planned = TransparencyLogKey(
        base_url=planned.base_url,
        key=planned.key,
        log_id=planned.log_id,
        valid_from=START,
        valid_until=LATER,
    )
    first = trusted_root([planned])
    assert trusted_root([_log(planned.key)], first, replaced_at=ROTATED) == first
    rotated = trusted_root([_log(_key())], first, replaced_at=ROTATED)
    assert _windows(rotated["tlogs"], "publicKey")[0]["end"] == ROTATED_TEXT


def test_an_end_never_precedes_its_start() -> None:
    first = trusted_root([_log(_key(), LATER)])
    rotated = trusted_root([_log(_key(), ROTATED)], first, replaced_at=ROTATED)
    assert _windows(rotated["tlogs"], "publicKey")[0] == {
        "start": "2026-06-01T00:00:00Z",
        "end": "2026-06-01T00:00:00Z",
    }


def test_hostile_and_malformed_previous_entries_are_dropped() -> None:
    old = _log(_key()).to_json()
    previous: dict[str, Any] = {
        "tlogs": [
            3,
            "text",
            {"logId": {}},
            {"logId": {"keyId": 7}},
            {"logId": {"keyId": "AAAA"}, "publicKey": "not a mapping"},
            {"logId": {"keyId": "BBBB"}, "publicKey": {"validFor": {"start": "yesterday"}}},
            {"logId": {"keyId": "CCCC"}, "publicKey": {"validFor": ["2026-01-01T00:00:00Z"]}},
            {
                "logId": {"keyId": "DDDD"},
                "publicKey": {"validFor": {"start": "2026-01-01T00:00:00Z", "end": 5}},
            },
            old,
        ],
        "certificateAuthorities": [
            {"certChain": 5},
            {"certChain": {"certificates": [{}]}},
            {"certChain": {"certificates": []}, "validFor": {"start": "2026-01-01T00:00:00Z"}},
        ],
    }
    snapshot = copy.deepcopy(previous)
    new = _key()
    document = trusted_root(
        [_log(new)], previous, authorities=[_ca((b"a", b"b"))], replaced_at=ROTATED
    )
    assert [entry["logId"] for entry in document["tlogs"]] == [
        old["logId"],
        _log(new).to_json()["logId"],
    ]
    assert document["tlogs"][0]["publicKey"]["validFor"]["end"] == ROTATED_TEXT
    assert len(document["certificateAuthorities"]) == 1
    assert previous == snapshot, "the previous document is not modified"
    TrustedRoot.from_json({**document, "certificateAuthorities": []})


def test_oversized_history_is_carried_whole() -> None:
    keys = [_key() for _ in range(50)]
    document = trusted_root([_log(keys[0])])
    for n, key in enumerate(keys[1:], start=1):
        document = trusted_root([_log(key)], document, replaced_at=START + dt.timedelta(days=n))
    windows = _windows(document["tlogs"], "publicKey")
    assert len(windows) == 50
    assert all("end" in window for window in windows[:-1]) and "end" not in windows[-1]
    assert all(windows[n]["end"] == windows[n + 1]["start"] for n in range(49))


def test_a_naive_replacement_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        trusted_root(
            [_log(_key())], trusted_root([_log(_key())]), replaced_at=dt.datetime(2026, 1, 1)
        )
