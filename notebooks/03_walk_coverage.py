# %% [markdown]
# # 3. Fifteen-minute walk coverage
#
# Walking minutes from every residential postcode to the nearest asset of each category,
# over a street network, weighted by Census 2021 population.
#
# **The network.** No OpenStreetMap extract of Luton is available offline, so the default is
# an *approximate* network built from the Code-Point postcode centroids (a Delaunay
# proximity graph with a detour factor calibrated on a real OSM network). Every output says
# so. With an OSM file (`Study(osm_path=...)`) or online (`download=True`) the real street
# network is used instead.

# %%
import nwm_geo
from nwm_geo import calibration, coverage, data, maps, network, scenarios, settings

# Project root as working directory; ../shared/data imported into data/raw (sha256-checked).
nwm_geo.notebook_setup()

study = nwm_geo.Study.from_outputs()  # the plan nwm-geo saved, not re-solved
G = study.graph
print(network.network_label(G))
print(f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges")

# %% [markdown]
# Assets and demand points are snapped to the nearest street edge and inserted into it:

# %%
model = study.model
model.point_snaps["snap_m"].describe()

# %%
minutes = coverage.nearest_minutes(model)
coverage.coverage_summary(minutes, study.demand)

# %%
by_locality = coverage.coverage_table(minutes, study.demand_with_locality, by="locality")
by_locality.pivot(index="category", columns="locality", values="share").round(3)

# %% [markdown]
# ## Which assets matter most?
#
# Criticality: the residents who would lose 15-minute access to a category if that one
# asset closed (all assets in one call).

# %%
crit = coverage.asset_criticality(model)
crit.sort_values("sole_population", ascending=False).head(15)

# %% [markdown]
# ## What if: the most critical GP surgery closes?

# %%
gp = crit[crit["category"] == "GP / Medical Centre"]["sole_population"].idxmax()
print("closing", study.register.loc[gp, "name"])
after = coverage.prepare(G, demand=study.demand, assets=study.register.drop(index=gp))
before_cov = coverage.coverage_summary(minutes, study.demand)
after_cov = coverage.coverage_summary(coverage.nearest_minutes(after), study.demand)
(after_cov["covered_population"] - before_cov["covered_population"]).loc[
    ["GP / Medical Centre", "someone to see"]
]

# %% [markdown]
# ## What if people walk more slowly (65 m/min, about 3.9 km/h)?

# %%
slow = coverage.nearest_minutes(model, speed_m_per_min=65)
coverage.coverage_summary(slow, study.demand)["share_pct"].round(1).loc[list(settings.BUNDLES)]

# %% [markdown]
# ## Walksheds
#
# On a real street network a walkshed is the streets reached within 15 minutes, buffered
# (`coverage.walksheds`). The approximate network joins postcode centroids, not streets,
# so buffering its straight edges would draw hundreds of false holes; `study.walksheds`
# then shades the catchment cells of the postcodes within the walk instead (Voronoi
# cells clipped to the borough, `coverage.catchment_cells`), and the map says so.

# %%
maps.walksheds_map(
    study.walksheds,
    assets=study.register,
    wards=study.wards,
    page=maps.MapPage(network_label=study.network_label),
)

# %% [markdown]
# ## What if a site closes, or a hub opens?
#
# The closure impact of every site at once: the residents who would lose access to its
# category within the walk, where they live, their next-best site and the extra minutes.
# A scenario keeps the same network and the same locality plan, and compares side by side
# (`docs/scenarios.md`; `nwm-geo scenario FILE` writes the same tables to `scenarios/`).

# %%
impact = study.closure_impact.assets
impact.sort_values("residents_losing", ascending=False).head(5)[
    ["name", "category", "residents_losing", "localities", "next_best_name",
     "extra_minutes_median", "extra_minutes_max"]
]  # fmt: skip

# %%
what_if = study.with_changes(
    close=["library-0007"],
    add=[{"name": "Hub at Hockwell Ring", "category": "Community Centre", "postcode": "LU4 9LB"}],
)
table = scenarios.compare(study, what_if).localities
table[table["measure"].isin(["Library", "Community Centre"])]

# %% [markdown]
# ## How good is the approximation? A real OSM network, side by side
#
# Rutland has both real Code-Point postcodes and a real OpenStreetMap extract
# (`rutland-2022-07-20.osm.pbf`, ODbL). We build the postcode-proximity approximation from
# Rutland's 1,279 postcodes and compare walking distances between random pairs of those
# postcodes over the real streets and over the approximation (`nwm_geo.calibration`). The
# full run, with the share of residents whose 15-minute verdict flips, is
# `benchmarks/calibrate_network.py` and `docs/network.md`.

# %%


G_osm = network.graph_from_osm_file("data/raw/osm/rutland-2022-07-20.osm.pbf")
print(network.network_label(G_osm))
rutland_postcodes = data.open_area("rutland").postcodes
rutland_postcodes = rutland_postcodes[rutland_postcodes["in_borough"]]
cmp = calibration.compare_distances(G_osm, rutland_postcodes, n_pairs=500, seed=0)
print(cmp.summary)
cmp.pairs[["osm_m", "approx_m", "ratio", "abs_error_m"]].describe().round(2)
