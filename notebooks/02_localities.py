# %% [markdown]
# # 2. Five localities from whole wards
#
# Wards are the building block of local governance, so localities are made of whole,
# contiguous wards. The plan minimises the worst relative deviation from the mean over the
# localities, for population and for community assets together, and breaks ties by the
# shortest boundary cut. The optimum is **proven**: every connected ward set that could be
# part of a better plan is enumerated and an exact set-partitioning model is solved with
# HiGHS, and the proof status is read from HiGHS itself (never from PuLP's word "Optimal").

# %%
import nwm_geo
from nwm_geo import localities, maps

# Project root as working directory; ../shared/data imported into data/raw (sha256-checked).
nwm_geo.notebook_setup()

study = nwm_geo.Study.from_outputs()  # the plan nwm-geo saved, not re-solved
wards = study.wards  # population from the demand points, assets from the register
wards[["ward_name", "population", "assets"]].sort_values("population")

# %% [markdown]
# Two wards are neighbours only when they share a boundary of positive length:

# %%
adjacency = localities.ward_adjacency(wards)
print(f"{len(adjacency)} neighbouring ward pairs")
adjacency.head()

# %%
plan = localities.partition(wards, k=5)
print(
    f"{plan.status}: worst deviation {plan.objective:.2%}, "
    f"boundary cut {plan.boundary_cut_m / 1000:.1f} km, {plan.runtime_s:.1f} s"
)
plan.summary

# %%
maps.localities_map(wards, plan.assignment)

# %% [markdown]
# ## Why is my ward in that locality? The near-best alternatives
#
# The ten best distinct plans, each proven. A *swing ward* changes locality in some of the
# plans within 10 % of the optimum.

# %%
alts = localities.alternatives(wards, k=5, n=10, within_pct=10)
alts.plans.drop_duplicates("rank")[["rank", "objective", "pct_worse_than_optimum", "status"]]

# %%
alts.swing.sort_values("swing_share", ascending=False).head(10)

# %% [markdown]
# ## Other rules
#
# A hard population band, and floors per category (at least one Library and one GP /
# Medical Centre in every locality). A request that cannot be met gets a clear error: the
# open register has only 3 LBC Community Centres, so a floor of one per locality fails.

# %%
banded = localities.partition(
    wards,
    k=5,
    rules=localities.PartitionRules(
        population_band=0.10, category_floors={"Library": 1, "GP / Medical Centre": 1}
    ),
)
print(banded.status, f"{banded.objective:.2%}")
banded.summary[["population", "assets", "Library", "GP / Medical Centre", "wards"]]

# %%
try:
    localities.partition(
        wards, k=5, rules=localities.PartitionRules(category_floors={"LBC Community Centre": 1})
    )
except nwm_geo.InfeasiblePartitionError as exc:
    print(f"InfeasiblePartitionError: {exc}")
