"""Pipeline writers: CSV outputs are safe to open in a spreadsheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nwm_geo.pipeline import write_csv


def test_csv_neutralises_formulas_but_keeps_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x","click")', "@SUM(A1)", "St Mary's Hall", "+44"],
            "population": [10, -3, 0, 7],
            "share": [0.5, -0.25, 1.0, 0.0],
        },
        index=pd.Index(["=a", "b", "c", "d"], name="asset_id"),
    )
    path = write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, index_col="asset_id")
    assert back["name"].tolist() == [
        '\'=HYPERLINK("http://x","click")',
        "'@SUM(A1)",
        "St Mary's Hall",
        "'+44",
    ]
    assert back.index.tolist() == ["'=a", "b", "c", "d"]
    assert back["population"].tolist() == [10, -3, 0, 7]  # numbers are not touched
    assert back["share"].tolist() == [0.5, -0.25, 1.0, 0.0]
    assert frame.loc["=a", "name"].startswith("=")  # the caller's frame is unchanged
