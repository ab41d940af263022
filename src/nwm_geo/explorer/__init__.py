"""The decision explorer: what-ifs in the browser, offline, in one file.

In: a study (:class:`nwm_geo.pipeline.Study`). Out: ``explorer.html``
(:func:`write_explorer`), one self-contained page (Leaflet, script and data inlined; no
network request) where a person closes and reopens sites, opens candidate sites, moves
wards between localities and changes the walk threshold and speed, and sees coverage,
residents losing and gaining access, balance, contiguity, the equity split and the best
hub per locality recomputed at once, with the numbers ``nwm-geo scenario`` gives
(:func:`explorer_data` holds what makes that exact; ``docs/explorer.md`` the contract:
the ``#scenario=`` fragment and the ``nwm-comparison`` element).
"""

from __future__ import annotations

from nwm_geo.explorer._data import (
    EXPLORER_FORMAT,
    MINUTE_CHOICES,
    PALETTE,
    cap_metres,
    explorer_data,
    speed_choices,
)
from nwm_geo.explorer._page import explorer_html, write_explorer

__all__ = [
    "EXPLORER_FORMAT",
    "MINUTE_CHOICES",
    "PALETTE",
    "cap_metres",
    "explorer_data",
    "explorer_html",
    "speed_choices",
    "write_explorer",
]
