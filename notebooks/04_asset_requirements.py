# %% [markdown]
# # 4. Outline of asset requirements
#
# Per locality and category: the assets the model needs (those whose closure would leave
# residents without a 15-minute walk), those other assets fully cover, the residents beyond
# 15 minutes, the smallest set of today's assets that keeps today's coverage (exact, HiGHS),
# the best new sites to close gaps (exact, HiGHS), and the assets that need a business case
# under written rules.

# %%
import nwm_geo
from nwm_geo import coverage, data, maps, settings

# Project root as working directory; ../shared/data imported into data/raw (sha256-checked).
nwm_geo.notebook_setup()

study = nwm_geo.Study.from_outputs()  # the plan nwm-geo saved, not re-solved
outline = study.outline
print(outline.method)

# %%
outline.summary.xs("Luton", level="locality")[
    [
        "population",
        "covered_share",
        "gap_population",
        "n_assets",
        "n_required",
        "n_redundant",
        "n_in_minimal_cover",
    ]
]

# %% [markdown]
# Every optimisation's proof status, checked against HiGHS's own model status:

# %%
outline.solver_status

# %% [markdown]
# ## The business-case rules and list

# %%
for rule, text in outline.rules.items():
    print(f"{rule}: {text}")

# %%
outline.business_case.groupby(["locality", "rule"]).size().unstack(fill_value=0)

# %% [markdown]
# The rules follow who owns the asset: the council's own (retain and invest, or review),
# partner public sector and community and faith (secure access or a partnership). A
# row in a category where the open register is short of the council's count says so.

# %%
outline.business_case.groupby(["rule", "owner_type"]).size()

# %% [markdown]
# Why rule R4 (review a council asset) fires or not, asset by asset:

# %%
outline.council_overlap

# %% [markdown]
# The one site per locality that best serves all three bundles together:

# %%
outline.combined_sites

# %% [markdown]
# ## One locality in detail

# %%
name = outline.localities[0]
tables = outline.for_locality(name)
print(name)
tables["required"].head(10)

# %%
tables["new_sites"]

# %% [markdown]
# ## Where are the gaps?

# %%
maps.gaps_map(
    outline.gap_points,
    measures=list(settings.BUNDLES),
    wards=study.wards,
    page=maps.MapPage(network_label=study.network_label),
)

# %%
maps.plot_coverage(
    study.demand,
    study.minutes_to_nearest,
    measures=list(settings.BUNDLES),
    wards=study.wards,
    page=maps.MapPage(network_label=study.network_label),
)

# %% [markdown]
# ## The requirements on one map
#
# Required assets, the business cases and the suggested new sites; click a marker for the
# asset's owner type, its role and the residents who depend on it.

# %%
maps.requirements_map(
    outline,
    study.register,
    wards=study.wards,
    assignment=study.plan.assignment,
    page=maps.MapPage(network_label=study.network_label),
)

# %% [markdown]
# The printable pack (`reports/locality_pack.pdf` after `nwm-geo run`) draws one page per
# locality with `maps.plot_locality`; here, the first locality with its gaps hatched.

# %%
gaps = coverage.catchment_cells(
    study.demand,
    study.minutes_to_nearest,
    boundary=data.borough_boundary(study.wards),
    columns=list(study.bundles),
    beyond=True,
)
first = outline.localities[0]
maps.plot_locality(
    study.wards,
    study.plan.assignment,
    first,
    layers=maps.LocalityLayers(
        assets=study.register[study.locality_of(study.register) == first],
        required=list(outline.required.index),
        sites=outline.new_sites[outline.new_sites["locality"] == first],
        gaps=gaps,
    ),
    page=maps.MapPage(network_label=study.network_label),
)
