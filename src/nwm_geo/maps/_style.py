"""Colours: one fixed palette per thing mapped, the same in folium and matplotlib.

- :data:`CATEGORY_COLOURS`: the council's 14 categories, in order.
- :data:`LOCALITY_PALETTE` and :func:`locality_colours`: one colour per locality of a
  plan, checked to stay distinct at fill opacity (:func:`colour_difference`).
- :data:`GAP_COLOUR`, :data:`COVERED_COLOUR`: residents beyond and within the walk.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo.requirements import OUTSIDE_BOROUGH

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

#: The locality palette: ten qualitative colours picked (greedily, from ColorBrewer Set1,
#: Tableau and Paul Tol's palettes) to stay distinct at the maps' fill opacity
#: (:data:`LOCALITY_FILL_OPACITY`) over white: the smallest CIE76 colour difference
#: between two of them, blended, is 18.7 (28.9 for the first five); the Tableau colours
#: used before fell to 10.9. :func:`locality_colours` hands them out in order.
LOCALITY_PALETTE: tuple[str, ...] = (
    "#377eb8",
    "#e41a1c",
    "#4daf4a",
    "#ff7f00",
    "#e377c2",
    "#8c564b",
    "#332288",
    "#bcbd22",
    "#44aa99",
    "#a6761d",
)

#: Fill opacity of locality areas on the maps (the palette is checked at it).
LOCALITY_FILL_OPACITY: float = 0.45

#: Colour of places outside the borough (assets kept because residents walk to them).
OUTSIDE_COLOUR: str = "#bab0ac"

#: Colour of residents beyond the walk, and within it.
GAP_COLOUR: str = "#d7191c"
COVERED_COLOUR: str = "#1a9641"


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def locality_colours(localities: Iterable[object]) -> dict[str, str]:
    """Return one colour per locality, distinct at fill opacity, the same on every map.

    The names are sorted and take :data:`LOCALITY_PALETTE` in order (after ten, the
    palette repeats); "outside the borough" is grey. Every map and figure of a plan
    colours its localities with this one mapping, so a locality has the same colour in
    folium, matplotlib and the printable pack.

    Parameters
    ----------
    localities
        Locality names (e.g. a plan's assignment values; NaN and repeats are ignored).

    Returns
    -------
    dict
        ``name -> "#rrggbb"``.
    """
    names = sorted({str(v) for v in localities if not _missing(v)})
    out: dict[str, str] = {}
    i = 0
    for name in names:
        if name == OUTSIDE_BOROUGH:
            out[name] = OUTSIDE_COLOUR
            continue
        out[name] = LOCALITY_PALETTE[i % len(LOCALITY_PALETTE)]
        i += 1
    return out


def locality_colour(
    name: str,
    localities: Iterable[object] | None = None,
    *,
    among: Iterable[object] | None = None,
) -> str:
    """Return one locality's colour.

    Parameters
    ----------
    name
        The locality.
    localities
        All the plan's localities: the colour is then exactly the one every map of the
        plan uses (:func:`locality_colours`). Without them, a stable colour of the
        palette is picked by a CRC32 of the name (the same in every session, but two
        names may share one; pass ``localities`` whenever they are known).
    among
        The same as ``localities`` (the keyword of the plans branch).

    Returns
    -------
    str
        ``"#rrggbb"``.
    """
    localities = localities if localities is not None else among
    if localities is not None:
        return locality_colours([*localities, name])[str(name)]
    if name == OUTSIDE_BOROUGH:
        return OUTSIDE_COLOUR
    return LOCALITY_PALETTE[zlib.crc32(str(name).encode("utf-8")) % len(LOCALITY_PALETTE)]


def colour_difference(colours: Sequence[str], *, opacity: float = LOCALITY_FILL_OPACITY) -> float:
    """Return the smallest CIE76 difference between colours blended over white.

    Parameters
    ----------
    colours
        Two or more colours (any matplotlib colour spec).
    opacity
        Fill opacity they are drawn at.

    Returns
    -------
    float
        The smallest pairwise Delta E (CIE76) in CIELAB; about 2 is just noticeable, and
        over 15 reads as clearly different hues on a map.
    """
    from matplotlib.colors import to_rgb

    rgb = opacity * np.array([to_rgb(c) for c in colours]) + (1.0 - opacity)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    eps = (6 / 29) ** 3
    f = np.where(xyz > eps, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.column_stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])]
    )
    d = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=-1))
    d[np.eye(len(lab), dtype=bool)] = np.inf
    return float(d.min())


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
SHARE_BANDS: tuple[tuple[str, str], ...] = (
    ("#fee5d9", "under 10 % beyond"),
    ("#fb6a4a", "10-50 % beyond"),
    ("#a50f15", "over 50 % beyond"),
)


def share_colour(share: float) -> str:
    """Colour of an area by its share of residents beyond the walk (white if unknown)."""
    if not np.isfinite(share):
        return "#ffffff"
    if share < 0.1:
        return SHARE_BANDS[0][0]
    if share <= 0.5:
        return SHARE_BANDS[1][0]
    return SHARE_BANDS[2][0]
