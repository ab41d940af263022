"""Saving: one self-contained HTML file per map, one PNG per figure, both atomic.

:func:`map_html` refuses a page that would fetch a script or stylesheet from the
internet; :func:`save_map` refuses one over :data:`MAX_MAP_BYTES`.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from nwm_geo import _publish
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path

if TYPE_CHECKING:
    import folium
    from matplotlib.figure import Figure

#: Largest saved map, in bytes.
MAX_MAP_BYTES: int = 5 * 1024 * 1024

#: zlib level of a saved PNG (lossless at any level: only the time and size change).
PNG_COMPRESS_LEVEL: int = 3


_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


#: Calls into libraries that folium loads from CDNs and these maps do not inline
#: (awesome-markers icons; jQuery, used by ``folium.Popup``).
_NEEDS_CDN = ("L.AwesomeMarkers", "$(`", "$(document)", "jQuery(")


def map_html(m: folium.Map) -> str:
    """Render a map to one self-contained HTML string.

    Raises
    ------
    NwmGeoError
        If the page would load a script or stylesheet from the internet, or call a
        library that folium loads from a CDN (e.g. a ``folium.Marker`` icon or a
        ``folium.Popup`` added from outside this module).
    """
    page = m.get_root().render()
    if _REMOTE.search(page) or any(marker in page for marker in _NEEDS_CDN):
        raise NwmGeoError(
            "map HTML references a remote script or stylesheet, so it would not render "
            "offline; use the nwm_geo.maps layers only"
        )
    return page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, max_bytes: int = MAX_MAP_BYTES) -> int:
    """Write a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m
        A map from this module.
    path
        Destination ``.html``.
    max_bytes
        Fail (and leave ``path`` unchanged) if the file would be larger.

    Returns
    -------
    int
        The file size in bytes.

    Raises
    ------
    NwmGeoError
        If the HTML is too large or refers to remote scripts.
    """
    data = _publish.publish_text(map_html(m)).encode("utf-8")  # a last guard: popups are masked
    if len(data) >= max_bytes:
        raise NwmGeoError(
            f"map is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
            "simplify geometries (tolerance_m) or draw fewer layers"
        )
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return len(data)


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> None:
    """Save a figure atomically, in the format of the file suffix (PNG by default).

    The saved image is cropped to what is drawn (``bbox_inches="tight"``), so a legend
    outside the axes or the sources footer is never cut off.

    Parameters
    ----------
    fig
        A figure from :func:`plot_localities`, :func:`plot_assets` or
        :func:`plot_coverage`.
    path
        Destination, e.g. ``coverage.png``.
    dpi
        Resolution in dots per inch.
    """
    fmt = os.path.splitext(str(path))[1].lstrip(".").lower() or "png"
    # zlib level 3, not Pillow's 6: the same pixels in about 70 % of the time; for these
    # maps (flat colours) the size is about the same (Luton's three: -11 % to +6 %)
    extra: dict[str, Any] = (
        {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}
    )
    _publish.save_figure(
        fig, path, dpi=dpi, format=fmt, bbox_inches="tight", pad_inches=0.1, **extra
    )
