"""Defaults used across nwm_geo.

Plain module variables, read at call time, so they can be changed for a
session (``nwm_geo.settings.walk_minutes = 10``). Every function that uses one
also takes it as a keyword-only argument, which wins over the setting.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "BUNDLES",
    "CATEGORIES",
    "CATEGORY_OWNERS",
    "OWNER_TYPES",
    "WALK_SPEED_SOURCES",
    "attribution",
    "crs",
    "default_area",
    "new_site_min_residents",
    "new_site_spacing_m",
    "project_dir",
    "raw_dir",
    "reports_dir",
    "shared_data_dir",
    "snap_flag_m",
    "walk_minutes",
    "walk_speed_by_age_m_per_min",
    "walk_speed_m_per_min",
    "wgs84",
]

#: The area profile used when none is given (:mod:`nwm_geo.areas`).
default_area: str = "luton"

#: Walking speed in metres per minute (4.8 km/h).
walk_speed_m_per_min: float = 80.0

#: Walking speed per Census 2021 broad age band, metres per minute; ``None`` means the
#: default :data:`walk_speed_m_per_min`. The equity tables (:mod:`nwm_geo.equity`)
#: convert each point's network distance to minutes at its residents' band speed.
#:
#: - ``age_65_plus``: **50.8 m/min** (0.846 m/s). Source: Asher L. et al., "Most older
#:   pedestrians are unable to cross the road in time: a cross-sectional study", *Age
#:   and Ageing* (2012): Health Survey for England 2005, a random sample of 3,145
#:   adults aged 65 and over (1,444 men) timed over 8 feet at their normal pace; mean
#:   walking speed 0.9 m/s for men and 0.8 m/s for women. 50.8 m/min is the mean of the
#:   two published means weighted by the study's 1,444 men and 1,701 women
#:   ((1444 × 0.9 + 1701 × 0.8) / 3145 × 60); the published means are rounded to
#:   0.1 m/s, so the figure is good to about ±3 m/min.
#: - ``age_0_15`` to ``age_50_64``: the default (``None``). No age-specific source is
#:   applied: the gait-speed literature (e.g. Bohannon & Andrews, "Normal walking
#:   speed: a descriptive meta-analysis", *Physiotherapy* 2011) reports laboratory
#:   speeds for healthy adults from 94.3 cm/s (women aged 80–99) to 143.4 cm/s (men
#:   aged 40–49), not street speeds comparable with the 80 m/min planning default, and
#:   no figure was found for children walking to local services.
walk_speed_by_age_m_per_min: dict[str, float | None] = {
    "age_0_15": None,
    "age_16_24": None,
    "age_25_34": None,
    "age_35_49": None,
    "age_50_64": None,
    "age_65_plus": 50.8,
}

#: Where each age band's walking speed comes from (quoted by the workbook, maps and CSVs).
WALK_SPEED_SOURCES: dict[str, str] = {
    "age_0_15": "default speed (no age-specific source applied)",
    "age_16_24": "default speed (no age-specific source applied)",
    "age_25_34": "default speed (no age-specific source applied)",
    "age_35_49": "default speed (no age-specific source applied)",
    "age_50_64": "default speed (no age-specific source applied)",
    "age_65_plus": (
        "Asher et al., Age and Ageing 2012 (Health Survey for England 2005, 3,145 adults "
        "65+): mean 0.9 m/s men, 0.8 m/s women; weighted by the study's men and women"
    ),
}

#: The walk-time threshold, in minutes, for "within a 15-minute walk".
walk_minutes: float = 15.0

#: Working CRS: British National Grid, metres.
crs: str = "EPSG:27700"

#: Geographic CRS for published lon/lat.
wgs84: str = "EPSG:4326"

#: A suggested new site must newly bring at least this many residents within the walk;
#: one that adds fewer is not a suggestion. A policy choice, not data.
new_site_min_residents: float = 100.0

#: No two suggested new sites of one bundle lie closer than this (metres).
new_site_spacing_m: float = 400.0

#: Points snapped farther than this from the street network are flagged (metres).
snap_flag_m: float = 250.0

#: The register's category vocabulary, in order: the 14 categories every register is
#: mapped to (spelled exactly; synonyms are resolved to them). It holds for every
#: council; an area profile picks the ones it uses (``categories``) and carries its own
#: published counts (``[council_counts]``: Luton's 287 are in ``luton.toml``), and a
#: study reads both from its area (:attr:`nwm_geo.areas.Area.categories`).
CATEGORIES: tuple[str, ...] = (
    "Religious Institution",
    "Education",
    "GP / Medical Centre",
    "Community Centre",
    "Sports and Leisure",
    "Library",
    "LBC Community Centre",
    "Council",
    "Crime and Justice",
    "Health",
    "Advice Services",
    "Fire and rescue",
    "Cultural Centre",
    "Charity",
)

#: Who owns or runs a site, in three kinds: the business case for a site depends on it
#: (the council can invest in its own assets; it can only seek access to, or a
#: partnership with, the others).
OWNER_TYPES: tuple[str, ...] = ("council", "partner public sector", "community and faith")

#: The default owner type of each category, used when an area profile has no
#: ``[owners]`` entry for it and a register row gives no ``owner_type``.
#:
#: - council: the council's own community centres, its libraries and its buildings.
#: - partner public sector: schools (maintained schools and academies are run by local
#:   authorities, trusts and the DfE, not by the property lead), GP practices and other
#:   NHS sites, police, courts and probation, and the fire and rescue service.
#: - community and faith: places of worship, community centres run by residents'
#:   associations and trusts, sports clubs and leisure venues that are not the
#:   council's, advice services (Citizens Advice and similar charities), cultural
#:   centres and charities.
CATEGORY_OWNERS: dict[str, str] = {
    "Religious Institution": "community and faith",
    "Education": "partner public sector",
    "GP / Medical Centre": "partner public sector",
    "Community Centre": "community and faith",
    "Sports and Leisure": "community and faith",
    "Library": "council",
    "LBC Community Centre": "council",
    "Council": "council",
    "Crime and Justice": "partner public sector",
    "Health": "partner public sector",
    "Advice Services": "community and faith",
    "Fire and rescue": "partner public sector",
    "Cultural Centre": "community and faith",
    "Charity": "community and faith",
}

#: The neighbourhood model's bundle: "somewhere to go, something to do, someone to see".
#: Each bundle is met by the nearest asset of any of its categories. Change it here or
#: pass ``bundles=`` to the coverage functions.
BUNDLES: dict[str, tuple[str, ...]] = {
    "somewhere to go": (
        "Community Centre",
        "LBC Community Centre",
        "Library",
        "Religious Institution",
        "Cultural Centre",
    ),
    "something to do": (
        "Sports and Leisure",
        "Library",
        "Cultural Centre",
        "Community Centre",
        "LBC Community Centre",
    ),
    "someone to see": (
        "GP / Medical Centre",
        "Health",
        "Advice Services",
        "Council",
        "Charity",
        "LBC Community Centre",
    ),
}

#: Attribution for published maps and tables.
attribution: str = (
    "Contains OS data © Crown copyright and database right 2025 (OS Code-Point Open, OGL v3); "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025; "
    "Contains National Statistics data © Crown copyright and database right 2025 "
    "(ONS boundaries and Census 2021/2011, OGL v3); "
    "English Indices of Deprivation 2019 (MHCLG, OGL v3); "
    "asset sources as listed per row (DfE GIAS, NHS ODS, FSA FHRS, HMCTS, Home Office, "
    "Libraries Hacked, MuslimsInBritain.org 2016, Arts Council England); "
    "street network © OpenStreetMap contributors (ODbL) where OSM is used."
)


def project_dir() -> Path:
    """Return the project directory that holds ``data/`` and ``reports/``.

    ``NWM_GEO_PROJECT_DIR`` if set, otherwise the current working directory.
    """
    return Path(os.environ.get("NWM_GEO_PROJECT_DIR", os.getcwd())).resolve()


def shared_data_dir() -> Path:
    """Return the shared open-data bundle directory.

    ``NWM_GEO_SHARED_DATA`` if set, otherwise ``../shared/data`` from the project directory.
    """
    env = os.environ.get("NWM_GEO_SHARED_DATA")
    if env:
        return Path(env).resolve()
    return (project_dir().parent / "shared" / "data").resolve()


def raw_dir() -> Path:
    """Return ``data/raw`` under the project directory (the imported bundle)."""
    return project_dir() / "data" / "raw"


def reports_dir() -> Path:
    """Return ``reports`` under the project directory (spreadsheet, maps, index)."""
    return project_dir() / "reports"
