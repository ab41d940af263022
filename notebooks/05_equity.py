# %% [markdown]
# # 5. Who is left out? Coverage by deprivation and by age
#
# The share of residents within a 15-minute walk hides who the others are. Each
# residential postcode carries the **IMD 2019** decile of the LSOA 2011 it lies in (1 =
# the 10 % most deprived areas of England) and its residents per **Census 2021 age
# band**, spread from its LSOA 2021 like the totals (the bands add up exactly to each
# postcode and to each LSOA's band totals). Older residents walk more slowly: residents
# aged 65+ walk at 50.8 m/min (Asher et al., *Age and Ageing* 2012, Health Survey for
# England), the others at the 80 m/min default; one network distance per category is
# converted at each speed.

# %%
import nwm_geo
from nwm_geo import equity, localities, settings
from nwm_geo.pipeline import equity_headline

# Project root as working directory; ../shared/data imported into data/raw (sha256-checked).
nwm_geo.notebook_setup()

study = nwm_geo.Study.from_outputs()  # the plan nwm-geo saved, not re-solved
demand = study.demand
demand[["population", "imd_decile", "imd_quintile", "age_65_plus"]].describe().round(1)

# %% [markdown]
# Residents per IMD quintile and per age band add up to the borough, 225,239:

# %%
print(demand.groupby("imd_quintile")["population"].sum())
print(demand[list(equity.AGE_LABELS)].sum(), int(demand["population"].sum()))

# %% [markdown]
# ## The walking speeds and where they come from

# %%
tables = study.equity
print(tables.speeds_note())
settings.walk_speed_by_age_m_per_min

# %% [markdown]
# ## The headline: deprivation and 65+ gaps per bundle
#
# The deprivation gap is the share within the walk in the most deprived quintile minus
# the least deprived one, in percentage points; the age gap is residents aged 65+ at
# their speed minus all residents at the default speed. The concentration index
# (Kakwani, Wagstaff & van Doorslaer 1997) is below 0 when coverage is concentrated
# among the more deprived.

# %%
equity_headline(study)

# %% [markdown]
# By IMD decile for the bundles, at the default speed and with each resident at their
# age band's speed:

# %%
dep = tables.deprivation
area = dep[(dep["locality"] == study.profile.name) & dep["measure"].isin(study.bundles)]
area.pivot(index="imd_decile", columns="measure", values="covered_pct").round(1)

# %% [markdown]
# By age band, in each locality (all three bundles):

# %%
age = tables.age[tables.age["measure"] == "all three bundles"]
age.pivot(index="age_band", columns="locality", values="covered_pct").round(1)

# %% [markdown]
# ## Who loses access if a site closes?
#
# `equity.group_split` splits any set of postcodes by IMD quintile and age band: here the
# residents who would lose their 15-minute walk to a library if the library with the most
# sole-provider residents closed.

# %%
crit = study.criticality
libraries = crit[crit["category"] == "Library"].sort_values("sole_population")
closing = libraries.index[-1]
cover = study.asset_cover.reindex_points(demand.index)
col = cover.source_index.get_loc(closing)
others = [cover.source_index.get_loc(a) for a in libraries.index if a != closing]
alone = cover.csc[:, [col]].toarray().ravel() & ~cover.csc[:, others].toarray().any(axis=1)
print(f"{crit.loc[closing, 'name']}: {int(crit.loc[closing, 'sole_population']):,} residents")
equity.group_split(demand.assign(loses_access=alone), weight="loses_access").round(1)

# %% [markdown]
# ## Optional: balance localities on need as well as size
#
# `localities.partition` balances any ward column. Adding the residents of the two most
# deprived IMD deciles as a third measure changes the plan:

# %%
wards = study.wards.join(equity.need_by_area(demand))
need = localities.partition(
    wards,
    k=study.n_localities,
    rules=localities.PartitionRules(measures=("population", "assets", "residents_imd_1_2")),
)
print(f"today: worst deviation {study.plan.objective:.1%} ({study.plan.status})")
print(f"with need: worst deviation {need.objective:.1%} ({need.status})")
in_need = wards.groupby(need.assignment)["residents_imd_1_2"].sum()
need.summary[["population", "assets", "wards"]].join(in_need)

# %%
today = wards.groupby(study.plan.assignment)["residents_imd_1_2"].sum()
today.rename("residents_imd_1_2 (today's plan)").to_frame()
