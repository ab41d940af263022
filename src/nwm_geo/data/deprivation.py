"""Deprivation: the English Indices of Deprivation 2019 on the LSOA 2011 boundaries.

In: the area's LSOA 2011 boundaries and its IMD 2019 file (the ``imd_2019`` entry of
the area profile; MHCLG, OGL v3). Out: :func:`load_imd`, a GeoDataFrame of LSOA 2011
polygons carrying the national IMD rank, the IMD decile and quintile and the seven
domain deciles, which :func:`nwm_geo.data.build_demand_points` gives each demand point.

Deciles are national (1 = the 10 % most deprived LSOAs in England); the quintile is
``ceil(decile / 2)`` (1 = the 20 % most deprived).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from nwm_geo._errors import DataValidationError, NwmGeoError, Problem
from nwm_geo.data._files import AreaFiles
from nwm_geo.data._tables import cell_text
from nwm_geo.data.boundaries import load_lsoas

__all__ = ["DOMAIN_DECILES", "IMD_COLUMNS", "load_imd"]

#: The seven IMD 2019 domain deciles, named as in the IMD file.
DOMAIN_DECILES: tuple[str, ...] = (
    "income_decile",
    "employment_decile",
    "education_skills_and_training_decile",
    "health_deprivation_and_disability_decile",
    "crime_decile",
    "barriers_to_housing_and_services_decile",
    "living_environment_decile",
)

#: The deprivation columns :func:`load_imd` gives and every demand point carries.
IMD_COLUMNS: tuple[str, ...] = (
    "lsoa11_code",
    "imd_rank",
    "imd_decile",
    "imd_quintile",
    *DOMAIN_DECILES,
)

#: File column -> demand column for the overall index (the domains keep their names).
_FILE_COLUMNS: dict[str, str] = {
    "index_of_multiple_deprivation_imd_rank": "imd_rank",
    "index_of_multiple_deprivation_imd_decile": "imd_decile",
}


def _problems(table: pd.DataFrame, name: str) -> list[Problem]:
    """Every cell of the IMD file that is not a valid rank or decile."""
    problems = []
    for col in [*_FILE_COLUMNS, *DOMAIN_DECILES]:
        if col not in table.columns:
            problems.append(Problem(name, None, col, "", "column is missing"))
            continue
        values = pd.to_numeric(table[col], errors="coerce")
        top = 10 if col.endswith("decile") else 40_000  # 32,844 LSOAs in England (2011)
        for i, v in enumerate(values):
            if pd.isna(v) or v != int(v) or not 1 <= v <= top:
                reason = f"must be a whole number from 1 to {top:,}"
                problems.append(Problem(name, i + 1, col, cell_text(table[col].iloc[i]), reason))
    return problems


def load_imd(area: AreaFiles) -> gpd.GeoDataFrame:
    """Load the LSOA 2011 polygons of an area with their IMD 2019 rank and deciles.

    Cached: :attr:`~nwm_geo.data.AreaData.deprivation`.

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``lsoa11_code`` (Luton: 121), EPSG:27700, with ``imd_rank`` (1 = the
        most deprived LSOA in England), ``imd_decile``, ``imd_quintile`` and the
        :data:`DOMAIN_DECILES`, all integers, and ``geometry``.

    Raises
    ------
    DataValidationError
        If a column is missing or a cell is not a valid rank or decile (every problem,
        with file, row and column), or an LSOA 2011 boundary has no IMD row.
    NwmGeoError
        If the area profile names no IMD file.
    """
    prof = area.profile
    relative = prof.files.get("imd_2019", "")
    if not relative:
        raise NwmGeoError(f"the area profile {prof.profile} names no IMD file ([files] imd_2019)")
    path = area.path(relative)
    table = pd.read_csv(path, dtype={"lsoa11_code": str})
    name = path.name
    problems = _problems(table, name)
    if "lsoa11_code" not in table.columns:
        problems.insert(0, Problem(name, None, "lsoa11_code", "", "column is missing"))
    if problems:
        raise DataValidationError(problems)
    table = table.set_index("lsoa11_code").rename(columns=_FILE_COLUMNS)
    cols = ["imd_rank", "imd_decile", *DOMAIN_DECILES]
    values = table[cols].apply(pd.to_numeric).astype(int)
    values.insert(2, "imd_quintile", (values["imd_decile"] + 1) // 2)
    lsoas = load_lsoas(area, year=2011)
    missing = lsoas.index.difference(values.index)
    if len(missing):
        why = "LSOA 2011 has no IMD row"
        raise DataValidationError([Problem(name, None, "lsoa11_code", c, why) for c in missing])
    out = gpd.GeoDataFrame(
        values.reindex(lsoas.index), geometry=lsoas.geometry.values, crs=lsoas.crs
    )
    out.index.name = "lsoa11_code"
    return out
