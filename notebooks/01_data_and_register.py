# %% [markdown]
# # 1. Data and the asset register
#
# The council's own register of **287 mapped community assets** is not public. This
# notebook assembles the closest honest register from the real open data in the bundle
# (schools, NHS, libraries, places of worship, courts, police, fire, centres), shows how far
# it is from the council's 287, category by category, and builds the residential demand
# points that carry Census 2021 population. Nothing here is invented: every row has a
# source, and every shortfall is reported as a gap.

# %%
import nwm_geo
from nwm_geo import data

# Project root as working directory; ../shared/data imported into data/raw (sha256-checked).
nwm_geo.notebook_setup()

# %% [markdown]
# ## The register, assembled from the open data

# %%
luton = data.open_area("luton")  # the profile and data/raw; each table is read once
register, merges = luton.assets, luton.merges
print(f"{len(register)} sites; {int(register['inside_area'].sum())} inside Luton")
register[["name", "category", "postcode", "ward_name", "inside_area", "source"]].head(10)

# %% [markdown]
# ## How far is it from the council's 287?
#
# `council_count` is the council's own mapped count; `gap` is what the open data does not
# have. The gap is reported, never filled with made-up rows.

# %%
data.reconciliation(register, area=luton.profile)

# %% [markdown]
# The same site in two files was merged once; each merge is logged:

# %%
merges

# %% [markdown]
# Records dropped by rule (not sites, or closed), each with its reason:

# %%
luton.exclusions

# %% [markdown]
# ## Wards and residential demand points
#
# Each Census 2021 LSOA total is spread over its Code-Point postcodes, weighted by the 2011
# Output Area population per postcode, and integerised so the points add up exactly to
# the LSOA totals.

# %%
wards = luton.wards_in(2023)
points = luton.population
lsoas = luton.lsoas
check = points.groupby("lsoa_code")["population"].sum().reindex(lsoas.index)
assert (check == lsoas["population"]).all()
print(
    f"{len(points):,} demand points carry {points['population'].sum():,} residents "
    f"in {len(wards)} wards"
)

# %%
table = data.ward_table(wards, register, points)
table.sort_values("population", ascending=False)

# %%
ax = wards.plot(color="white", edgecolor="grey", figsize=(7, 7))
points.plot(ax=ax, markersize=points["population"] / 40, color="tab:blue", alpha=0.4)
register[register["inside_area"]].plot(ax=ax, markersize=8, color="tab:red")
ax.set_title("Luton: demand points (blue, sized by population) and register sites (red)")
ax.set_axis_off()
