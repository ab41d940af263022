"""Printable pages: text and tables drawn with fpdf2, maps laid over them from matplotlib.

A :class:`PdfDocument` is a list of :class:`PdfPage` s in the layout's own terms (figure
fractions, ``y`` from the bottom, as matplotlib's ``fig.text``): :meth:`PdfPage.text`,
:meth:`PdfPage.line`, :meth:`PdfPage.band`, and :meth:`PdfPage.figure`, a transparent
matplotlib figure of the page's size for a map. Drawing is recorded per page, so a
layout may go back to an earlier page (a two-column page whose right column continues
on the page the left column started), and replayed in page order on :meth:`save`.

Text is set in DejaVu Sans (the font matplotlib ships and draws its maps in), one PDF
text object per line, instead of one matplotlib ``Text`` artist per cell: the ward
profiles and the locality pack hold about 150,000 characters, which matplotlib laid
out and embedded glyph by glyph (most of ``nwm-geo run``'s time). Files are written by
:func:`nwm_geo._publish.save_pdf`: every text masked (:func:`nwm_geo._publish.publish_pdf`),
the metadata masked, each map masked (:func:`nwm_geo._publish.publish_figure`) and laid
over its page as vector graphics with its text kept as text.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwm_geo import maps
from nwm_geo._publish import publish_pdf, publish_text, save_pdf

if TYPE_CHECKING:
    from fpdf import FPDF
    from matplotlib.figure import Figure

__all__ = ["ASCENT", "DESCENT", "LINE_PITCH", "PdfDocument", "PdfPage"]

#: Height above the baseline of the top of a line (DejaVu Sans, in font sizes): where
#: matplotlib puts the top of a text aligned "top".
ASCENT = 0.76
#: Depth of a line below its baseline (font sizes): the bottom of a text aligned "bottom".
DESCENT = 0.24
#: Baseline to baseline of the lines of one text (font sizes), as matplotlib spaces them.
LINE_PITCH = 1.16

_FAMILY = "DejaVu"
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


@lru_cache(maxsize=256)  # a few colours, thousands of texts: matplotlib parses each once
def _rgb(color: str) -> tuple[int, int, int]:
    """``"#333333"`` (or ``"black"``) as 0-255 red, green, blue."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return round(r * 255), round(g * 255), round(b * 255)


class PdfPage:
    """One page: what is drawn on it, recorded in figure fractions (``y`` up)."""

    def __init__(self, doc: PdfDocument) -> None:
        self._doc = doc
        self._ops: list[Callable[[FPDF], None]] = []
        self._figure: Figure | None = None

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        size: float,
        weight: str = "normal",
        style: str = "normal",
        va: str = "top",
        color: str = "black",
    ) -> None:
        """Draw a text, one line per line break, like ``fig.text``.

        Parameters
        ----------
        x, y
            Left edge and the top (``va="top"``) or bottom (``va="bottom"``) of the text,
            figure fractions.
        s
            The text; masked as a whole before it is split into lines.
        size
            Font size, points.
        weight, style
            ``"bold"``; ``"italic"``.
        va
            ``"top"`` or ``"bottom"``.
        color
            Any matplotlib colour.
        """
        lines = publish_text(s).split("\n")
        width, height = self._doc.size_pt
        left = x * width
        if va == "top":
            first = (1 - y) * height + ASCENT * size
        else:
            first = (1 - y) * height - DESCENT * size - (len(lines) - 1) * LINE_PITCH * size
        font = "B" if weight == "bold" else "I" if style == "italic" else ""
        self._doc.chars.setdefault(font, set()).update(*lines)
        rgb = _rgb(color)

        def draw(pdf: FPDF) -> None:
            pdf.set_font(_FAMILY, font, size)
            pdf.set_text_color(*rgb)
            for i, line in enumerate(lines):
                if line:
                    pdf.text(left, first + i * LINE_PITCH * size, line)

        self._ops.append(draw)

    def line(self, x0: float, x1: float, y: float, *, width: float, color: str) -> None:
        """Draw a horizontal rule from ``x0`` to ``x1`` at ``y`` (``width`` in points)."""
        w, h = self._doc.size_pt
        rgb = _rgb(color)

        def draw(pdf: FPDF) -> None:
            pdf.set_draw_color(*rgb)
            pdf.set_line_width(width)
            pdf.line(x0 * w, (1 - y) * h, x1 * w, (1 - y) * h)

        self._ops.append(draw)

    def band(self, x: float, y: float, width: float, height: float, *, color: str) -> None:
        """Fill a rectangle (lower-left corner ``x, y``) behind what is drawn after it."""
        w, h = self._doc.size_pt
        rgb = _rgb(color)

        def draw(pdf: FPDF) -> None:
            pdf.set_fill_color(*rgb)
            pdf.rect(x * w, (1 - y - height) * h, width * w, height * h, style="F")

        self._ops.append(draw)

    def figure(self) -> Figure:
        """Return the page's matplotlib figure (transparent, the page's size) for a map.

        It is masked, printed and laid over the page when the document is saved; add
        axes to it at the page's figure fractions (``fig.add_axes``).
        """
        if self._figure is None:
            fig = maps.new_figure(self._doc.size, layout=None)
            fig.patch.set_alpha(0.0)
            self._figure = fig
        return self._figure


class PdfDocument:
    """A PDF of :class:`PdfPage` s, saved atomically through :mod:`nwm_geo._publish`.

    Parameters
    ----------
    size
        Page size, inches (width, height).
    metadata
        ``Title``, ``Subject``, ``Creator`` of the file (masked when saved).
    """

    def __init__(self, size: tuple[float, float], *, metadata: dict[str, str]) -> None:
        self.size = size
        self.size_pt = (size[0] * 72.0, size[1] * 72.0)
        self.metadata = dict(metadata)
        self.pages: list[PdfPage] = []
        # the characters drawn in each font style: only those fonts are read, and of each
        # only those characters' widths and glyphs (the file is the same: fpdf2 embeds
        # only the glyphs drawn anyway)
        self.chars: dict[str, set[str]] = {}

    @property
    def styles(self) -> set[str]:
        """The font styles drawn with ("" regular, "B" bold, "I" italic)."""
        return set(self.chars)

    def new_page(self) -> PdfPage:
        """Add a page at the end; return it."""
        page = PdfPage(self)
        self.pages.append(page)
        return page

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Draw every page and write the file (:func:`nwm_geo._publish.save_pdf`)."""
        import matplotlib
        from fpdf import FPDF

        pdf = publish_pdf(FPDF(unit="pt", format=self.size_pt))
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_compression(True)
        fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        for style, name in _FILES.items():
            if style in self.chars:  # reading a font file costs: only those used
                used = sorted({ord(c) for c in self.chars[style]}) or [ord(" ")]
                pdf.add_font(_FAMILY, style, str(fonts / name), unicode_range=used)
        meta: dict[str, Callable[[str], Any]] = {
            "Title": pdf.set_title,
            "Subject": pdf.set_subject,
            "Creator": pdf.set_creator,
        }
        for key, value in self.metadata.items():
            meta[key](value)
        figures: list[tuple[int, Figure]] = []
        for i, page in enumerate(self.pages):
            pdf.add_page()
            for op in page._ops:
                op(pdf)
            if page._figure is not None:
                figures.append((i, page._figure))
        return save_pdf(pdf, path, figures=figures)
