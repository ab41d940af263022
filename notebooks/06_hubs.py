# %% [markdown]
# # 6. Community hubs: one hub per locality
#
# The Neighbourhood Working Model is built around community hubs: places to raise an
# issue, have one conversation and reach a range of services. This notebook asks which
# site in each locality should be its hub, and whether the localities themselves should
# be drawn with the hubs in mind: **which five localities, and which hub in each, put the
# most residents within a 15-minute walk of their own locality's hub, while staying
# balanced?** Every answer carries a proof status read from HiGHS.

# %%
import nwm_geo
from nwm_geo import hubs, localities, maps

# Project root as working directory; ../shared/data imported into data/raw (sha256-checked).
nwm_geo.notebook_setup()

study = nwm_geo.Study.from_outputs()  # the plan nwm-geo saved, not re-solved
study.hub_candidates[["name", "category", "ward_name", "source"]]

# %% [markdown]
# ## The council's named hubs: which are in the register?
#
# The council's plans name the Lewsey, Farley, Bury Park, Chaul End and Hockwell Ring
# community centres and a new town-centre hub (the list is in the area profile,
# `[hubs]`). A site that the open register does not hold is reported missing, never made
# up; add it with `hubs.HubOptions(add_names=..., add_ids=..., new_sites=...)`.

# %%
analysis = study.hub_analysis
analysis.named[["named_hub", "in_register", "asset_id", "register_name", "residents_within"]]

# %% [markdown]
# ## The best hub of each published locality
#
# For each locality of the balance-only plan, the candidate inside it with the most
# residents of the locality within 15 minutes; ties (a centre and the library in the
# same building) and the runner-up are shown, with the population-weighted mean walk.

# %%
study.hubs[[*hubs.HUB_COLUMNS, "ties"]].round(1)

# %% [markdown]
# ## Localities and hubs chosen together
#
# `localities.partition_with_hubs` values every connected ward set by its best hub and
# picks five sets, one hub each, maximising residents within reach of their own hub,
# with every locality within a balance cap (here the balance-only optimum plus 10
# percentage points).

# %%
cap = study.plan.objective + 0.10
joint = localities.partition_with_hubs(
    study.wards,
    k=5,
    hubs=analysis.rules,
    max_deviation=cap,
    rules=localities.PartitionRules(measures=study.balanced),
)
print(f"{joint.status}: {joint.residents_within:,} residents within reach, {joint.runtime_s:.1f} s")
joint.hubs

# %% [markdown]
# ## What balance costs in coverage
#
# The first row is the balance-only plan with its own best hubs; each further row lets
# the localities deviate a little more from the mean and reports what that buys.

# %%
analysis.frontier[
    ["plan", "worst_deviation_pct", "residents_within", "share_pct", "gain_vs_balance", "status"]
].round(1)

# %% [markdown]
# ## Council-named hubs, balance-only and joint plans side by side

# %%
analysis.comparison.round(1)

# %% [markdown]
# ## The hubs on the map, with their 15-minute walk catchments

# %%
m = maps.localities_map(
    study.wards, study.plan.assignment, page=maps.MapPage(network_label=study.network_label)
)
points = maps.hub_points(study.hubs, analysis.candidates)
catchments = hubs.hub_catchments(study.model, analysis.candidates, list(points["hub_asset_id"]))
maps.add_hubs(m, points, catchments)
