"""Memory sizes and durations as the CLI and the API accept them (``swiftnst._quantities``)."""

from __future__ import annotations

import pytest

from swiftnst._quantities import format_bytes, format_seconds, parse_duration, parse_memory_size


@pytest.mark.parametrize("text, expected", [
    ("4G", 4 * 2**30), ("4g", 4 * 2**30), ("1500M", 1500 * 2**20), ("2.5GiB", int(2.5 * 2**30)),
    ("1.5 GiB", int(1.5 * 2**30)), ("512MiB", 512 * 2**20), ("64K", 64 * 1024), ("1T", 2**40),
    ("800MB", 800_000_000), ("2GB", 2_000_000_000), ("3KB", 3000), ("123", 123), ("123B", 123),
    ("1e9", 10**9), (4096, 4096),
])
def test_memory_sizes(text, expected):
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("bad", ["", "G", "4Q", "-1G", "0", "0G", "nanG", "4 G B", "four", True, 0, -5, 1.5, None])
def test_bad_memory_sizes_name_the_option(bad):
    with pytest.raises(ValueError, match="max_memory"):
        parse_memory_size(bad, "max_memory")


@pytest.mark.parametrize("text, expected", [
    ("90s", 90.0), ("20m", 1200.0), ("1h", 3600.0), ("1h30m", 5400.0), ("1h 30m 5s", 5405.0),
    ("2.5m", 150.0), ("45", 45.0), ("0.5", 0.5), (2, 2.0), (2.5, 2.5), ("20M", 1200.0),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "m", "20x", "1h x", "-1m", "0", "0s", "inf", "nan", True, -3, None])
def test_bad_durations_name_the_option(bad):
    with pytest.raises(ValueError, match="time_limit"):
        parse_duration(bad, "time_limit")


def test_formatting():
    assert format_bytes(2.71 * 2**30) == "2.71 GiB"
    assert format_bytes(2.701 * 2**30, round_up=True) == "2.71 GiB"
    assert format_bytes(850 * 2**20) == "850 MiB"
    assert format_bytes(12 * 1024) == "12 KiB"
    assert format_bytes(10) == "10 B"
    assert format_seconds(45) == "45 s"
    assert format_seconds(725) == "12 min 5 s"
    assert format_seconds(3780) == "1 h 3 min"


def test_a_minimum_rounded_up_reads_back_as_enough():
    for size in (2**30 + 1, 2_900_000_000, 5 * 2**30 - 7, 300 * 2**20 + 3):
        assert parse_memory_size(format_bytes(size, round_up=True).replace(" ", "")) >= size
