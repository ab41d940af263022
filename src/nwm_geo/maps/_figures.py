"""Static maps (matplotlib): localities, assets, coverage small multiples, one locality.

In: the same tables as the folium maps. Out: :class:`matplotlib.figure.Figure` objects
on an Agg canvas (no pyplot state, so headless and thread-safe). They show as PNG in
Jupyter without ``%matplotlib inline`` (they implement ``_repr_png_``, cropped to what
is drawn). Every map names its wards, is framed to them (assets outside the borough
fall outside the frame and are counted apart), has no axis labels or ticks, and wraps
its sources footer to the figure's width.
"""

from __future__ import annotations

import functools
import io
import textwrap
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes, within_minutes
from nwm_geo.maps._geo import xy_bng
from nwm_geo.maps._page import MapPage
from nwm_geo.maps._style import (
    COVERED_COLOUR,
    GAP_COLOUR,
    LOCALITY_FILL_OPACITY,
    category_colour,
    locality_colours,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@functools.cache
def _figure_classes() -> tuple[type[Any], type[Any]]:
    """Return the quiet Agg canvas and notebook figure classes, importing matplotlib.

    Defined on first use so that importing this package does not load matplotlib.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    class _QuietCanvas(FigureCanvasAgg):
        """An Agg canvas whose ``draw_idle`` does nothing: it draws when saved, not per layer."""

        def draw_idle(self, *args: Any, **kwargs: Any) -> None:
            """Do nothing: the figure is drawn once, when it is saved or displayed."""

    class _NotebookFigure(Figure):
        """A Figure that Jupyter shows as PNG without ``%matplotlib inline`` or pyplot.

        IPython displays an object through its ``_repr_png_``; a plain ``Figure`` built
        without pyplot has none, so a notebook would print ``<Figure size ...>`` only.
        """

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=100, bbox_inches="tight", pad_inches=0.1)
            return buf.getvalue()

    # importable by name through the module's __getattr__, so a figure pickles
    _QuietCanvas.__qualname__ = "_QuietCanvas"
    _NotebookFigure.__qualname__ = "_NotebookFigure"
    return _QuietCanvas, _NotebookFigure


def __getattr__(name: str) -> Any:
    """Return the matplotlib classes by name, building them on first access."""
    if name in ("_QuietCanvas", "_NotebookFigure"):
        return _figure_classes()[name == "_NotebookFigure"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(
    figsize: tuple[float, float],
    *,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
) -> Figure:
    """Return a figure on a headless Agg canvas that draws only when saved or shown.

    geopandas' ``plot`` asks the canvas to redraw the whole figure after every layer
    (``draw_idle``), which an Agg canvas does at once: a page of five layers was drawn
    five times before it was saved. This canvas ignores those requests; saving,
    printing to PDF and Jupyter's PNG still draw it, once.

    Parameters
    ----------
    figsize
        Inches.
    layout
        Matplotlib layout engine ("constrained", "tight" or ``None``).

    Returns
    -------
    matplotlib.figure.Figure
        It shows as PNG in Jupyter without pyplot (``_repr_png_``).
    """
    quiet_canvas, notebook_figure = _figure_classes()
    fig: Figure = notebook_figure(figsize=figsize, layout=layout)
    quiet_canvas(fig)
    return fig


def _figure(figsize: tuple[float, float]) -> Figure:
    """Return a constrained-layout figure on a quiet Agg canvas (no pyplot state)."""
    return new_figure(figsize)


#: Font size of the sources footer (points), and the average glyph width it wraps at.
_FOOTER_PT = 5.5
_GLYPH_EM = 0.55


def _footer(fig: Figure, page: MapPage) -> None:
    attribution, network_label = page.sources, page.network_label
    text = attribution if not network_label else f"{network_label}.  Sources: {attribution}"
    # wrap to the figure's width (less a margin) so no line runs off the right edge
    width_pt = (fig.get_figwidth() - 0.3) * 72
    chars = max(40, int(width_pt / (_FOOTER_PT * _GLYPH_EM)))
    lines = textwrap.wrap(text, chars)
    engine: Any = fig.get_layout_engine()
    if engine is not None and "rect" in engine.get():
        # keep the maps above the footer: reserve its height at the bottom
        height = (len(lines) * 1.25 * _FOOTER_PT + 6) / (fig.get_figheight() * 72)
        engine.set(rect=(0.0, height, 1.0, 1.0 - height))
    fig.text(
        0.01,
        0.005,
        "\n".join(lines),
        fontsize=_FOOTER_PT,
        va="bottom",
        ha="left",
        color="#333333",
        gid="nwm-attribution",
    )


def _plain_axes(ax: Any) -> None:
    """Drop ticks, spines and the axis labels geopandas sets from the CRS."""
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for s in ax.spines.values():
        s.set_visible(False)


def _frame_to(ax: Any, frame: gpd.GeoDataFrame | None, *, pad: float = 0.03) -> None:
    """Frame the axes to ``frame`` (British National Grid), with a small margin."""
    if frame is None or len(frame) == 0:
        return
    minx, miny, maxx, maxy = frame.to_crs(settings.crs).total_bounds
    dx, dy = (maxx - minx) * pad, (maxy - miny) * pad
    ax.set_xlim(minx - dx, maxx + dx)
    ax.set_ylim(miny - dy, maxy + dy)


def _ward_labels(ax: Any, wards: gpd.GeoDataFrame | None, *, fontsize: float = 5.5) -> None:
    """Name each ward at a point inside it (texts with gid ``nwm-ward-label``)."""
    if wards is None or len(wards) == 0:
        return
    from matplotlib import patheffects

    w = wards.to_crs(settings.crs)
    names = w["ward_name"] if "ward_name" in w.columns else pd.Series(w.index, index=w.index)
    halo = [patheffects.withStroke(linewidth=1.6, foreground="white")]
    for code, pt in w.geometry.representative_point().items():
        ax.text(
            pt.x,
            pt.y,
            "\n".join(textwrap.wrap(str(names[code]), 16)),
            ha="center",
            va="center",
            fontsize=fontsize,
            color="#333333",
            path_effects=halo,
            gid="nwm-ward-label",
            zorder=5,
            clip_on=True,
        )


#: Hatch patterns by locality (in palette order), so localities stay distinct in greyscale.
LOCALITY_HATCHES: tuple[str, ...] = (
    "",
    "////",
    "\\\\\\\\",
    "....",
    "xxxx",
    "----",
    "++++",
    "oo",
    "||||",
    "**",
)


def locality_hatches(localities: Iterable[object]) -> dict[str, str]:
    """Return one hatch pattern per locality, in the order of :func:`locality_colours`."""
    names = list(locality_colours(localities))
    return {n: LOCALITY_HATCHES[i % len(LOCALITY_HATCHES)] for i, n in enumerate(names)}


def scale_bar(ax: Any, *, fontsize: float = 6.5) -> None:
    """Draw a scale bar (British National Grid metres) in the lower right of ``ax``."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    nice = [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000]
    length = max([n for n in nice if n <= target] or [nice[0]])
    right = x1 - (x1 - x0) * 0.04
    base = y0 + (y1 - y0) * 0.04
    tick = (y1 - y0) * 0.008
    ax.plot([right - length, right], [base, base], color="#111111", lw=2, zorder=7)
    for x in (right - length, right):
        ax.plot([x, x], [base - tick, base + tick], color="#111111", lw=1, zorder=7)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(
        right - length / 2, base + tick * 1.5, label, ha="center", va="bottom",
        fontsize=fontsize, zorder=7, gid="nwm-scale-bar",
    )  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


@functools.cache
def _renderer_at(dpi: float, thread: int) -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, dpi)  # type: ignore[no-untyped-call]


def _measurer(fig: Figure) -> Any:
    """Return an Agg renderer that measures texts as ``fig``'s canvas does.

    A text's size depends on the renderer's class and resolution only, so one renderer
    of one pixel per resolution (and thread) is kept: the canvas's own is a buffer of
    the figure's size, and a new renderer measures every label again (each locality's
    map names all the area's wards).
    """
    return _renderer_at(float(fig.dpi), threading.get_ident())


def declutter_labels(ax: Any, *, gid: str = "nwm-ward-label", tries: int = 12) -> int:
    """Move ward labels that overlap an earlier one; return how many still overlap.

    Each label is tried below, above, left and right of its place (by its own size),
    then further out, until it overlaps no label placed before it.
    """
    fig = ax.figure
    renderer = _measurer(fig)
    texts = [t for t in ax.texts if t.get_gid() == gid]
    placed: list[Any] = []
    left = 0
    inv = ax.transData.inverted()
    for t in texts:
        box = t.get_window_extent(renderer).expanded(1.05, 1.1)
        x, y = t.get_position()
        dx, dy = box.width, box.height
        offsets = [(0.0, 0.0)] + [
            (sx * dx * k * 0.6, sy * dy * k)
            for k in range(1, tries + 1)
            for sx, sy in ((0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (1, 1))
        ]
        px, py = ax.transData.transform((x, y))
        for ox, oy in offsets:
            moved = box.translated(ox, oy)
            if not any(moved.overlaps(b) for b in placed):
                t.set_position(tuple(inv.transform((px + ox, py + oy))))
                placed.append(moved)
                break
        else:
            placed.append(box)
            left += 1
    return left


def _hide_clipped_labels(ax: Any, *, gid: str = "nwm-ward-label") -> None:
    """Skip drawing the labels that fall wholly outside the axes (clipped away anyway).

    A locality's map names every ward of the area (its neighbours too, for orientation)
    but shows only the locality: the labels beyond the frame are clipped, and drawing
    them (as paths, with their halo) was most of the map's text. Call it once the frame
    is final.
    """
    ax.apply_aspect()  # the frame as drawn (an equal-aspect map shrinks its box)
    renderer = _measurer(ax.figure)
    frame = ax.get_window_extent(renderer)
    for t in ax.texts:
        if t.get_gid() == gid and not t.get_window_extent(renderer).overlaps(frame):
            t.set_visible(False)


@checks_crs
def plot_localities(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    page: MapPage | None = None,
    figsize: tuple[float, float] = (8.5, 6.5),
    ax: Any = None,
) -> Figure:
    """Draw a static map of wards coloured by locality, with the ward names.

    Parameters
    ----------
    wards, assignment
        As for :func:`localities_map`.
    page
        Title, network label and sources (:class:`MapPage`; the footer only on a new
        figure); by default titled "Neighbourhood Working Model: localities".
    figsize
        Inches (a new figure only).
    ax
        Axes to draw into (e.g. the printable pack's summary page); a new figure when
        ``None``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on; the legend names each locality.
    """
    from matplotlib.patches import Patch

    page = (page or MapPage()).filled(title="Neighbourhood Working Model: localities")
    own = ax is None
    fig: Figure = _figure(figsize) if own else ax.figure
    if own:
        ax = fig.add_subplot()
    w = wards.to_crs(settings.crs).copy()
    w["locality"] = [assignment.get(c) for c in w.index]
    palette = locality_colours(assignment.to_numpy())
    colours = [
        palette[str(v)] if v is not None and not pd.isna(v) else "#eeeeee" for v in w["locality"]
    ]
    w.plot(ax=ax, color=colours, alpha=LOCALITY_FILL_OPACITY, edgecolor="none")
    hatches = locality_hatches(assignment.to_numpy())
    for name, hatch in hatches.items():
        part = w[w["locality"].astype(str) == name]
        if hatch and len(part):  # distinct in greyscale too
            part.plot(ax=ax, facecolor="none", edgecolor="#55555588", hatch=hatch, linewidth=0)
    w.boundary.plot(ax=ax, color="#555555", linewidth=0.5)
    _ward_labels(ax, w)
    handles = [
        Patch(
            facecolor=c, alpha=LOCALITY_FILL_OPACITY, edgecolor="#555555", hatch=hatches[v],
            label=v,
        )
        for v, c in palette.items()
    ]  # fmt: skip
    if own:
        ax.legend(handles=handles, title="Locality", loc="center left", bbox_to_anchor=(1, 0.5))
    else:
        ax.legend(handles=handles, title="Locality", loc="lower left", fontsize=7)
    if page.title:
        ax.set_title(page.title)
    _plain_axes(ax)
    _frame_to(ax, w)
    scale_bar(ax)
    declutter_labels(ax)
    if own:
        _footer(fig, page)
    return fig


@checks_crs
def plot_assets(
    assets: pd.DataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    categories: Sequence[str] | None = None,
    page: MapPage | None = None,
    figsize: tuple[float, float] = (9.5, 6.5),
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
    page
        Title, network label and sources (:class:`MapPage`).
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    page = (page or MapPage()).filled(title="Community assets by category")
    fig = _figure(figsize)
    ax = fig.add_subplot()
    if wards is not None:
        wards.to_crs(settings.crs).plot(
            ax=ax, facecolor="#f7f7f7", edgecolor="#999999", linewidth=0.5
        )
        _ward_labels(ax, wards, fontsize=5)
    categories = list(settings.CATEGORIES) if categories is None else list(categories)
    x, y = xy_bng(assets)
    cat = assets["category"].astype(str).to_numpy()
    inside = (
        assets["inside_area"].fillna(True).astype(bool).to_numpy()
        if "inside_area" in assets.columns
        else np.ones(len(assets), dtype=bool)
    )
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
                label=_count_label(c, int((sel & inside).sum()), int((sel & ~inside).sum())),
            )
        )
    ax.legend(
        handles=handles, title="Category", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7
    )
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    count = f"{n_in:,} in the borough" + (
        f", plus {n_out:,} outside (beyond the frame)" if n_out and wards is not None else ""
    )
    ax.set_title(f"{page.title}\n{count}")
    _plain_axes(ax)
    _frame_to(ax, wards)
    _footer(fig, page)
    return fig


def _count_label(category: str, n_in: int, n_out: int) -> str:
    return f"{category} ({n_in}" + (f", plus {n_out} outside)" if n_out else ")")


@checks_crs
def plot_coverage(
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    *,
    measures: Sequence[str] | None = None,
    wards: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    page: MapPage | None = None,
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
    page
        Title, network label and sources (:class:`MapPage`).
    figsize
        Inches; 4.2 by 5.0 a panel by default.
    speed_m_per_min
        The walking speed ``nearest`` was computed at (sets the rounding tolerance
        of :func:`nwm_geo._units.within_minutes`); ``settings`` by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    minutes = resolve_minutes(minutes)
    measures = list(settings.BUNDLES) if measures is None else list(measures)
    missing = [c for c in measures if c not in nearest.columns]
    if missing:
        raise NwmGeoError(f"nearest_minutes has no column(s) {missing}")
    n = len(measures)
    fig = _figure(figsize or (4.2 * n, 5.0))
    x, y = xy_bng(points)
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0).to_numpy()
    size = 1.0 + 14.0 * np.sqrt(pop / pop.max()) if pop.max() > 0 else np.full(len(pop), 2.0)
    w = wards.to_crs(settings.crs) if wards is not None else None
    for i, measure in enumerate(measures):
        ax = fig.add_subplot(1, n, i + 1)
        if w is not None:
            w.plot(ax=ax, facecolor="#f7f7f7", edgecolor="#999999", linewidth=0.4)
            _ward_labels(ax, w, fontsize=4)
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
        _frame_to(ax, w)
    handles = [
        Line2D(
            [], [], marker="o", linestyle="", color=COVERED_COLOUR, label=f"within {minutes:g} min"
        ),
        Line2D([], [], marker="o", linestyle="", color=GAP_COLOUR, label=f"beyond {minutes:g} min"),
    ]
    fig.axes[0].legend(
        handles=handles, loc="lower left", fontsize=7, title="Postcodes (size = residents)"
    )
    page = (page or MapPage()).filled(
        title=f"Residents within a {minutes:g}-minute walk, by bundle"
    )
    fig.suptitle(page.title or "")
    _footer(fig, page)
    return fig


@dataclass
class LocalityLayers:
    """What :func:`plot_locality` draws on a locality's wards (every layer optional).

    Attributes
    ----------
    assets
        Register rows to mark (``lon``/``lat`` or point geometry), small dots coloured
        by category.
    required
        ``asset_id``s to mark as required (blue rings).
    sites
        Suggested new sites (``lon``, ``lat``), yellow squares.
    gaps
        Areas beyond the walk, one polygon per bundle (e.g.
        ``coverage.catchment_cells(..., beyond=True)``), hatched (a fill colour could
        match a locality's); where bundles overlap the hatching is denser.
    hub_id
        The locality's hub (an ``asset_id`` in ``assets``), drawn as a star, when the
        study has chosen one.
    """

    assets: pd.DataFrame | None = None
    required: Sequence[object] = ()
    sites: pd.DataFrame | None = None
    gaps: gpd.GeoDataFrame | None = None
    hub_id: object | None = None


def _draw_points(ax: Any, layers: LocalityLayers) -> list[Any]:
    """Draw the assets, required assets, sites and hub; return legend handles."""
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    assets = layers.assets
    if assets is not None and len(assets):
        x, y = xy_bng(assets)
        cols = [category_colour(str(c)) for c in assets["category"]]
        ax.scatter(x, y, s=9, c=cols, edgecolor="#222222", linewidth=0.3, zorder=3)
        for cat in sorted(set(map(str, assets["category"]))):  # the colour key
            handles.append(
                Line2D(
                    [], [], marker="o", linestyle="", color=category_colour(cat),
                    markeredgecolor="#222222", markeredgewidth=0.3, label=cat,
                )
            )  # fmt: skip
        req = assets.index.isin(list(layers.required))
        if req.any():
            ax.scatter(
                x[req], y[req], s=40, facecolor="none", edgecolor="#08519c", linewidth=1.2, zorder=4
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markerfacecolor="none",
                    markeredgecolor="#08519c",
                    label="required asset",
                )
            )
        if layers.hub_id is not None and layers.hub_id in assets.index:
            i = int(np.flatnonzero(assets.index == layers.hub_id)[0])
            ax.scatter(
                [x[i]],
                [y[i]],
                s=220,
                marker="*",
                color="#ffd92f",
                edgecolor="#111111",
                linewidth=0.8,
                zorder=6,
            )
            name = assets["name"].iloc[i] if "name" in assets.columns else layers.hub_id
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="*",
                    linestyle="",
                    markersize=11,
                    color="#ffd92f",
                    markeredgecolor="#111111",
                    label=f"hub: {name}",
                )
            )
    sites = layers.sites
    if sites is not None and len(sites):
        sx, sy = xy_bng(sites)
        ax.scatter(
            sx, sy, s=36, marker="s", color="#ffd92f", edgecolor="#111111", linewidth=0.8, zorder=5
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="s",
                linestyle="",
                color="#ffd92f",
                markeredgecolor="#111111",
                label="suggested new site",
            )
        )
    return handles


@checks_crs
def plot_locality(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    locality: str,
    *,
    layers: LocalityLayers | None = None,
    ax: Any = None,
    page: MapPage | None = None,
    figsize: tuple[float, float] = (7.0, 7.0),
) -> Figure:
    """Draw one locality: its wards named and coloured, assets, hub and gaps.

    The view is framed to the locality's wards; neighbouring wards are drawn in grey
    (and named) for orientation.

    Parameters
    ----------
    wards, assignment
        As for :func:`plot_localities`.
    locality
        The locality to draw (a value of ``assignment``).
    layers
        What to draw on it (:class:`LocalityLayers`).
    ax
        Axes to draw into (e.g. a page of the printable pack); a new figure with a
        sources footer when ``None``.
    page
        Title, network label and sources (:class:`MapPage`; the footer only on a new
        figure); by default titled with the locality's name on a new figure, untitled
        on given axes.
    figsize
        Inches (a new figure only).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    NwmGeoError
        If no ward belongs to ``locality``.
    """
    from matplotlib.patches import Patch

    layers = layers or LocalityLayers()
    w = wards.to_crs(settings.crs).copy()
    w["locality"] = [assignment.get(c) for c in w.index]
    mine = w[w["locality"].astype(str) == str(locality)]
    if len(mine) == 0:
        raise NwmGeoError(f"no ward belongs to locality {locality!r}")
    own = ax is None
    fig: Figure = _figure(figsize) if own else ax.figure
    if own:
        ax = fig.add_subplot()
    colour = locality_colours(assignment.to_numpy())[str(locality)]
    w.plot(ax=ax, facecolor="#f4f4f4", edgecolor="#aaaaaa", linewidth=0.4)
    mine.plot(ax=ax, color=colour, alpha=LOCALITY_FILL_OPACITY, edgecolor="none")
    hatch = locality_hatches(assignment.to_numpy()).get(str(locality), "")
    if hatch:
        mine.plot(ax=ax, facecolor="none", edgecolor="#55555566", hatch=hatch, linewidth=0)
    handles: list[Any] = [
        Patch(
            facecolor=colour, alpha=LOCALITY_FILL_OPACITY, hatch=hatch,
            label=f"{locality} (its wards)",
        )
    ]  # fmt: skip
    if layers.gaps is not None and len(layers.gaps):
        g = layers.gaps[layers.gaps.geometry.notna() & ~layers.gaps.geometry.is_empty]
        if len(g):
            # hatched, not filled: a fill colour could match a locality's colour
            g.to_crs(settings.crs).plot(
                ax=ax, facecolor="none", edgecolor="#33333399", hatch="///", linewidth=0.0
            )
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor="#333333",
                    hatch="///",
                    label="beyond the walk (denser: for more bundles)",
                )
            )
    w.boundary.plot(ax=ax, color="#777777", linewidth=0.4)
    mine.boundary.plot(ax=ax, color="#333333", linewidth=0.9)
    handles += _draw_points(ax, layers)
    _ward_labels(ax, w, fontsize=6)
    _plain_axes(ax)
    _frame_to(ax, mine, pad=0.08)
    scale_bar(ax)
    declutter_labels(ax)
    _hide_clipped_labels(ax)
    # the key sits under the map, never over it
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.01), fontsize=6.5,
        ncol=2, frameon=False, title="Key", title_fontsize=7, alignment="left",
    )  # fmt: skip
    page = page or MapPage()
    if page.title is not None or own:
        ax.set_title(page.title if page.title is not None else str(locality))
    if own:
        _footer(fig, page)
    return fig
