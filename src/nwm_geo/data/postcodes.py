"""Postcodes: normalise UK postcodes and load OS Code-Point Open for an area.

In: the Code-Point file named by the area profile (Luton: the LU area file, 6,434
postcodes, 3,233 in Luton; Rutland: its own 1,279).
Out: a GeoDataFrame of postcode points in EPSG:27700, indexed by ``postcode``.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd

from nwm_geo import settings
from nwm_geo.areas import ProfileError
from nwm_geo.data._files import AreaFiles

__all__ = ["load_postcodes", "normalise_postcode"]

# Outward code: area (1-2 letters) + district (digit, digit+digit or digit+letter);
# inward code: digit + 2 letters (never C I K M O V). Plus the special GIR 0AA.
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(value: object) -> str | None:
    """Return a UK postcode in its standard form, or ``None`` if it is not one.

    Upper-cases, removes all spaces and puts one space before the 3-character inward
    code: ``"lu11aa"`` and ``"LU1  1AA"`` both become ``"LU1 1AA"``.

    Parameters
    ----------
    value
        Anything; non-strings and blanks give ``None``.

    Returns
    -------
    str or None
        The normalised postcode, or ``None`` when the text does not have the shape of
        a UK postcode. The shape is checked, not whether the postcode exists.

    Examples
    --------
    >>> from nwm_geo import data
    >>> data.normalise_postcode(" lu12bq ")
    'LU1 2BQ'
    """
    if value is None or not isinstance(value, str):
        return None
    compact = re.sub(r"\s+", "", value).upper()
    if compact == "GIR0AA":
        return "GIR 0AA"
    m = _POSTCODE.match(compact)
    if m is None:
        return None
    return f"{m.group(1)} {m.group(2)}"


def load_postcodes(area: AreaFiles) -> gpd.GeoDataFrame:
    """Load the Code-Point Open postcodes of an area's bundle (Luton: the LU area).

    Cached: :attr:`~nwm_geo.data.AreaData.postcodes`.

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``postcode`` (normalised), with ``easting``, ``northing`` (BNG
        metres), ``lon``, ``lat``, ``pos_quality``, ``admin_district_code``,
        ``ward_code``, ``ward_name`` (without the trailing " Ward"), ``in_borough``
        (``admin_district_code`` is the area's district code) and point ``geometry`` in
        :data:`nwm_geo.settings.crs`.

    Raises
    ------
    ProfileError
        If no postcode carries the profile's district code (a wrong ``district_code``).
    """
    prof = area.profile
    path = area.path(prof.files["postcodes"])
    raw = pd.read_csv(
        path, dtype={"postcode": str, "admin_district_code": str, "admin_ward_code": str}
    )
    out = pd.DataFrame(
        {
            "postcode": [normalise_postcode(p) or str(p) for p in raw["postcode"]],
            "easting": raw["easting"].astype(float),
            "northing": raw["northing"].astype(float),
            "lon": raw["lon"].astype(float),
            "lat": raw["lat"].astype(float),
            "pos_quality": raw["pos_quality"].astype(int),
            "admin_district_code": raw["admin_district_code"],
            "ward_code": raw["admin_ward_code"],
            "ward_name": raw["admin_ward_name"].str.replace(r"\s+Ward$", "", regex=True),
        }
    )
    out["in_borough"] = out["admin_district_code"] == prof.district_code
    if not out["in_borough"].any():
        found = ", ".join(sorted(set(out["admin_district_code"].dropna()))[:5])
        raise ProfileError(
            f"area profile {prof.profile}: key 'district_code': no postcode in {path.name} "
            f"has district code {prof.district_code} (the file holds {found}); "
            "check the profile's district_code"
        )
    geometry = gpd.points_from_xy(out["easting"], out["northing"], crs="EPSG:27700")
    gdf = gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:27700").set_index("postcode")
    if settings.crs != "EPSG:27700":
        gdf = gdf.to_crs(settings.crs)
    return gdf
