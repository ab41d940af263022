"""The open-data register: each bundle file read by its adapter, then de-duplicated."""

from __future__ import annotations

import re
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from nwm_geo._checks import checks_crs
from nwm_geo._errors import DataValidationError, NwmGeoError
from nwm_geo.areas import Area, AssetSource
from nwm_geo.data._files import AreaFiles
from nwm_geo.data._tables import read_table
from nwm_geo.data.assets._dedupe import dedupe_sites
from nwm_geo.data.assets._read import Where, finish_register, register_from_frame
from nwm_geo.data.boundaries import load_wards
from nwm_geo.data.postcodes import load_postcodes, normalise_postcode


def _frame_gias(
    df: pd.DataFrame, src: AssetSource, area: Area
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    out = pd.DataFrame(
        {
            "asset_id": f"{src.prefix}-" + df["urn"],
            "name": df["establishment_name"],
            "category": "Education",
            "subtype": df["establishment_type"] + " (" + df["education_phase"] + ")",
            "address": "",
            "postcode": "",
            "easting": df["easting"],
            "northing": df["northing"],
            "source_record_id": "URN " + df["urn"],
            "geocode": "source (GIAS easting/northing)",
            "notes": "",
        }
    )
    return out, []


def _frame_ods(
    df: pd.DataFrame, src: AssetSource, area: Area
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    keep: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    for r in df.to_dict("records"):
        code = r["org_code"]
        setting = int(r["prescribing_setting"]) if r["prescribing_setting"].isdigit() else -1
        hospital = area.ods_hospital_postcode
        if code in area.ods_records:
            cat, reason = area.ods_records[code]
            rule = f"ODS record {code}"
        elif (
            hospital is not None
            and normalise_postcode(r["postcode"]) == hospital
            and area.ods_settings.get(setting, (None, ""))[0] not in (None, "GP / Medical Centre")
        ):
            cat, reason = (
                None,
                f"service inside {area.ods_hospital_name or 'the hospital'} ({hospital}), "
                "not a site of its own; the hospital is one asset",
            )
            rule = "ODS at hospital postcode"
        elif setting in area.ods_settings:
            cat, reason = area.ods_settings[setting]
            rule = f"ODS setting {setting}"
        else:
            cat, reason = None, f"prescribing setting {setting} has no rule"
            rule = "ODS unknown setting"
        if cat is None:
            dropped.append(
                {"source_file": "", "record": f"{code} {r['name']}", "rule": rule, "reason": reason}
            )
            continue
        address = ", ".join(x for x in (r["addr1"], r["addr2"], r["addr3"], r["addr4"]) if x)
        keep.append(
            {
                "asset_id": f"{src.prefix}-{code}",
                "name": r["name"].title().replace("'S ", "'s "),
                "category": cat,
                "subtype": f"{r['setting_label']} (ODS setting {setting})",
                "address": address,
                "postcode": r["postcode"],
                "easting": r["easting"],
                "northing": r["northing"],
                "source_record_id": f"ODS org code {code}; opened {r['open_date']}",
                "geocode": "postcode centroid (Code-Point Open 2025-10)",
                "notes": reason,
            }
        )
    return pd.DataFrame(keep), dropped


def _frame_libraries(
    df: pd.DataFrame, src: AssetSource, area: Area
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    keep: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    for i, r in enumerate(df.to_dict("records"), start=1):
        if r["Year closed"]:
            dropped.append(
                {
                    "source_file": "",
                    "record": r["Library name"],
                    "rule": "library closed",
                    "reason": f"a value in 'Year closed' means the library has closed "
                    f"(closed {r['Year closed']}); dropped",
                }
            )
            continue
        kind = {"CL": "council-run library", "LAL": "library (LAL)"}.get(
            r["Library type"], r["Library type"]
        )
        partner = r.get("Co-located with", "")
        subtype = kind + (f"; co-located with {partner}" if partner else "")
        uprn = r["Unique property reference number"]
        record_id = f"UPRN {uprn}" if uprn else f"row {i}"
        common = {
            "address": r["Address 1"],
            "postcode": r["Postcode"],
            "easting": r["easting"],
            "northing": r["northing"],
            "geocode": r["geocode"],
        }
        keep.append(
            {
                "asset_id": f"{src.prefix}-{i:04d}",
                "name": r["Library name"],
                "category": "Library",
                "subtype": subtype,
                "source_record_id": record_id,
                "notes": "",
                **common,
            }
        )
        if not partner:
            continue
        if src.co_located_category and _COMMUNITY_CENTRE.search(partner):
            # The centre shares the library's building: a site of its own, at the
            # library's sourced location. Other sources may list it too (merged then).
            name = " ".join(w if w.isupper() else w[:1].upper() + w[1:] for w in partner.split())
            keep.append(
                {
                    "asset_id": f"{src.prefix}-{i:04d}-centre",
                    "name": name,
                    "category": src.co_located_category,
                    "subtype": f"community centre co-located with {r['Library name']}",
                    "source_record_id": f"{record_id}, column 'Co-located with'",
                    "notes": "located at the library it shares a building with",
                    **common,
                }
            )
        else:
            dropped.append(
                {
                    "source_file": "",
                    "record": f"{partner} (co-located with {r['Library name']})",
                    "rule": "co-located service",
                    "reason": "a co-located service that is not a community centre (not one "
                    "of the council's categories); the library is kept",
                }
            )
    return pd.DataFrame(keep), dropped


def _frame_fire(
    df: pd.DataFrame, src: AssetSource, area: Area
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    out = pd.DataFrame(
        {
            "asset_id": [f"{src.prefix}-{i:04d}" for i in range(1, len(df) + 1)],
            "name": df["station_name"].where(
                df["station_name"].str.contains("fire station", case=False),
                df["station_name"] + " Fire Station",
            ),
            "category": "Fire and rescue",
            "subtype": "fire station (" + df["fire_service"] + " Fire and Rescue Service)",
            "address": df["address"],
            "postcode": df["postcode"],
            "easting": df["easting"],
            "northing": df["northing"],
            "source_record_id": [f"row {i}" for i in range(1, len(df) + 1)],
            "geocode": "source (Home Office easting/northing)",
            "notes": "",
        }
    )
    return out, []


def _frame_mosques(
    df: pd.DataFrame, src: AssetSource, area: Area
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    n = len(df)
    notes = [
        (f"capacity {c}; " if c else "") + "directory dated 2016-08"
        for c in df["capacity"].tolist()
    ]
    subtype = [
        "mosque / prayer hall" + (f" (MuslimsInBritain tags: {t})" if t else "")
        for t in df["tags"].tolist()
    ]
    out = pd.DataFrame(
        {
            "asset_id": [f"{src.prefix}-{i:04d}" for i in range(1, n + 1)],
            "name": df["name"],
            "category": "Religious Institution",
            "subtype": subtype,
            "address": df["address"] + f", {area.name}",
            "postcode": "",
            "lon": df["lon"],
            "lat": df["lat"],
            "source_record_id": [f"row {i}" for i in range(1, n + 1)],
            "geocode": "source (MuslimsInBritain lon/lat)",
            "notes": notes,
        }
    )
    return out, []


_COMMUNITY_CENTRE = re.compile(r"community\s+cent(re|er)", re.I)

_Adapter = Callable[[pd.DataFrame, AssetSource, Area], tuple[pd.DataFrame, list[dict[str, str]]]]
_ADAPTERS: dict[str, _Adapter] = {
    "gias": _frame_gias,
    "ods": _frame_ods,
    "libraries": _frame_libraries,
    "fire": _frame_fire,
    "mosques": _frame_mosques,
}


_HEADER_ONLY = "the file has a header but no data rows"


def _load_open_sources(
    files: AreaFiles,
    verbose: bool,
    postcodes: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
) -> tuple[list[gpd.GeoDataFrame], pd.DataFrame]:
    area, data_dir = files.profile, files.data_dir
    area.check_files(data_dir)
    if postcodes is None:
        postcodes = load_postcodes(files)
    if wards is None:
        wards = load_wards(files)
    where = Where(area, data_dir, wards=wards, postcodes=postcodes)
    parts: list[gpd.GeoDataFrame] = []
    excluded: list[dict[str, str]] = []
    for src in tqdm(area.sources, desc="asset files", disable=not verbose):
        frame, problems = read_table(files.path(src.file))
        if len(frame) == 0 and [p.reason for p in problems] == [_HEADER_ONLY]:
            continue  # a profile file with no site (a fringe source with none nearby)
        if problems:
            raise DataValidationError(problems)
        if src.adapter in _ADAPTERS:
            frame, dropped = _ADAPTERS[src.adapter](frame, src, area)
            for d in dropped:
                d["source_file"] = src.name
            excluded.extend(dropped)
            frame = frame.assign(
                source=src.source, source_date=src.source_date, licence=src.licence
            )
        else:
            frame = frame.assign(
                asset_id=[f"{src.prefix}-{i:04d}" for i in range(1, len(frame) + 1)]
            )
        part = register_from_frame(frame, src.name, where)
        if not src.inside:  # a fringe file: outside the area whatever the polygons say
            part["ward_code"], part["ward_name"], part["inside_area"] = "", "", False
        part["_rank"] = src.rank
        part["_file"] = src.name
        parts.append(part)
    return parts, pd.DataFrame(excluded, columns=["source_file", "record", "rule", "reason"])


def open_register_exclusions(area: AreaFiles) -> pd.DataFrame:
    """List the open-data records left out of :func:`build_open_register`, with why.

    Cached: :attr:`~nwm_geo.data.AreaData.exclusions`.

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).

    Returns
    -------
    pandas.DataFrame
        Columns ``source_file``, ``record``, ``rule`` and ``reason``, one row per
        source record that is not an asset site (PCNs, services inside the hospital,
        the closed library, prison healthcare...). Merged duplicates are in the merge
        log instead.
    """
    return _load_open_sources(area, False)[1]


@checks_crs
def build_open_register(
    area: AreaFiles,
    *,
    postcodes: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    verbose: bool = False,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Assemble the closest honest register from every open asset file of an area.

    The files and their rules come from the area profile (:mod:`nwm_geo.areas`):

    - ``gias`` schools: every open establishment -> Education.
    - ``ods`` (NHS ODS epraccur): by prescribing setting and per-record rules of the
      profile (GP practices -> GP / Medical Centre; urgent, out-of-hours and community
      services -> Health; PCNs, teams without a site, pharmacies and prison healthcare
      are dropped); services other than GP practices at the profile's hospital
      postcode are part of the hospital and dropped.
    - ``libraries``: a library with a closure year is dropped; a community centre
      named in ``Co-located with`` becomes a site of its own at the library's location,
      in the profile's ``co_located_category`` (Luton: the council's own centres).
    - ``fire``: all stations kept; those outside the area have ``inside_area = False``.
    - ``[[fringe]]`` files (sites just outside the area that residents walk to) are read
      like the others and every row gets ``inside_area = False`` and no ward.
    - ``mosques`` (MuslimsInBritain 2016) -> Religious Institution; phone dropped.
    - ``harmonised`` files (FHRS, OSM, courts, police, NHS Choices, ...) are read as
      registers with their own categories and provenance.
    - Phone numbers and named contacts are never read (:func:`is_personal_column`).
    - Duplicates across files are merged by :func:`dedupe_sites` (every merge logged);
      the record from the better source is kept (the order of ``[[sources]]``, then
      source coordinates over postcode centroids).

    Cached: :attr:`~nwm_geo.data.AreaData.assets` and
    :attr:`~nwm_geo.data.AreaData.merges`.

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).
    postcodes, wards
        The area's postcodes and current-pattern wards, when the caller has read them
        already (:attr:`~nwm_geo.data.AreaData.postcodes`,
        :attr:`~nwm_geo.data.AreaData.wards`); read from the bundle
        otherwise.
    verbose
        Show progress over the files.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        The register (as :func:`read_register`, sorted by ``asset_id``), and the merge
        log with one row per dropped duplicate (:data:`MERGE_LOG_COLUMNS`).
        Records dropped by rule are listed by :func:`open_register_exclusions`.
    """
    parts, _ = _load_open_sources(area, verbose, postcodes, wards)
    reg = pd.concat(parts)
    if reg.index.duplicated().any():
        dup = ", ".join(reg.index[reg.index.duplicated()][:5])
        raise NwmGeoError(f"duplicate asset ids across open files ({dup}); check the prefixes")
    reg = gpd.GeoDataFrame(reg, geometry="geometry", crs=parts[0].crs)
    reg, merge_log = dedupe_sites(reg)
    reg = reg.drop(columns=["_rank", "_file"]).sort_index()
    prof = area.profile
    for aid, name in zip(reg.index, reg["name"], strict=True):
        if (owner := prof.site_owner(aid, name)) is not None:
            reg.loc[aid, "owner_type"] = owner
    return finish_register(reg), merge_log
