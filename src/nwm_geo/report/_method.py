"""The method note: how a run was made (walk, network, data dates), as text.

:class:`RunInfo` holds the method and provenance text of a run; :func:`method_rows`
turns it (or an outline's ``method`` dict) into the spreadsheet's rows, and
:func:`register_gap_note` explains the council's published count against the open register.
Free text is published through :func:`public_text` (phone numbers and e-mail
addresses masked by :func:`nwm_geo._safe.mask_personal_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._safe import mask_personal_text, strip_commit_hashes
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo.requirements import RequirementsOutline


def register_gap_note(reconciliation: pd.DataFrame | None = None) -> str:
    """Explain the gap between the council's published count and the open register.

    Parameters
    ----------
    reconciliation
        The register against the area's counts (:func:`nwm_geo.data.reconciliation`),
        if known: the note then gives both totals (Luton: the council's 287). A council
        that publishes no counts (``council_count`` missing) gets no total, never
        another council's.
    """
    text = (
        "The open-data register is built from public sources (FSA FHRS, GIAS, NHS ODS, "
        "HMCTS, Libraries Hacked and others), which under-count places of worship and "
        "community centres; results for those categories are a lower bound until the "
        "council's own register is loaded."
    )
    if reconciliation is not None:
        total: dict[Any, Any] = reconciliation.loc["TOTAL"].to_dict()
        if not pd.isna(total["council_count"]):
            n = len(reconciliation.index) - 1
            text = (
                f"{int(total['register_count'])} sites in the register; the council lists "
                f"{int(total['council_count'])} in {n} categories. " + text
            )
    return text


#: Plain-English names of the method's settings (the spreadsheet and the index).
METHOD_LABELS: dict[str, str] = {
    "k_new_sites": "Suggested new sites per bundle and locality (at most)",
    "sole_threshold": (
        "Residents who must have no other option before a partner's site gets a business "
        "case (rule R2)"
    ),
    "new_site_min_residents": "Fewest residents a suggested site must newly bring within the walk",
    "new_site_spacing_m": "Least distance between two suggested sites of one bundle (metres)",
}


#: The method keys that :meth:`RunInfo.from_method` reads into fields; any other key
#: becomes an extra line.
_RUN_KEYS = frozenset(
    {"walk_speed_m_per_min", "walk_minutes", "network", "data_dates", "register", "localities"}
)


@dataclass(frozen=True)
class RunInfo:
    """The method and provenance text of a run, shown by the spreadsheet and the index.

    Parameters
    ----------
    network
        The network label (``nwm_geo.network.network_label(G)``).
    minutes
        Walk threshold; ``None`` for ``settings.walk_minutes`` (resolved by
        :func:`nwm_geo._units.resolve_minutes`).
    speed_m_per_min
        Walking speed; ``None`` for ``settings.walk_speed_m_per_min``.
    data_dates
        Dates of the data behind the outputs.
    register
        A note on the asset register (e.g. against the council's 287).
    localities
        A note on the localities (e.g. how many, and the proof status).
    sources
        Sources and licences; ``None`` for ``settings.attribution``.
    extra
        More ``(label, text)`` lines, shown after the network and before the data
        dates (e.g. the requirements parameters).
    """

    network: str = "not stated"
    minutes: float | None = None
    speed_m_per_min: float | None = None
    data_dates: str | None = None
    register: str | None = None
    localities: str | None = None
    sources: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_method(cls, method: Mapping[str, Any]) -> RunInfo:
        """Read a method dict (e.g. :attr:`RequirementsOutline.method`).

        Parameters
        ----------
        method
            ``walk_speed_m_per_min``, ``walk_minutes``, ``network``, ``data_dates``,
            ``register``, ``localities`` and ``licences`` fill the fields; every other
            key becomes an extra line labelled by its name ("k_new_sites" -> "K new
            sites"), in the dict's order.

        Returns
        -------
        RunInfo
        """
        m = dict(method)

        def opt(key: str) -> str | None:
            v = m.get(key)
            return None if v is None else _text(v)

        network = m.get("network")
        return cls(
            network="not stated" if network is None else str(network),
            minutes=m.get("walk_minutes"),
            speed_m_per_min=m.get("walk_speed_m_per_min"),
            data_dates=opt("data_dates"),
            register=opt("register"),
            localities=opt("localities"),
            sources=opt("licences"),
            extra=tuple(
                (_label(k), _text(v))
                for k, v in m.items()
                if k not in _RUN_KEYS and k != "licences"
            ),
        )

    def walk(self) -> tuple[float, float]:
        """Return ``(minutes, speed_m_per_min)`` with the defaults resolved."""
        return resolve_minutes(self.minutes), resolve_speed(self.speed_m_per_min)

    @property
    def is_approximate(self) -> bool:
        """Whether the walk times come from the approximate (postcode proximity) network."""
        return "approximate" in self.network.lower()

    def notes(self) -> list[tuple[str, str]]:
        """Return the ``(label, text)`` lines after the network: extra lines, then the notes."""
        rows = list(self.extra)
        for label, text in [
            ("Data dates", self.data_dates),
            ("Register", self.register),
            ("Localities", self.localities),
        ]:
            if text is not None:
                rows.append((label, text))
        return rows

    def sources_text(self) -> str:
        """Return sources and licences (``settings.attribution`` by default)."""
        return settings.attribution if self.sources is None else self.sources


def resolve_run_info(
    run_info: RunInfo | None, method: Mapping[str, Any] | None, *, what: str
) -> RunInfo:
    """Return the run info given, or read from a method dict; never both."""
    if run_info is not None and method is not None:
        raise NwmGeoError(f"give run_info or {what}, not both")
    return run_info if run_info is not None else RunInfo.from_method(method or {})


def method_rows(
    outline: RequirementsOutline, *, run_info: RunInfo | None = None, **extra: Any
) -> list[tuple[str, str]]:
    """Return the method note of the spreadsheet as (label, text) rows.

    Parameters
    ----------
    outline
        The requirements outline (its business-case rules; its ``method`` dict when
        ``run_info`` is not given).
    run_info
        The run's method and provenance text; by default read from
        ``outline.method`` updated with ``extra``.
    **extra
        More method entries (e.g. ``data_dates="..."``); only without ``run_info``.

    Returns
    -------
    list of (str, str)
    """
    info = resolve_run_info(
        run_info,
        {**outline.method, **extra} if run_info is None else (extra or None),
        what="method entries",
    )
    minutes, speed = info.walk()
    rows = [
        ("Walking speed", f"{speed:g} m/min"),
        ("Walk threshold", f"{minutes:g} minutes"),
        ("Network", info.network),
    ]
    if info.is_approximate:
        rows.append(
            (
                "Approximation",
                "Walk times use an approximate network (postcode proximity), not the "
                "OpenStreetMap street network; treat times as indicative.",
            )
        )
    rows += info.notes()
    rows.append(("Sources and licences", info.sources_text()))
    for rid, rule in outline.rules.items():
        rows.append((f"Business case rule {rid}", rule))
    return rows


def _label(key: str) -> str:
    return METHOD_LABELS.get(key, key.replace("_", " ").capitalize())


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {x}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return "; ".join(str(x) for x in v)
    return str(v)


def public_text(text: str) -> str:
    """Free text as published: phone numbers, e-mail addresses and commit hashes removed."""
    return strip_commit_hashes(mask_personal_text(text)[0])
