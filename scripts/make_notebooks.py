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
    ("md", "The same site in two files was merged once; each merge is logged:"),
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

NOTEBOOKS["02_localities.ipynb"] = [
    ("md", """\
# 2. Five localities from whole wards

Wards are the building block of local governance, so localities are made of whole,
contiguous wards. The plan minimises the worst relative deviation from the mean over the
localities, for population and for community assets together, and breaks ties by the
shortest boundary cut. The optimum is **proven**: every connected ward set that could be
part of a better plan is enumerated and an exact set-partitioning model is solved with
HiGHS, and the proof status is read from HiGHS itself (never from PuLP's word "Optimal")."""),
    ("code", SETUP + """
from nwm_geo import localities, maps
from nwm_geo.pipeline import Study

study = Study()
wards = study.wards  # population from the demand points, assets from the register
wards[["ward_name", "population", "assets"]].sort_values("population")"""),
    ("md", "Two wards are neighbours only when they share a boundary of positive length:"),
    ("code", """\
adjacency = localities.ward_adjacency(wards)
print(f"{len(adjacency)} neighbouring ward pairs")
adjacency.head()"""),
    ("code", """\
plan = localities.partition(wards, k=5)
print(f"{plan.status}: worst deviation {plan.objective:.2%}, "
      f"boundary cut {plan.boundary_cut_m / 1000:.1f} km, {plan.runtime_s:.1f} s")
plan.summary"""),
    ("code", "maps.localities_map(wards, plan.assignment)"),
    ("md", """\
## Why is my ward in that locality? The near-best alternatives

The ten best distinct plans, each proven. A *swing ward* changes locality in some of the
plans within 10 % of the optimum."""),
    ("code", """\
alts = localities.alternatives(wards, k=5, n=10, within_pct=10)
alts.plans.drop_duplicates("rank")[["rank", "objective", "pct_worse_than_optimum", "status"]]"""),
    ("code", """\
alts.swing.sort_values("swing_share", ascending=False).head(10)"""),
    ("md", """\
## Other rules

A hard population band, and floors per category (at least one Library and one GP /
Medical Centre in every locality). A request that cannot be met gets a clear error: the
open register has only 3 LBC Community Centres, so a floor of one per locality fails."""),
    ("code", """\
banded = localities.partition(
    wards, k=5, population_band=0.10, category_floors={"Library": 1, "GP / Medical Centre": 1}
)
print(banded.status, f"{banded.objective:.2%}")
banded.summary[["population", "assets", "Library", "GP / Medical Centre", "wards"]]"""),
    ("code", """\
try:
    localities.partition(wards, k=5, category_floors={"LBC Community Centre": 1})
except nwm_geo.InfeasiblePartitionError as exc:
    print(f"InfeasiblePartitionError: {exc}")"""),
]

NOTEBOOKS["03_walk_coverage.ipynb"] = [
    ("md", """\
# 3. Fifteen-minute walk coverage

Walking minutes from every residential postcode to the nearest asset of each category,
over a street network, weighted by Census 2021 population.

**The network.** No OpenStreetMap extract of Luton is available offline, so the default is
an *approximate* network built from the Code-Point postcode centroids (a Delaunay
proximity graph with a detour factor calibrated on a real OSM network). Every output says
so. With an OSM file (`Study(osm_path=...)`) or online (`download=True`) the real street
network is used instead."""),
    ("code", SETUP + """
from nwm_geo import coverage, maps, network
from nwm_geo.pipeline import Study

study = Study()
G = study.graph
print(network.network_label(G))
print(f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges")"""),
    ("md", "Assets and demand points are snapped to the nearest street edge and inserted into it:"),
    ("code", """\
model = study.model
model.point_snaps["snap_m"].describe()"""),
    ("code", """\
minutes = coverage.nearest_minutes(model)
coverage.coverage_summary(minutes, study.demand)"""),
    ("code", """\
by_locality = coverage.coverage_table(minutes, study.demand_with_locality, by="locality")
by_locality.pivot(index="category", columns="locality", values="share").round(3)"""),
    ("md", """\
## Which assets matter most?

Criticality: the residents who would lose 15-minute access to a category if that one
asset closed (all assets in one call)."""),
    ("code", """\
crit = coverage.asset_criticality(model)
crit.sort_values("sole_population", ascending=False).head(15)"""),
    ("md", "## What if: the most critical GP surgery closes?"),
    ("code", """\
gp = crit[crit["category"] == "GP / Medical Centre"]["sole_population"].idxmax()
print("closing", study.register.loc[gp, "name"])
after = coverage.prepare(G, demand=study.demand, assets=study.register.drop(index=gp))
before_cov = coverage.coverage_summary(minutes, study.demand)
after_cov = coverage.coverage_summary(coverage.nearest_minutes(after), study.demand)
(after_cov["covered_population"] - before_cov["covered_population"]).loc[
    ["GP / Medical Centre", "someone to see"]
]"""),
    ("md", "## What if people walk more slowly (65 m/min, about 3.9 km/h)?"),
    ("code", """\
slow = coverage.nearest_minutes(model, speed_m_per_min=65)
coverage.coverage_summary(slow, study.demand)["share"].round(3).loc[list(settings.BUNDLES)]"""),
    ("code", """\
sheds = coverage.walksheds(model, by="category")
maps.walksheds_map(sheds, assets=study.register, wards=study.wards,
                   network_label=study.network_label)"""),
    ("md", """\
## How good is the approximation? A real OSM network, side by side

Rutland has both real Code-Point postcodes and a real OpenStreetMap extract
(`rutland-2022-07-20.osm.pbf`, ODbL). We build the postcode-proximity approximation from
Rutland's 1,279 postcodes and compare walking distances between random pairs of those
postcodes over the real streets and over the approximation (`nwm_geo.calibration`). The
full run, with the share of residents whose 15-minute verdict flips, is
`benchmarks/calibrate_network.py` and `docs/network.md`."""),
    ("code", """\
import geopandas as gpd
import pandas as pd
from nwm_geo import calibration

G_osm = network.graph_from_osm_file("data/raw/osm/rutland-2022-07-20.osm.pbf")
print(network.network_label(G_osm))
pc = pd.read_csv("data/raw/rutland/postcodes/codepoint_open_2025-10_rutland.csv")
rutland_postcodes = gpd.GeoDataFrame(
    geometry=gpd.points_from_xy(pc["easting"], pc["northing"]),
    index=pc["postcode"], crs=settings.crs,
)
cmp = calibration.compare_distances(G_osm, rutland_postcodes, n_pairs=500, seed=0)
print(cmp.summary)
cmp.pairs[["osm_m", "approx_m", "ratio", "abs_error_m"]].describe().round(2)"""),
]

NOTEBOOKS["04_asset_requirements.ipynb"] = [
    ("md", """\
# 4. Outline of asset requirements

Per locality and category: the assets the model needs (those whose closure would leave
residents without a 15-minute walk), those other assets fully cover, the residents beyond
15 minutes, the smallest set of today's assets that keeps today's coverage (exact, HiGHS),
the best new sites to close gaps (exact, HiGHS), and the assets that need a business case
under written rules."""),
    ("code", SETUP + """
from nwm_geo import maps, requirements
from nwm_geo.pipeline import Study

study = Study()
outline = study.outline
print(outline.method)"""),
    ("code", """\
outline.summary.xs("Luton", level="locality")[
    ["population", "covered_share", "gap_population", "n_assets", "n_required",
     "n_redundant", "n_in_minimal_cover"]
]"""),
    ("md", "Every optimisation's proof status, checked against HiGHS's own model status:"),
    ("code", """\
outline.solver_status"""),
    ("md", "## The business-case rules and list"),
    ("code", """\
for rule, text in outline.rules.items():
    print(f"{rule}: {text}")"""),
    ("code", """\
outline.business_case.groupby(["locality", "rule"]).size().unstack(fill_value=0)"""),
    ("md", "## One locality in detail"),
    ("code", """\
name = outline.localities[0]
tables = outline.for_locality(name)
print(name)
tables["required"].head(10)"""),
    ("code", """\
tables["new_sites"]"""),
    ("md", "## Where are the gaps?"),
    ("code", """\
maps.gaps_map(outline.gap_points, measures=list(settings.BUNDLES), wards=study.wards,
              network_label=study.network_label)"""),
    ("code", """\
maps.plot_coverage(study.demand, study.minutes_to_nearest, measures=list(settings.BUNDLES),
                   wards=study.wards, network_label=study.network_label)"""),
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
