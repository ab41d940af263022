"""Static maps (matplotlib): localities, assets and coverage small multiples.

In: the same tables as the folium maps. Out: :class:`matplotlib.figure.Figure` objects
on an Agg canvas (no pyplot state, so headless and thread-safe). They show as PNG in
Jupyter without ``%matplotlib inline`` (they implement ``_repr_png_``).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes, within_minutes
from nwm_geo.maps._geo import _xy_bng
from nwm_geo.maps._style import (
    COVERED_COLOUR,
    GAP_COLOUR,
    category_colour,
    locality_colour,
    locality_colours,
)


class _NotebookFigure(Figure):
    """A Figure that Jupyter shows as PNG without ``%matplotlib inline`` or pyplot.

    IPython displays an object through its ``_repr_png_``; a plain ``Figure`` built
    without pyplot has none, so a notebook would print ``<Figure size ...>`` only.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def _figure(figsize: tuple[float, float]) -> Figure:
    """Return a constrained-layout figure on an Agg canvas (no pyplot state, headless)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _NotebookFigure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _footer(fig: Figure, network_label: str | None, attribution: str | None) -> None:
    attribution = settings.attribution if attribution is None else attribution
    text = attribution if not network_label else f"{network_label}.  Sources: {attribution}"

    fig.text(
        0.01,
        0.005,
        "\n".join(textwrap.wrap(text, 180)),
        fontsize=5.5,
        va="bottom",
        ha="left",
        color="#333333",
        gid="nwm-attribution",
    )


def _plain_axes(ax: Any) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def plot_localities(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    title: str = "Neighbourhood Working Model: localities",
    network_label: str | None = None,
    attribution: str | None = None,
    figsize: tuple[float, float] = (7.0, 7.5),
) -> Figure:
    """Draw a static map of wards coloured by locality, with locality names.

    Parameters
    ----------
    wards, assignment
        As for :func:`localities_map`.
    title, network_label, attribution
        Title, network label and sources shown on the figure.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure(figsize)
    ax = fig.add_subplot()
    w = wards.to_crs(settings.crs).copy()
    w["locality"] = [assignment.get(c) for c in w.index]
    palette = locality_colours(assignment.dropna())
    colours = [
        palette.get(str(v), locality_colour(str(v)))
        if v is not None and not pd.isna(v)
        else "#eeeeee"
        for v in w["locality"]
    ]
    w.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.5)
    have = w[w["locality"].notna()]
    if len(have):
        for loc, pt in have.dissolve(by="locality").geometry.representative_point().items():
            ax.annotate(str(loc), (pt.x, pt.y), ha="center", fontsize=10, weight="bold")
    locs = sorted({str(v) for v in assignment.dropna()})
    handles = [Patch(facecolor=palette[v], edgecolor="#555555", label=v) for v in locs]
    ax.legend(handles=handles, title="Locality", loc="lower right", fontsize=8)
    ax.set_title(title)
    _plain_axes(ax)
    _footer(fig, network_label, attribution)
    return fig


def plot_assets(
    assets: pd.DataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    categories: Sequence[str] | None = None,
    title: str = "Community assets by category",
    network_label: str | None = None,
    attribution: str | None = None,
    figsize: tuple[float, float] = (8.0, 7.5),
) -> Figure:
    """Draw a static map of assets coloured by category (colours as :func:`assets_map`).

    Parameters
    ----------
    assets
        The register with ``category`` and ``lon``/``lat`` or point geometry.
    wards
        Ward boundaries to draw.
    categories
        Categories in legend order; the council's 14 by default.
    title, network_label, attribution, figsize
        As for :func:`plot_localities`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure(figsize)
    ax = fig.add_subplot()
    if wards is not None:
        wards.to_crs(settings.crs).plot(
            ax=ax, facecolor="#f7f7f7", edgecolor="#999999", linewidth=0.5
        )
    categories = list(settings.CATEGORIES) if categories is None else list(categories)
    x, y = _xy_bng(assets)
    cat = assets["category"].astype(str).to_numpy()
    handles = []
    for c in categories:
        sel = cat == c
        if not sel.any():
            continue
        ax.scatter(
            x[sel],
            y[sel],
            s=16,
            color=category_colour(c),
            edgecolor="#222222",
            linewidth=0.3,
            label=c,
            zorder=3,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color=category_colour(c),
                markeredgecolor="#222222",
                label=f"{c} ({int(sel.sum())})",
            )
        )
    ax.legend(
        handles=handles, title="Category", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7
    )
    ax.set_title(title)
    _plain_axes(ax)
    _footer(fig, network_label, attribution)
    return fig


def plot_coverage(  # noqa: PLR0913
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    *,
    measures: Sequence[str] | None = None,
    wards: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    title: str | None = None,
    network_label: str | None = None,
    attribution: str | None = None,
    figsize: tuple[float, float] | None = None,
    speed_m_per_min: float | None = None,
) -> Figure:
    """Draw small multiples: postcodes within / beyond the walk, one panel per measure.

    Parameters
    ----------
    points
        Demand points with ``population`` and ``lon``/``lat`` or point geometry.
    nearest
        ``nearest_minutes(...)`` on the same index.
    measures
        Columns of ``nearest``; the bundles by default.
    wards
        Ward boundaries to draw.
    minutes
        Threshold; ``settings.walk_minutes`` by default (``None``).
    title, network_label, attribution, figsize
        As for :func:`plot_localities`.
    speed_m_per_min
        The walking speed ``nearest`` was computed at (sets the rounding tolerance
        of :func:`nwm_geo._units.within_minutes`); ``settings`` by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    minutes = resolve_minutes(minutes)
    measures = list(settings.BUNDLES) if measures is None else list(measures)
    missing = [c for c in measures if c not in nearest.columns]
    if missing:
        raise NwmGeoError(f"nearest_minutes has no column(s) {missing}")
    n = len(measures)
    fig = _figure(figsize or (4.2 * n, 5.0))
    x, y = _xy_bng(points)
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0).to_numpy()
    size = 1.0 + 14.0 * np.sqrt(pop / pop.max()) if pop.max() > 0 else np.full(len(pop), 2.0)
    w = wards.to_crs(settings.crs) if wards is not None else None
    for i, measure in enumerate(measures):
        ax = fig.add_subplot(1, n, i + 1)
        if w is not None:
            w.plot(ax=ax, facecolor="#f7f7f7", edgecolor="#999999", linewidth=0.4)
        t = pd.to_numeric(nearest[measure].reindex(points.index), errors="coerce").to_numpy()
        within = within_minutes(t, minutes, speed_m_per_min=speed_m_per_min)
        ax.scatter(
            x[within], y[within], s=size[within], color=COVERED_COLOUR, linewidth=0, alpha=0.6
        )
        ax.scatter(
            x[~within], y[~within], s=size[~within], color=GAP_COLOUR, linewidth=0, alpha=0.8
        )
        total = pop.sum()
        share = 100.0 * pop[within].sum() / total if total > 0 else float("nan")
        ax.set_title(f"{measure}\n{share:.1f} % of residents within {minutes:g} min", fontsize=9)
        _plain_axes(ax)
    handles = [
        Line2D(
            [], [], marker="o", linestyle="", color=COVERED_COLOUR, label=f"within {minutes:g} min"
        ),
        Line2D([], [], marker="o", linestyle="", color=GAP_COLOUR, label=f"beyond {minutes:g} min"),
    ]
    fig.legend(handles=handles, loc="upper right", fontsize=8, title="Postcodes (size = residents)")
    fig.suptitle(title or f"Residents within a {minutes:g}-minute walk, by bundle")
    _footer(fig, network_label, attribution)
    return fig
