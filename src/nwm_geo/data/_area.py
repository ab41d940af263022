"""An area's data: its profile, its bundle folder, and each table read once.

In: an area profile (a name such as ``"rutland"``, a profile path or an
:class:`~nwm_geo.areas.Area`) and the imported bundle folder (default ``data/raw``).
Out: :class:`AreaData`, whose properties (``wards``, ``postcodes``, ``lsoas``,
``population``, ``deprivation``, ``assets``...) call the loaders of :mod:`nwm_geo.data`
the first time they are read and keep the result. :func:`open_area` makes one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd

from nwm_geo import settings
from nwm_geo.areas import Area, load_area
from nwm_geo.data._files import AreaFiles
from nwm_geo.data.assets import build_open_register, open_register_exclusions, read_register
from nwm_geo.data.boundaries import load_lsoas, load_oas, load_wards
from nwm_geo.data.deprivation import load_imd
from nwm_geo.data.population import build_demand_points
from nwm_geo.data.postcodes import load_postcodes

__all__ = ["AreaData", "open_area"]

T = TypeVar("T")


@dataclass(frozen=True, eq=False, repr=False)
class AreaData(AreaFiles):
    """A council's profile and data folder; each table is read from the bundle once.

    Make one with :func:`open_area`. The properties read their files the first time
    and return the same frame afterwards (treat them as read-only; copy before
    editing). Pass the object to a loader (``data.load_wards(area, year=2013)``) to read
    a table afresh.

    Attributes
    ----------
    profile
        The area profile (:class:`~nwm_geo.areas.Area`).
    data_dir
        The imported bundle folder (``data/raw``).
    verbose
        Show progress while building the demand points and the open register.

    Examples
    --------
    >>> from nwm_geo import data
    >>> rutland = data.open_area("rutland", data_dir="data/raw")  # nothing is read yet
    >>> rutland.profile.council, rutland.categories[:2]
    ('Rutland County Council', ('Religious Institution', 'Education'))
    """

    verbose: bool = field(default=False, compare=False)
    _tables: dict[tuple[str, int | None], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _once(self, key: tuple[str, int | None], read: Callable[[], T]) -> T:
        if key not in self._tables:
            self._tables[key] = read()
        found: T = self._tables[key]
        return found

    @property
    def name(self) -> str:
        """The area's name (``"Luton"``, ``"Rutland"``)."""
        return self.profile.name

    @property
    def categories(self) -> tuple[str, ...]:
        """The register categories this area uses, in its order (its profile's)."""
        return self.profile.categories

    @property
    def council_counts(self) -> Mapping[str, int] | None:
        """The council's published count per category, or None when it publishes none."""
        return self.profile.council_counts

    # -- boundaries -------------------------------------------------------------
    def wards_in(self, year: int | None = None) -> gpd.GeoDataFrame:
        """Return the wards of a pattern (:func:`~nwm_geo.data.load_wards`), read once.

        Parameters
        ----------
        year
            The ward pattern, as named in the profile; default the current one.
        """
        year = self.profile.ward_pattern(year).year
        return self._once(("wards", year), lambda: load_wards(self, year=year))

    @property
    def wards(self) -> gpd.GeoDataFrame:
        """The wards of the current pattern, indexed by ``ward_code`` (read once)."""
        return self.wards_in(None)

    def lsoas_in(self, year: int = 2021) -> gpd.GeoDataFrame:
        """Return the LSOAs of ``year`` (2021 or 2011) with their population, read once."""
        return self._once(("lsoas", year), lambda: load_lsoas(self, year=year))

    @property
    def lsoas(self) -> gpd.GeoDataFrame:
        """The 2021 LSOAs with Census 2021 population and age bands (read once)."""
        return self.lsoas_in(2021)

    @cached_property
    def oas(self) -> gpd.GeoDataFrame:
        """The 2011 Output Areas with Census 2011 population (read once)."""
        return load_oas(self)

    @cached_property
    def postcodes(self) -> gpd.GeoDataFrame:
        """The Code-Point Open postcodes of the area's bundle (read once)."""
        return load_postcodes(self)

    @cached_property
    def deprivation(self) -> gpd.GeoDataFrame:
        """The LSOA 2011 polygons with their IMD 2019 rank and deciles (read once)."""
        return load_imd(self)

    @cached_property
    def population(self) -> gpd.GeoDataFrame:
        """The residential demand points (:func:`~nwm_geo.data.build_demand_points`).

        One per postcode, carrying Census 2021 population, age bands and the IMD 2019 of
        its LSOA 2011; built once from :attr:`postcodes`, :attr:`lsoas`, :attr:`oas`,
        :attr:`wards` and :attr:`deprivation`, which are read once too.
        """
        return build_demand_points(
            self.postcodes,
            self.lsoas,
            self.oas,
            self.wards,
            imd=self.deprivation,
            verbose=self.verbose,
        )

    # -- assets -----------------------------------------------------------------
    @cached_property
    def _open_register(self) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
        return build_open_register(
            self, postcodes=self.postcodes, wards=self.wards, verbose=self.verbose
        )

    @property
    def assets(self) -> gpd.GeoDataFrame:
        """The register built from the area's open asset files (built once).

        See :func:`~nwm_geo.data.build_open_register`; indexed by ``asset_id``.
        """
        return self._open_register[0]

    @property
    def merges(self) -> pd.DataFrame:
        """The de-duplication log of :attr:`assets` (one row per merged duplicate)."""
        return self._open_register[1]

    @cached_property
    def exclusions(self) -> pd.DataFrame:
        """The open-data records left out of :attr:`assets`, with why (read once)."""
        return open_register_exclusions(self)

    def read_register(
        self,
        path: str | Path,
        *,
        columns: Mapping[str, str] | None = None,
        sheet: str | int | None = None,
        layer: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a council register file against this area (:func:`~nwm_geo.data.read_register`).

        Its postcodes, current wards and categories are this area's (the cached
        :attr:`postcodes` and :attr:`wards`). Not cached: the file is the council's.
        """
        return read_register(
            path,
            columns=columns,
            sheet=sheet,
            layer=layer,
            postcodes=self.postcodes,
            wards=self.wards,
            area=self,
        )


def open_area(
    area: str | Path | Area | None = None,
    *,
    data_dir: str | Path | None = None,
    verbose: bool = False,
) -> AreaData:
    """Return an area's data: its profile and bundle folder, each table read once.

    Nothing is read until a table is asked for (``open_area("rutland").wards``).

    Parameters
    ----------
    area
        A shipped area (``"luton"``, the default :data:`nwm_geo.settings.default_area`;
        ``"rutland"``), the path of an area profile ``.toml`` or an
        :class:`~nwm_geo.areas.Area`.
    data_dir
        The imported bundle folder; default ``data/raw`` under the project
        (:func:`nwm_geo.settings.raw_dir`, read now).
    verbose
        Show progress while building the demand points and the open register.

    Returns
    -------
    AreaData

    Raises
    ------
    ProfileError
        If the profile is unknown or malformed.
    """
    folder = Path(data_dir) if data_dir is not None else settings.raw_dir()
    return AreaData(load_area(area), folder, verbose=verbose)
