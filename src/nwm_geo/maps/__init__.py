"""Maps: interactive folium maps that render offline, and static matplotlib maps.

In: wards (GeoDataFrame indexed by ``ward_code`` with ``ward_name``), the ward ->
locality ``assignment``, the asset register, demand points / gap points from
:mod:`nwm_geo.requirements`, walksheds from :mod:`nwm_geo.coverage`, and the
network label string.

Out: ``folium.Map`` objects (:func:`localities_map`, :func:`assets_map`,
:func:`gaps_map`, :func:`walksheds_map`, :func:`requirements_map`,
:func:`deprivation_gaps_map`;
:func:`difference_map` for a scenario), saved with :func:`save_map`, and
matplotlib figures (:func:`plot_localities`, :func:`plot_coverage`,
:func:`plot_assets`), saved with :func:`save_figure`; the figures show as PNG in
Jupyter without ``%matplotlib inline``.

Every map has a title, a legend, the data sources and licences, and the network
label (e.g. "network: approximate (postcode proximity), not OSM"), all given as one
:class:`MapPage` (``page=``), and names the wards;
it is framed to the borough (assets outside are drawn, not framed) and counts assets one
way (:func:`count_text`: "274 in the borough, plus 73 outside"). Colours are fixed:
:data:`CATEGORY_COLOURS` (the council's 14 categories, in order) and
:func:`locality_colours` (a palette checked to stay distinct at fill opacity), the
same in folium, matplotlib and the printable pack. Asset popups give the role in the
outline of requirements (:func:`asset_roles`).

Offline: Leaflet 1.9.3 (BSD-2, vendored in ``nwm_geo/_static/leaflet``) is inlined
into each HTML file and all layers are drawn with plain Leaflet calls, so a saved map
opens from a USB stick with no internet. Tiles are off by default (``MapPage.tiles``).

Safety: every text on a map is HTML-escaped, with the characters that matter inside
JavaScript strings escaped too, and phone numbers and e-mail addresses masked
(:func:`nwm_geo._safe.mask_personal_text`). Popups show a fixed list of public fields
only (:data:`POPUP_FIELDS`).

Where things live: ``_page`` the :class:`MapPage`, ``_style`` colours, ``_geo``
coordinates, ``_leaflet`` the offline page and the GeoJSON layer, ``_folium`` the
interactive maps, ``_roles`` the asset roles, ``_figures`` the matplotlib maps,
``_save`` writing files.
"""

from __future__ import annotations

from nwm_geo.maps._bands import BAND_COLOURS, travel_time_map
from nwm_geo.maps._difference import CLOSED_COLOUR, OPENED_COLOUR, difference_map
from nwm_geo.maps._equity import IMD_DECILE_COLOURS, deprivation_gaps_map
from nwm_geo.maps._figures import (
    LocalityLayers,
    new_figure,
    plot_assets,
    plot_coverage,
    plot_localities,
    plot_locality,
)
from nwm_geo.maps._folium import (
    POPUP_FIELDS,
    REQUIRED_COLOUR,
    SITE_COLOUR,
    SITE_POPUP_FIELDS,
    assets_map,
    count_text,
    gaps_map,
    localities_map,
    requirements_map,
    walksheds_map,
)
from nwm_geo.maps._hubs import add_hubs, hub_points
from nwm_geo.maps._page import MapPage
from nwm_geo.maps._roles import ROLE_COLUMNS, asset_roles, public_source
from nwm_geo.maps._save import MAX_MAP_BYTES, map_html, save_figure, save_map
from nwm_geo.maps._style import (
    CATEGORY_COLOURS,
    COVERED_COLOUR,
    GAP_COLOUR,
    LOCALITY_FILL_OPACITY,
    LOCALITY_PALETTE,
    OUTSIDE_COLOUR,
    category_colour,
    colour_difference,
    locality_colour,
    locality_colours,
)

__all__ = [
    "BAND_COLOURS",
    "CATEGORY_COLOURS",
    "CLOSED_COLOUR",
    "COVERED_COLOUR",
    "GAP_COLOUR",
    "IMD_DECILE_COLOURS",
    "LOCALITY_FILL_OPACITY",
    "LOCALITY_PALETTE",
    "MAX_MAP_BYTES",
    "OPENED_COLOUR",
    "OUTSIDE_COLOUR",
    "POPUP_FIELDS",
    "REQUIRED_COLOUR",
    "ROLE_COLUMNS",
    "SITE_COLOUR",
    "SITE_POPUP_FIELDS",
    "LocalityLayers",
    "MapPage",
    "add_hubs",
    "asset_roles",
    "assets_map",
    "category_colour",
    "colour_difference",
    "count_text",
    "deprivation_gaps_map",
    "difference_map",
    "gaps_map",
    "hub_points",
    "localities_map",
    "locality_colour",
    "locality_colours",
    "map_html",
    "new_figure",
    "plot_assets",
    "plot_coverage",
    "plot_localities",
    "plot_locality",
    "public_source",
    "requirements_map",
    "save_figure",
    "save_map",
    "travel_time_map",
    "walksheds_map",
]
