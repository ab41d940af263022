"""Colours: one fixed palette per thing mapped, the same in folium and matplotlib.

- :data:`CATEGORY_COLOURS`: the council's 14 categories, in order.
- :data:`LOCALITY_COLOURS` and :func:`locality_colour`: the nine compass localities,
  and a stable colour (CRC32 of the name) from :data:`EXTRA_LOCALITY_COLOURS` for others.
- :data:`GAP_COLOUR`, :data:`COVERED_COLOUR`: residents beyond and within the walk.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np

from nwm_geo import settings

#: One colour per council category, in the council's order (settings.CATEGORIES).
CATEGORY_COLOURS: dict[str, str] = dict(
    zip(
        settings.CATEGORIES,
        (
            "#1f77b4",  # Religious Institution
            "#ff7f0e",  # Education
            "#2ca02c",  # GP / Medical Centre
            "#d62728",  # Community Centre
            "#9467bd",  # Sports and Leisure
            "#8c564b",  # Library
            "#e377c2",  # LBC Community Centre
            "#17becf",  # Council
            "#7f7f7f",  # Crime and Justice
            "#bcbd22",  # Health
            "#393b79",  # Advice Services
            "#ad494a",  # Fire and rescue
            "#637939",  # Cultural Centre
            "#e7969c",  # Charity
        ),
        strict=True,
    )
)

#: Fixed, distinct locality colours for the nine compass names that
#: :func:`nwm_geo.localities.partition` gives (Tableau 10); other names get a stable colour from
#: :data:`EXTRA_LOCALITY_COLOURS` by a CRC32 of the name (the same in every session).
LOCALITY_COLOURS: dict[str, str] = {
    "Central": "#e15759",
    "North": "#4e79a7",
    "North East": "#76b7b2",
    "East": "#59a14f",
    "South East": "#edc948",
    "South": "#f28e2b",
    "South West": "#9c755f",
    "West": "#b07aa1",
    "North West": "#ff9da7",
    "outside the borough": "#bab0ac",
}

#: Colours for locality names outside :data:`LOCALITY_COLOURS`, picked by CRC32 of the name.
EXTRA_LOCALITY_COLOURS: tuple[str, ...] = (
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#86bcb6",
    "#d37295",
    "#a0cbe8",
)

#: Colour of residents beyond the walk, and within it.
GAP_COLOUR: str = "#d7191c"
COVERED_COLOUR: str = "#1a9641"


def locality_colours(names: Iterable[str]) -> dict[str, str]:
    """Return distinct colours for a plan's localities (the same for the same names).

    Names in :data:`LOCALITY_COLOURS` keep their colour; the others, in name order, take
    the unused colours of :data:`LOCALITY_COLOURS` then :data:`EXTRA_LOCALITY_COLOURS`,
    so no two localities of a plan of up to 16 share a colour (plans are named after
    their wards, so a colour picked by name alone could repeat).

    Parameters
    ----------
    names
        The plan's locality names.

    Returns
    -------
    dict
        Name -> colour.
    """
    unique = sorted({str(n) for n in names})
    out = {n: LOCALITY_COLOURS[n] for n in unique if n in LOCALITY_COLOURS}
    palette = [*LOCALITY_COLOURS.values(), *EXTRA_LOCALITY_COLOURS]
    free = [c for c in dict.fromkeys(palette) if c not in set(out.values())]
    for i, name in enumerate(n for n in unique if n not in out):
        out[name] = free[i] if i < len(free) else locality_colour(name)
    return out


def locality_colour(name: str, *, among: Iterable[str] | None = None) -> str:
    """Return the colour of a locality (stable across sessions and map types).

    Parameters
    ----------
    name
        A locality name.
    among
        The plan's locality names: the colour is then :func:`locality_colours` of
        them, distinct within the plan.

    Returns
    -------
    str
        With ``among``, the plan's colour; else its colour in :data:`LOCALITY_COLOURS`,
        else one of :data:`EXTRA_LOCALITY_COLOURS` picked by CRC32 of the name.
    """
    if among is not None:
        return locality_colours([*among, name])[str(name)]
    if name in LOCALITY_COLOURS:
        return LOCALITY_COLOURS[name]
    extra = EXTRA_LOCALITY_COLOURS
    return extra[zlib.crc32(str(name).encode("utf-8")) % len(extra)]


def category_colour(category: str) -> str:
    """Return the fixed colour of a council category.

    Parameters
    ----------
    category
        A category name.

    Returns
    -------
    str
        Its colour in :data:`CATEGORY_COLOURS`, grey (``#444444``) if unknown.
    """
    return CATEGORY_COLOURS.get(category, "#444444")


#: Area shading by the share of residents beyond the walk: (colour, legend label) for
#: under 10 %, 10-50 % (both ends included) and over 50 %.
_SHARE_BANDS: tuple[tuple[str, str], ...] = (
    ("#fee5d9", "under 10 % beyond"),
    ("#fb6a4a", "10-50 % beyond"),
    ("#a50f15", "over 50 % beyond"),
)


def _share_colour(share: float) -> str:
    """Colour of an area by its share of residents beyond the walk (white if unknown)."""
    if not np.isfinite(share):
        return "#ffffff"
    if share < 0.1:
        return _SHARE_BANDS[0][0]
    if share <= 0.5:
        return _SHARE_BANDS[1][0]
    return _SHARE_BANDS[2][0]
