"""Summaries of a study for people: coverage per locality, the equity headline and lines."""

from __future__ import annotations

import pandas as pd

from nwm_geo import coverage
from nwm_geo.pipeline._study import Study
from nwm_geo.pipeline._wards import coverage_by_locality

__all__ = ["EQUITY_COLUMNS", "coverage_by_locality", "equity_headline", "equity_sections"]

#: The equity gap columns the summaries show, in order (``equity.gaps`` column ->
#: (heading of :func:`equity_headline`, name in :func:`equity_sections`, where a
#: percentage or a difference in points becomes a share)).
EQUITY_COLUMNS: dict[str, tuple[str, str]] = {
    "covered_pct": ("all %", "covered_share"),
    "most_deprived_quintile": ("most deprived Q", "most_deprived_quintile"),
    "most_deprived_population": ("most deprived n", "most_deprived_population"),
    "most_deprived_covered_pct": ("most deprived %", "most_deprived_share"),
    "least_deprived_quintile": ("least deprived Q", "least_deprived_quintile"),
    "least_deprived_population": ("least deprived n", "least_deprived_population"),
    "least_deprived_covered_pct": ("least deprived %", "least_deprived_share"),
    "quintile_gap_pp": ("deprivation gap pp", "deprivation_gap_share"),
    "age_65_plus_population": ("65+ n", "age_65_plus_population"),
    "age_65_plus_covered_pct": ("65+ % (own speed)", "age_65_plus_share"),
    "age_gap_pp": ("age gap pp", "age_gap_share"),
    "concentration_index": ("conc. index", "concentration_index"),
}


def equity_headline(study: Study) -> pd.DataFrame:
    """Return the area's deprivation and age gaps per bundle, as ``nwm-geo run`` prints them.

    Parameters
    ----------
    study
        The study.

    Returns
    -------
    pandas.DataFrame
        Indexed by bundle (and "all three bundles"): residents within the walk (%),
        the most and least deprived IMD quintiles present with their residents (n),
        shares and the gap (pp), 65+ residents (n) within at their speed (%) and the gap
        to all residents (pp), and the concentration index; rounded for display.
        ``attrs["small_groups"]`` holds the note of each bundle with a small group
        (:func:`nwm_geo.equity.flag_small_groups`).
    """
    gaps = study.equity.gaps
    rows = gaps[gaps["locality"] == study.profile.name].set_index("measure")
    names = [*study.bundles, coverage.all_bundles_label(study.bundles)]
    rows = rows.loc[[n for n in names if n in rows.index]]
    out = pd.DataFrame({head: rows[col] for col, (head, _) in EQUITY_COLUMNS.items()})
    out.index.name = "bundle"
    out = out.round({c: 3 if c == "conc. index" else 1 for c in out.columns})
    out.attrs["small_groups"] = {str(k): str(v) for k, v in rows["small_groups"].items() if v}
    return out


def equity_sections(study: Study) -> dict[str, pd.DataFrame]:
    """Return, per locality and for the area, its deprivation and age lines per bundle.

    For a workbook's locality sheets (e.g. a ``WorkbookContext.equity`` hook): shares
    are fractions (0–1) and gaps differences of shares, so a percentage format shows
    them as percent and percentage points; the concentration index is text (``+0.114``).

    Parameters
    ----------
    study
        The study.

    Returns
    -------
    dict
        Locality (and the area's name) -> a table with one row per bundle and "all three
        bundles": ``measure``, ``population``, ``covered_share``,
        ``most_deprived_quintile``, ``most_deprived_population``, ``most_deprived_share``,
        ``least_deprived_quintile``, ``least_deprived_population``,
        ``least_deprived_share``, ``deprivation_gap_share``, ``age_65_plus_population``,
        ``age_65_plus_share`` (at their speed), ``age_gap_share``, ``concentration_index``
        and ``small_groups`` (:func:`nwm_geo.equity.flag_small_groups`).
    """
    gaps = study.equity.gaps
    names = [*study.bundles, coverage.all_bundles_label(study.bundles)]
    rows = gaps[gaps["measure"].isin(names)]
    out: dict[str, pd.DataFrame] = {}
    for loc, t in rows.groupby("locality", sort=False):
        table = {
            name: t[col] / 100 if col.endswith(("_pct", "_pp")) else t[col]
            for col, (_, name) in EQUITY_COLUMNS.items()
        }
        table["concentration_index"] = pd.to_numeric(t["concentration_index"], errors="coerce")
        out[str(loc)] = pd.DataFrame(
            {
                "measure": t["measure"].astype(str),
                "population": t["population"].astype(int),
                **table,
                "small_groups": t["small_groups"].astype(str),
            }
        ).reset_index(drop=True)
    return out
