"""What a map says around its data: title, subtitle, network label, sources, tiles.

Every map and figure of :mod:`nwm_geo.maps` takes one :class:`MapPage` (``page=``), so
these options are named and documented once, whatever the map.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nwm_geo import settings

__all__ = ["MapPage"]


@dataclass(frozen=True)
class MapPage:
    """The page around a map: its title, the line under it, the network, the sources.

    A field left ``None`` takes the map's own default; an empty string shows nothing.

    Attributes
    ----------
    title
        Shown at the top; ``None``: the map's own title.
    subtitle
        Shown under the title (interactive maps only); ``None``: the map's own line.
    network_label
        :func:`nwm_geo.network.network_label` of the network the walks were measured
        on; shown with the sources, so a reader sees when it is an approximation.
    attribution
        Sources and licences; ``None``: :data:`nwm_geo.settings.attribution`.
    tiles
        A folium tile name for the interactive maps (needs the internet); ``None``
        draws no tiles, so the map works offline.
    """

    title: str | None = None
    subtitle: str | None = None
    network_label: str | None = None
    attribution: str | None = None
    tiles: str | None = None

    def filled(self, *, title: str, subtitle: str | None = None) -> MapPage:
        """Return this page with the map's own title and subtitle where it has none."""
        return replace(
            self,
            title=title if self.title is None else self.title,
            subtitle=subtitle if self.subtitle is None else self.subtitle,
        )

    @property
    def sources(self) -> str:
        """The sources and licences printed on the map."""
        return settings.attribution if self.attribution is None else self.attribution
