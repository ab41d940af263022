"""Exceptions raised by nwm_geo.

Every error the library raises on purpose is a :class:`NwmGeoError`, so callers
(and the CLI) can catch one class. Subclasses say which stage failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "DataValidationError",
    "InfeasiblePartitionError",
    "NetworkError",
    "NwmGeoError",
    "Problem",
    "SolverError",
]


class NwmGeoError(ValueError):
    """Base class for every error raised on purpose by nwm_geo."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating an input file.

    Parameters
    ----------
    file
        The file the problem is in (or a description such as ``"<DataFrame>"``).
    row
        1-based data row number (the first record is 1), or ``None`` for file-level
        problems. Messages show the row as a spreadsheet shows it (:attr:`shown_row`).
    column
        The column concerned, or ``None``.
    value
        The offending value, as text.
    reason
        What is wrong, in plain words.
    """

    file: str
    row: int | None
    column: str | None
    value: str
    reason: str

    @property
    def shown_row(self) -> str | None:
        """Where the row is as the user sees it.

        ``"row N"`` as Excel numbers a CSV or XLSX file (the header is row 1, so the
        first record is row 2), ``"feature N"`` in a spatial file, ``None`` for a
        file-level problem.
        """
        if self.row is None:
            return None
        if self.file.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")):
            return f"row {self.row + 1}"
        return f"feature {self.row}"

    def __str__(self) -> str:
        where = [self.file]
        if self.shown_row is not None:
            where.append(self.shown_row)
        if self.column is not None:
            where.append(f"column '{self.column}'")
        value = f" (value: {self.value!r})" if self.value != "" else ""
        return f"{', '.join(where)}: {self.reason}{value}"


class DataValidationError(NwmGeoError):
    """An input file has one or more problems; all of them are listed.

    Attributes
    ----------
    problems
        Every problem found, in file order.
    """

    def __init__(self, problems: Iterable[Problem], *, max_listed: int = 20) -> None:
        self.problems: Sequence[Problem] = list(problems)
        lines = [str(p) for p in self.problems[:max_listed]]
        more = len(self.problems) - max_listed
        if more > 0:
            lines.append(f"... and {more} more problem(s)")
        n = len(self.problems)
        header = f"{n} problem{'s' if n != 1 else ''} found in the input:"
        super().__init__("\n".join([header, *("  - " + line for line in lines)]))


class NetworkError(NwmGeoError):
    """A walk network could not be loaded, downloaded or built."""


class InfeasiblePartitionError(NwmGeoError):
    """No partition satisfies the requested localities rules."""


class SolverError(NwmGeoError):
    """An optimisation solver failed or did not return a usable proof status."""
