"""Write the notebooks in notebooks/ from the cell sources below (stored without outputs).

Run ``python scripts/make_notebooks.py`` after editing a story here; the test suite
executes the notebooks on the Luton data.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "notebooks"

SETUP = """\
from pathlib import Path
import os

# Run from the project root so data/raw and data/processed are found.
if Path.cwd().name == "notebooks":
    os.chdir(Path.cwd().parent)

import nwm_geo
from nwm_geo import data, settings
data.import_bundle()  # copies ../shared/data into data/raw (checked against its sha256)"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01_data_and_register.ipynb"] = [
    ("md", """\
# 1. Data and the asset register

The council's own register of **287 mapped community assets** is not public. This
notebook assembles the closest honest register from the real open data in the bundle
(schools, NHS, libraries, places of worship, courts, police, fire, centres), shows how far
it is from the council's 287, category by category, and builds the residential demand
points that carry Census 2021 population. Nothing here is invented: every row has a
source, and every shortfall is reported as a gap."""),
    ("code", SETUP),
    ("md", "## The register, assembled from the open data"),
    ("code", """\
register, merges = data.build_open_register()
print(f"{len(register)} sites; {int(register['in_borough'].sum())} inside Luton")
register[["name", "category", "postcode", "ward_name", "in_borough", "source"]].head(10)"""),
    ("md", """\
## How far is it from the council's 287?

`council_count` is the council's own mapped count; `gap` is what the open data does not
have. The gap is reported, never filled with made-up rows."""),
    ("code", "data.reconciliation(register)"),
    ("md", "Duplicates across files (the same site in two sources) were merged; each merge is logged:"),
    ("code", "merges"),
    ("md", "Records dropped by rule (not sites, or closed), each with its reason:"),
    ("code", "data.open_register_exclusions()"),
    ("md", """\
## Wards and residential demand points

Each Census 2021 LSOA total is spread over its Code-Point postcodes, weighted by the 2011
Output Area population per postcode, and integerised so the points add up exactly to
the LSOA totals."""),
    ("code", """\
wards = data.load_wards(year=2023)
points = data.demand_points()
lsoas = data.load_lsoas(year=2021)
check = points.groupby("lsoa_code")["population"].sum().reindex(lsoas.index)
assert (check == lsoas["population"]).all()
print(f"{len(points):,} demand points carry {points['population'].sum():,} residents "
      f"in {len(wards)} wards")"""),
    ("code", """\
table = data.ward_table(wards, register, points)
table.sort_values("population", ascending=False)"""),
    ("code", """\
ax = wards.plot(color="white", edgecolor="grey", figsize=(7, 7))
points.plot(ax=ax, markersize=points["population"] / 40, color="tab:blue", alpha=0.4)
register[register["in_borough"]].plot(ax=ax, markersize=8, color="tab:red")
ax.set_title("Luton: demand points (blue, sized by population) and register sites (red)")
ax.set_axis_off()"""),
]


def main() -> None:
    """Write every notebook, without outputs."""
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.cells = [
            new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells
        ]
        nbformat.write(nb, HERE / name)
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    main()
