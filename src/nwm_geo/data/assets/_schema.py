"""The register schema: columns, categories and their synonyms, column aliases."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from nwm_geo import settings

#: Register columns, in order. ``asset_id`` is the index of the GeoDataFrame and the
#: first column of the CSV.
REGISTER_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "name",
    "category",
    "owner_type",
    "subtype",
    "address",
    "postcode",
    "lon",
    "lat",
    "easting",
    "northing",
    "ward_code",
    "ward_name",
    "inside_area",
    "source",
    "source_record_id",
    "source_date",
    "licence",
)

#: The asset id of the register template's example row; :func:`read_register` refuses it.
EXAMPLE_ID: str = "EXAMPLE-DELETE-ME"

#: Extra columns kept after :data:`REGISTER_COLUMNS` in the GeoDataFrame and GeoPackage.
EXTRA_COLUMNS: tuple[str, ...] = ("geocode", "notes")

#: Lower-cased synonyms -> the council's category (:data:`nwm_geo.settings.CATEGORIES`).
CATEGORY_SYNONYMS: dict[str, str] = {
    # GP / Medical Centre
    "gp": "GP / Medical Centre",
    "gp surgery": "GP / Medical Centre",
    "gp practice": "GP / Medical Centre",
    "general practice": "GP / Medical Centre",
    "surgery": "GP / Medical Centre",
    "doctors": "GP / Medical Centre",
    "doctor's surgery": "GP / Medical Centre",
    "doctors surgery": "GP / Medical Centre",
    "medical centre": "GP / Medical Centre",
    "medical center": "GP / Medical Centre",
    "health centre": "GP / Medical Centre",
    "gp / medical center": "GP / Medical Centre",
    # Religious Institution
    "mosque": "Religious Institution",
    "masjid": "Religious Institution",
    "prayer hall": "Religious Institution",
    "church": "Religious Institution",
    "chapel": "Religious Institution",
    "gurdwara": "Religious Institution",
    "temple": "Religious Institution",
    "mandir": "Religious Institution",
    "synagogue": "Religious Institution",
    "place of worship": "Religious Institution",
    "places of worship": "Religious Institution",
    "faith": "Religious Institution",
    "faith group": "Religious Institution",
    "religious": "Religious Institution",
    "religious institutions": "Religious Institution",
    # Education
    "school": "Education",
    "schools": "Education",
    "primary school": "Education",
    "secondary school": "Education",
    "infant school": "Education",
    "junior school": "Education",
    "special school": "Education",
    "academy": "Education",
    "nursery": "Education",
    "nursery school": "Education",
    "college": "Education",
    "sixth form college": "Education",
    "university": "Education",
    "education centre": "Education",
    # Community Centre
    "community centre": "Community Centre",
    "community center": "Community Centre",
    "community hall": "Community Centre",
    "village hall": "Community Centre",
    "community building": "Community Centre",
    # LBC Community Centre
    "lbc community centre": "LBC Community Centre",
    "council community centre": "LBC Community Centre",
    "council-run community centre": "LBC Community Centre",
    # Sports and Leisure
    "leisure centre": "Sports and Leisure",
    "sports centre": "Sports and Leisure",
    "sports": "Sports and Leisure",
    "leisure": "Sports and Leisure",
    "sport and leisure": "Sports and Leisure",
    "sports & leisure": "Sports and Leisure",
    "swimming pool": "Sports and Leisure",
    "gym": "Sports and Leisure",
    "sports club": "Sports and Leisure",
    # Library
    "library": "Library",
    "libraries": "Library",
    "library access point": "Library",
    # Council
    "council office": "Council",
    "council offices": "Council",
    "town hall": "Council",
    "civic centre": "Council",
    "council building": "Council",
    # Crime and Justice
    "police": "Crime and Justice",
    "police station": "Crime and Justice",
    "court": "Crime and Justice",
    "crown court": "Crime and Justice",
    "magistrates court": "Crime and Justice",
    "magistrates' court": "Crime and Justice",
    "probation office": "Crime and Justice",
    "crime & justice": "Crime and Justice",
    # Health
    "hospital": "Health",
    "clinic": "Health",
    "health": "Health",
    "health service": "Health",
    "urgent treatment centre": "Health",
    "walk-in centre": "Health",
    "walk in centre": "Health",
    "mental health": "Health",
    # Advice Services
    "advice": "Advice Services",
    "advice service": "Advice Services",
    "advice centre": "Advice Services",
    "citizens advice": "Advice Services",
    "citizens advice bureau": "Advice Services",
    # Fire and rescue
    "fire station": "Fire and rescue",
    "fire": "Fire and rescue",
    "fire & rescue": "Fire and rescue",
    "fire and rescue service": "Fire and rescue",
    # Cultural Centre
    "cultural centre": "Cultural Centre",
    "cultural center": "Cultural Centre",
    "arts centre": "Cultural Centre",
    "museum": "Cultural Centre",
    "theatre": "Cultural Centre",
    "gallery": "Cultural Centre",
    # Charity
    "charity": "Charity",
    "charities": "Charity",
    "voluntary organisation": "Charity",
    "voluntary sector": "Charity",
}

#: Rough bounds of Great Britain in lon/lat (min lon, min lat, max lon, max lat),
#: Scilly to Shetland. Points outside are reported; Ireland is not caught by a box.
GB_BOUNDS: tuple[float, float, float, float] = (-8.75, 49.8, 1.85, 60.95)

#: British National Grid extent in metres (min E, min N, max E, max N).
BNG_BOUNDS: tuple[float, float, float, float] = (0.0, 0.0, 700000.0, 1300000.0)

ALIASES: dict[str, tuple[str, ...]] = {
    "asset_id": ("asset_id", "asset id", "assetid", "id", "asset_ref", "asset ref", "ref"),
    "name": ("name", "asset name", "asset_name", "site name", "site_name", "site", "title"),
    "category": (
        "category",
        "asset category",
        "asset_category",
        "asset type",
        "asset_type",
        "type",
    ),
    "owner_type": (
        "owner_type",
        "owner type",
        "ownership",
        "ownership type",
        "owner category",
        "tenure type",
    ),
    "subtype": ("subtype", "sub type", "sub_type", "sub category", "sub_category", "subcategory"),
    "address": ("address", "full address", "address 1", "address1", "address_1", "street"),
    "postcode": ("postcode", "post code", "post_code", "postal code", "postal_code"),
    "lon": ("lon", "long", "longitude", "lng", "x_lon"),
    "lat": ("lat", "latitude", "y_lat"),
    "easting": ("easting", "eastings", "bng_e", "os_easting", "x_bng"),
    "northing": ("northing", "northings", "bng_n", "os_northing", "y_bng"),
    "source": ("source", "data source", "data_source"),
    "source_record_id": ("source_record_id", "source record id", "source_id", "record_id"),
    "source_date": ("source_date", "source date", "date", "as_at", "as at"),
    "licence": ("licence", "license"),
    "geocode": ("geocode", "geocoding", "location_source"),
    # not "comments": a council's comments column often holds contact notes; map it
    # explicitly (columns={"Comments": "notes"}) to publish it
    "notes": ("notes", "note"),
}
SCHEMA = set(REGISTER_COLUMNS) | set(EXTRA_COLUMNS)
DERIVED = {"ward_code", "ward_name", "inside_area", "in_borough"}


def normalise_owner(value: object) -> str | None:
    """Return an owner type (:data:`nwm_geo.settings.OWNER_TYPES`) in its spelling, or None.

    Case, spacing, hyphens and "&" for "and" do not matter ("Partner public-sector",
    "Community & Faith").

    Examples
    --------
    >>> from nwm_geo import data
    >>> data.normalise_owner("Council")
    'council'
    """
    if not isinstance(value, str):
        return None
    key = " ".join(value.strip().lower().replace("-", " ").replace("&", "and").split())
    return key if key in settings.OWNER_TYPES else None


def normalise_category(value: object) -> str | None:
    """Return the council's spelling of a category, or ``None`` if it is not one.

    Parameters
    ----------
    value
        A category as written in a file: a council category in any case
        ("religious institution") or a synonym from :data:`CATEGORY_SYNONYMS`
        ("Mosque", "GP surgery").

    Returns
    -------
    str or None
        One of :data:`nwm_geo.settings.CATEGORIES`, or ``None``.

    Examples
    --------
    >>> from nwm_geo import data
    >>> data.normalise_category("mosque"), data.normalise_category("Bowling alley")
    ('Religious Institution', None)
    """
    if not isinstance(value, str):
        return None
    key = " ".join(value.strip().lower().split())
    if not key:
        return None
    for cat in settings.CATEGORIES:
        if cat.lower() == key:
            return cat
    key_and = key.replace("&", "and")
    for cat in settings.CATEGORIES:
        if cat.lower() == key_and:
            return cat
    return CATEGORY_SYNONYMS.get(key) or CATEGORY_SYNONYMS.get(key_and)


def resolve_category(value: object, allowed: Sequence[str]) -> tuple[str | None, str]:
    """Return the category ``value`` names among ``allowed``, or why it names none.

    The one check wherever a category is taken (a register row, a what-if's new site):
    any case, ``&`` for "and", the synonyms of :data:`CATEGORY_SYNONYMS`, and a "did
    you mean" for a near miss.

    Parameters
    ----------
    value
        The category as written.
    allowed
        The categories of the area (:attr:`nwm_geo.areas.Area.categories`).

    Returns
    -------
    tuple
        ``(category, "")`` when found, else ``(None, reason)``.

    Examples
    --------
    >>> resolve_category("library", ["Library", "Education"])
    ('Library', '')
    >>> resolve_category("Libary", ["Library", "Education"])[1][:49]
    "unknown category 'Libary'; did you mean 'Library'"
    """
    cat = normalise_category(value)
    if cat is not None and cat in allowed:
        return cat, ""
    text = "" if value is None else str(value).strip()
    if not text:
        return None, "missing category"
    if cat is not None:
        return None, f"category '{cat}' is not used in this area; use one of: " + ", ".join(allowed)
    words = {c.lower(): c for c in allowed} | {
        k: v for k, v in CATEGORY_SYNONYMS.items() if v in allowed
    }
    close = difflib.get_close_matches(text.lower(), list(words), n=1, cutoff=0.6)
    hint = f"; did you mean '{words[close[0]]}'?" if close else ""
    return None, (
        f"unknown category '{text}'{hint} (one of: {', '.join(allowed)}, or a synonym in "
        "data.CATEGORY_SYNONYMS)"
    )


#: Columns of the merge log returned by :func:`build_open_register`.
MERGE_LOG_COLUMNS: tuple[str, ...] = (
    "kept_asset_id",
    "dropped_asset_id",
    "kept_name",
    "dropped_name",
    "category",
    "rule",
    "name_similarity",
    "distance_m",
    "kept_source",
    "dropped_source",
)
