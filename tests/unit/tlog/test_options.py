"""LogOptions: defaults, validation and immutability."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from lacre.errors import ConfigError
from lacre.tlog import LogOptions
from lacre.tlog.options import MAX_ENTRY_BYTES_LIMIT
from lacre.transparency.tiles import MAX_ENTRY_BYTES


def test_defaults_are_valid_and_sensible() -> None:
    options = LogOptions()
    assert options.max_batch >= 1
    assert options.max_pending >= options.max_batch
    assert options.max_entry_bytes == MAX_ENTRY_BYTES_LIMIT == MAX_ENTRY_BYTES
    assert 0 <= options.max_delay_s < 1
    assert options.tile_cache >= 1


@pytest.mark.parametrize(
    "values",
    [
        {"max_batch": 1, "max_pending": 1},
        {"max_batch": 10, "max_pending": 10},
        {"max_delay_s": 0},
        {"max_entry_bytes": 1},
        {"max_entry_bytes": 65535},
        {"tile_cache": 1},
    ],
)
def test_boundary_values_are_accepted(values: dict[str, Any]) -> None:
    options = LogOptions(**values)
    for name, value in values.items():
        assert getattr(options, name) == value


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"max_batch": 0}, "max_batch"),
        ({"max_batch": -1}, "max_batch"),
        ({"max_delay_s": -0.001}, "max_delay_s"),
        ({"max_batch": 10, "max_pending": 9}, "max_pending"),
        ({"max_pending": 0}, "max_pending"),
        ({"max_entry_bytes": 0}, "max_entry_bytes"),
        ({"max_entry_bytes": 65536}, "max_entry_bytes"),
        ({"tile_cache": 0}, "tile_cache"),
    ],
)
def test_out_of_range_values_are_refused(values: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        LogOptions(**values)
    assert info.value.message == f"log option {name} is out of range"
    assert str(values[name]) in str(info.value)


def test_options_are_immutable_and_keyword_only() -> None:
    options = LogOptions(max_batch=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.max_batch = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        LogOptions(8)  # type: ignore[call-arg]
    assert dataclasses.replace(options, max_delay_s=0.5) == LogOptions(max_batch=8, max_delay_s=0.5)
