"""Personal data in free text: the formats masked, and the cell-length cap (issue 20).

All texts are SYNTHETIC (Ofcom's drama numbers 01632 960xxx, example.org addresses).
Speed is measured in ``benchmarks/bench_mask.py``, not here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nwm_geo import data

MASK = "[removed]"


@pytest.mark.parametrize(
    "leak",
    [
        "01632 960001",
        "(01632) 960-001",
        "01632960001",
        "07700 900123",
        "+44 1632 960003",
        "+44 (0)1632 960003",
        "0044 1632 960003",
        "+33 1 99 00 12 34",
        "leak@example.org",
        "first.last+tag@sub.example.co.uk",
        "leak4@exämple.org",
        "léa@example.org",
        "leak5 @example.org",
    ],
)
def test_every_listed_format_is_masked(leak: str) -> None:
    table = pd.DataFrame({"notes": [f"Bookings: {leak}; ask at the desk"]})
    out, n = data.publishable(table)
    text = out.at[0, "notes"]
    assert n == 1, text
    assert text == f"Bookings: {MASK}; ask at the desk"


@pytest.mark.parametrize(
    "kept",
    [
        "12 High Street, Luton LU1 2AB",
        "Age 0-15 and 65+",
        "Opened 2025-05-24, 9am to 5pm",
        "Hall for 120 people, 3 rooms",
        "URN 109415",
        "@example.org",
        "name@localhost",
    ],
)
def test_ordinary_text_is_left_alone(kept: str) -> None:
    out, n = data.publishable(pd.DataFrame({"notes": [kept]}))
    assert (out.at[0, "notes"], n) == (kept, 0)


def test_hostile_long_text_is_masked_whole(tmp_path: Path) -> None:
    """Long runs that made the old regexes quadratic give the same answer as short ones."""
    for text in ("a" * 50_000, "1" * 50_000, "a@" * 25_000, "0 " * 25_000):
        out, n = data.publishable(pd.DataFrame({"notes": [text + ". Call 01632 960001"]}))
        assert out.at[0, "notes"].endswith(MASK)
        assert n >= 1


def test_a_cell_over_the_cap_is_refused_with_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    long = "x" * 100_000
    path.write_text(f"name,notes\nHall,short\nCentre,{long}\n", encoding="utf-8")
    _frame, problems = data.read_table(path)
    assert len(problems) == 1
    message = str(problems[0])
    assert "register.csv" in message and "row 3" in message and "'notes'" in message
    assert "100,000 characters" in message and "limit" in message
