"""Short displays for result objects: a few lines as ``repr``, a small table in notebooks.

In: a class's :meth:`Display._summary` (a title and a few lines). Out: its ``__repr__``
(plain text, a few lines) and ``_repr_html_`` (escaped HTML, what Jupyter shows).
A dataclass that inherits :class:`Display` is declared with ``repr=False`` so that the
dataclass does not replace the short ``repr`` by one that prints every table.
"""

from __future__ import annotations

import dataclasses
import html
import textwrap
from typing import Any

__all__ = ["Display", "frame_shape"]


def frame_shape(frame: object) -> str:
    """Return ``"N rows"`` for a table (anything with ``len``), else its type name.

    Examples
    --------
    >>> frame_shape([1, 2, 3])
    '3 rows'
    """
    try:
        n = len(frame)  # type: ignore[arg-type]
    except TypeError:
        return type(frame).__name__
    return f"{n:,} row" + ("" if n == 1 else "s")


class Display:
    """Mixin: ``repr`` and notebook display from :meth:`_summary`."""

    def _summary(self) -> tuple[str, list[str]]:
        """Return the title and the lines to show: by default, a dataclass's fields.

        Tables are named with their number of rows, short values shown as they are,
        wrapped to a few lines.
        """
        tables, values = [], []
        fields: tuple[dataclasses.Field[Any], ...] = (
            dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()
        )
        for f in fields:
            value = getattr(self, f.name)
            if isinstance(value, bool | int | float | str) or value is None:
                text = f"{value:.4g}" if isinstance(value, float) else repr(value)
                values.append(f"{f.name} = {text if len(text) <= 40 else text[:37] + '...'}")
            else:
                tables.append(f"{f.name} ({frame_shape(value)})")
        lines = textwrap.wrap(", ".join(tables), 88) + textwrap.wrap("; ".join(values), 88)
        return type(self).__name__, lines[:6]

    def __repr__(self) -> str:
        """Return a few lines: the title, then each line indented."""
        title, lines = self._summary()
        return "\n".join([f"<{title}>", *(f"  {line}" for line in lines)])

    def _repr_html_(self) -> str:
        """Return the same lines as a small HTML block, every text escaped."""
        title, lines = self._summary()
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        return (
            f"<div class='nwm-geo'><strong>{html.escape(title)}</strong>"
            f"<ul style='margin:0'>{items}</ul></div>"
        )
