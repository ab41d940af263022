"""Compare the outputs of two `nwm-geo run` project folders, for a refactor's check.

Usage: ``python scripts/compare_runs.py BEFORE AFTER`` (each holding ``data/processed``
and ``reports``). Every output file is compared; a file that differs byte for byte is
compared by content, ignoring only what changes from run to run:

- CSV: ``runtime_s`` and ``*_seconds`` columns (solver run times);
- GeoPackage: metadata timestamps, osmnx's ``created_date``, and the order inside
  osmnx's list attributes (``list(set(...))``, which follows ``PYTHONHASHSEED``);
- XLSX: document timestamps, and numbers under a "Runtime s" heading (cells, number
  formats, fonts, widths, frozen panes and filters are compared);
- PDF: ``CreationDate``, ``ModDate`` and ``ID``;
- HTML: folium's random element ids;
- JSON: keys naming a time.

Prints one line per file that differs and why it is the same, then a summary; exits 1
when a real difference is found.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

RUN_TIME_HEADINGS = ("runtime", "seconds")


def _csv(a: Path, b: Path) -> bool:
    x, y = pd.read_csv(a), pd.read_csv(b)
    drop = [c for c in x.columns if c == "runtime_s" or c.endswith("_seconds")]
    return x.drop(columns=drop).equals(y.drop(columns=[c for c in drop if c in y.columns]))


def _canon(v: Any) -> Any:
    if isinstance(v, str) and v.startswith("[") and v.endswith("]"):
        try:
            return str(sorted(map(str, ast.literal_eval(v))))
        except (ValueError, SyntaxError):
            return v
    return v


def _gpkg(a: Path, b: Path) -> bool:
    import pyogrio

    layers = [str(lyr[0]) for lyr in pyogrio.list_layers(a)]
    if layers != [str(lyr[0]) for lyr in pyogrio.list_layers(b)]:
        return False
    for layer in layers:
        x, y = pyogrio.read_dataframe(a, layer=layer), pyogrio.read_dataframe(b, layer=layer)
        if "geometry" not in x.columns:
            if "key" in x.columns:  # osmnx graph attributes: created_date is a timestamp
                x, y = x[x["key"] != "created_date"], y[y["key"] != "created_date"]
            if not x.equals(y):
                return False
            continue
        if list(x.columns) != list(y.columns):
            return False
        for c in x.columns:
            if c != "geometry" and not pd.api.types.is_numeric_dtype(x[c]):
                x[c], y[c] = x[c].map(_canon), y[c].map(_canon)
        if not x.drop(columns="geometry").equals(y.drop(columns="geometry")):
            return False
        if not x.geometry.geom_equals_exact(y.geometry, 0).all():
            return False
    return True


def _cells(ws: Any) -> list[list[tuple[Any, ...]]]:
    return [[(c.value, c.number_format, c.font.b, c.font.sz) for c in r] for r in ws.iter_rows()]


def _run_time_columns(ws: Any) -> dict[int, int]:
    heads: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and any(h in c.value.lower() for h in RUN_TIME_HEADINGS):
                heads[c.column] = c.row
    return heads


def _sheet_same(sa: Any, sb: Any) -> bool:
    ra, rb = _cells(sa), _cells(sb)
    if len(ra) != len(rb):
        return False
    heads = _run_time_columns(sa)
    for r1, r2 in zip(sa.iter_rows(), sb.iter_rows(), strict=True):
        for c1, c2 in zip(r1, r2, strict=True):
            if (c1.value, c1.number_format, c1.font.b) == (c2.value, c2.number_format, c2.font.b):
                continue
            if not (
                c1.column in heads and c1.row > heads[c1.column] and isinstance(c1.value, float)
            ):
                return False
    widths_a = {k: d.width for k, d in sa.column_dimensions.items()}
    widths_b = {k: d.width for k, d in sb.column_dimensions.items()}
    return (
        widths_a == widths_b
        and sa.freeze_panes == sb.freeze_panes
        and sa.auto_filter.ref == sb.auto_filter.ref
    )


def _xlsx(a: Path, b: Path) -> bool:
    from openpyxl import load_workbook

    wa, wb = load_workbook(a), load_workbook(b)
    return wa.sheetnames == wb.sheetnames and all(_sheet_same(wa[n], wb[n]) for n in wa.sheetnames)


def _pdf(a: Path, b: Path) -> bool:
    def strip(data: bytes) -> bytes:
        data = re.sub(rb"/ID\s*\[\s*<[^>]*>\s*<[^>]*>\s*\]", b"", data)
        return re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)", b"", data)

    return strip(a.read_bytes()) == strip(b.read_bytes())


def _html(a: Path, b: Path) -> bool:
    def ids(t: str) -> str:
        return re.sub(r"[0-9a-f]{32}", "ID", t)

    return ids(a.read_text(encoding="utf-8")) == ids(b.read_text(encoding="utf-8"))


def _json(a: Path, b: Path) -> bool:
    def clean(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items() if "time" not in k.lower()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    return bool(clean(json.loads(a.read_text())) == clean(json.loads(b.read_text())))


COMPARE = {".csv": _csv, ".gpkg": _gpkg, ".xlsx": _xlsx, ".pdf": _pdf, ".html": _html}
COMPARE[".json"] = _json


def _outputs(root: Path) -> list[Path]:
    folders = [root / "data" / "processed", root / "reports"]
    return sorted(p.relative_to(root) for f in folders for p in f.rglob("*") if p.is_file())


def main(before: Path, after: Path) -> int:
    files_a, files_b = _outputs(before), _outputs(after)
    real = [f"only in one run: {p}" for p in sorted(set(files_a) ^ set(files_b))]
    same_bytes = 0
    for rel in sorted(set(files_a) & set(files_b)):
        a, b = before / rel, after / rel
        if a.read_bytes() == b.read_bytes():
            same_bytes += 1
            continue
        compare = COMPARE.get(a.suffix)
        if compare is not None and compare(a, b):
            print(f"same  {rel} (but for run times, timestamps or random ids)")
        else:
            real.append(str(rel))
            print(f"DIFF  {rel}")
    n = len(set(files_a) & set(files_b))
    print(f"{n} files compared: {same_bytes} byte-identical; {len(real)} real difference(s)")
    return 1 if real else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
