"""Short displays for result objects: a few lines as ``repr``, a small table in notebooks.

In: a class's :meth:`Display._summary` (a title and a few lines). Out: its ``__repr__``
(plain text, a few lines) and ``_repr_html_`` (escaped HTML, what Jupyter shows).
A dataclass that inherits :class:`Display` is declared with ``repr=False`` so that the
dataclass does not replace the short ``repr`` by one that prints every table.
"""

from __future__ import annotations

import html

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
        """Return the title and the lines to show (each short)."""
        raise NotImplementedError

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
