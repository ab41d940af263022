"""Hub candidates: the register's community sites, user additions, and the council's list.

In: the asset register (indexed by ``asset_id``), optionally the Code-Point postcodes
(for new sites) and the council's named hubs (from the area profile). Out: a
GeoDataFrame of candidates indexed by ``hub_id`` in tie-break order, and a table saying
which of the council's named sites the register holds. Nothing is invented: a named
site that is not in the register is reported missing, with how to add it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo.data import normalise_postcode

__all__ = [
    "CANDIDATE_COLUMNS",
    "DEFAULT_CATEGORIES",
    "NamedHub",
    "NewSite",
    "hub_candidates",
    "named_sites",
]

#: Register categories that can host a community hub by default, in tie-break order: a
#: council community centre wins a tie with the library it shares a building with.
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "LBC Community Centre",
    "Community Centre",
    "Library",
    "Council",
)

#: Columns of :func:`hub_candidates` (besides ``geometry``).
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "name",
    "category",
    "ward_code",
    "ward_name",
    "postcode",
    "source",
)


@dataclass(frozen=True)
class NewSite:
    """A hub site that is not in the register: a name and the postcode it stands at.

    Its position is the Code-Point centroid of the postcode (an approximation of the
    building, stated in the candidate's ``source``).
    """

    name: str
    postcode: str


@dataclass(frozen=True)
class NamedHub:
    """A hub the council names, and the register name that is that site ("" if none).

    Attributes
    ----------
    name
        The council's name, e.g. ``"Hockwell Ring Community Centre"``.
    register_name
        The name of the same site in the register (compared without case), e.g.
        ``"Hockwell Community Centre"``; empty when the council names no site (a new
        hub), which is then reported missing.
    """

    name: str
    register_name: str = ""


def _match_names(register: pd.DataFrame, wanted: str) -> list[str]:
    """Asset ids whose name equals ``wanted`` (no case); else those that contain it."""
    names = register["name"].astype(str).str.strip().str.casefold()
    key = wanted.strip().casefold()
    exact = register.index[names == key].tolist()
    if exact:
        return [str(a) for a in exact]
    return [str(a) for a in register.index[names.str.contains(key, regex=False)]]


def _new_sites(sites: Sequence[NewSite], postcodes: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    problems: list[str] = []
    rows, geoms, ids = [], [], []
    for i, site in enumerate(sites):
        pc = normalise_postcode(site.postcode)
        where = f"new site {i + 1} ({site.name!r})"
        if pc is None:
            problems.append(f"{where}: {site.postcode!r} is not a UK postcode")
            continue
        if postcodes is None or pc not in postcodes.index:
            problems.append(f"{where}: postcode {pc} is not in the area's Code-Point file")
            continue
        rec = postcodes.loc[pc]
        ids.append(f"new-{pc.replace(' ', '')}")
        rows.append(
            {
                "name": site.name,
                "category": "New site",
                "ward_code": rec["ward_code"],
                "ward_name": rec["ward_name"],
                "postcode": pc,
                "source": f"new site at postcode {pc} (Code-Point Open centroid)",
            }
        )
        geoms.append(rec.geometry)
    if problems:
        raise NwmGeoError("Cannot add hub candidates: " + "; ".join(problems))
    crs = postcodes.crs if postcodes is not None else None
    return gpd.GeoDataFrame(rows, geometry=geoms, index=pd.Index(ids, name="hub_id"), crs=crs)


@checks_crs
def hub_candidates(
    register: gpd.GeoDataFrame,
    *,
    categories: Sequence[str] | None = None,
    add_ids: Sequence[str] = (),
    add_names: Sequence[str] = (),
    new_sites: Sequence[NewSite] = (),
    postcodes: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return the sites that could be a locality's community hub.

    Parameters
    ----------
    register
        The asset register, indexed by ``asset_id``, with ``name``, ``category``,
        ``ward_code``, ``ward_name``, ``inside_area`` (and ``postcode``) and geometry.
    categories
        Register categories taken whole (default :data:`DEFAULT_CATEGORIES`); only sites
        inside the area are taken.
    add_ids
        More register sites by ``asset_id``.
    add_names
        More register sites by name: the site whose name equals the text (no case), or
        else the one site whose name contains it.
    new_sites
        Sites not in the register, each at a postcode (needs ``postcodes``).
    postcodes
        The area's Code-Point postcodes (:func:`nwm_geo.data.load_postcodes`).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``hub_id`` (the ``asset_id``, or ``new-<postcode>``) with
        :data:`CANDIDATE_COLUMNS` and geometry, in tie-break order: the categories in
        order (each by asset id), then the additions in the order given.

    Raises
    ------
    NwmGeoError
        Listing every addition that is unknown, ambiguous or outside the area's wards.
    """
    cats = tuple(DEFAULT_CATEGORIES if categories is None else categories)
    inside = register["inside_area"].astype(bool) & register["ward_code"].notna()
    picked = register[inside & register["category"].isin(cats)].copy()
    picked["_order"] = picked["category"].map({c: i for i, c in enumerate(cats)})
    picked["source"] = "register: " + picked["category"].astype(str)
    picked = picked.loc[sorted(picked.index, key=lambda a: (picked.at[a, "_order"], str(a)))]
    problems: list[str] = []
    extra: list[tuple[str, str]] = []
    for aid in add_ids:
        if aid not in register.index:
            problems.append(f"asset id {aid!r} is not in the register")
        else:
            extra.append((str(aid), f"register, added by id {aid}"))
    for text in add_names:
        ids = _match_names(register, text)
        if len(ids) != 1:
            found = "no site" if not ids else f"{len(ids)} sites ({', '.join(ids[:8])})"
            problems.append(f"name {text!r} matches {found} in the register")
        else:
            extra.append((ids[0], f"register, added by name {text!r}"))
    for aid, _ in extra:
        if aid in register.index and not bool(inside.get(aid, False)):
            problems.append(f"asset {aid!r} lies outside the area's wards")
    if problems:
        raise NwmGeoError("Cannot add hub candidates: " + "; ".join(problems))
    added = [(a, s) for a, s in dict(extra).items() if a not in picked.index]
    more = register.loc[[a for a, _ in added]].copy()
    more["source"] = [s for _, s in added]
    if "postcode" not in register.columns:
        picked["postcode"], more["postcode"] = "", ""
    out = pd.concat([picked, more])
    out = gpd.GeoDataFrame(out, geometry=register.geometry.name, crs=register.crs)
    out = out[[*CANDIDATE_COLUMNS, out.geometry.name]]
    out.index = pd.Index(out.index.astype(str), name="hub_id")
    if new_sites:
        new = _new_sites(new_sites, postcodes).to_crs(out.crs)
        geom = out.geometry.name
        if new.geometry.name != geom:
            new = new.rename_geometry(geom)
        out = gpd.GeoDataFrame(pd.concat([out, new]), geometry=geom, crs=out.crs)
    if not out.index.is_unique:
        dup = sorted(set(out.index[out.index.duplicated()]))
        raise NwmGeoError(f"Cannot add hub candidates: id(s) {dup} given twice")
    return out


def named_sites(register: pd.DataFrame, named: Sequence[NamedHub]) -> pd.DataFrame:
    """Which of the council's named hubs the register holds, and which are missing.

    Parameters
    ----------
    register
        The asset register (``name``, ``category``, ``ward_name``), by ``asset_id``.
    named
        The council's named hubs (:class:`NamedHub`; the area profile's ``[hubs]``).

    Returns
    -------
    pandas.DataFrame
        One row per named hub: ``named_hub``, ``in_register`` (bool), ``asset_id``,
        ``register_name``, ``category``, ``ward_name``, ``note`` (for a missing site,
        how to add it; never a made-up site).
    """
    rows = []
    for hub in named:
        ids = _match_names(register, hub.register_name) if hub.register_name else []
        exact = [
            a
            for a in ids
            if str(register.at[a, "name"]).strip().casefold()
            == hub.register_name.strip().casefold()
        ]
        if len(exact) == 1:
            a = exact[0]
            note = str(register.at[a, "subtype"]) if "subtype" in register.columns else ""
            rows.append(
                {
                    "named_hub": hub.name,
                    "in_register": True,
                    "asset_id": a,
                    "register_name": str(register.at[a, "name"]),
                    "category": str(register.at[a, "category"]),
                    "ward_name": str(register.at[a, "ward_name"]),
                    "note": "" if note == "nan" else note,
                }
            )
            continue
        if not hub.register_name:
            why = "no site is named for it yet"
        else:
            why = f"no register site is named {hub.register_name!r}"
        rows.append(
            {
                "named_hub": hub.name,
                "in_register": False,
                "asset_id": "",
                "register_name": "",
                "category": "",
                "ward_name": "",
                "note": (
                    f"missing: {why}; add it as a candidate by asset id, by name, or as a "
                    "new site at its postcode"
                ),
            }
        )
    cols = [
        "named_hub",
        "in_register",
        "asset_id",
        "register_name",
        "category",
        "ward_name",
        "note",
    ]
    return pd.DataFrame(rows, columns=cols)
