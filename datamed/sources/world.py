"""World country outlines for the offline world map.

No world geometry ships with the raw data; the Natural Earth 1:110m country
outlines (public domain) come with the pyogrio package (a registry
dependency), read here with the pure-Python pyshp. Returns None when absent.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import polars as pl
import shapefile  # pyshp

FIXTURE = Path("tests") / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"
# Natural Earth leaves a few ISO codes at "-99"
ISO_FIXES = {"France": "FRA", "Norway": "NOR", "Kosovo": "XKX"}


def natural_earth_path() -> Path | None:
    spec = importlib.util.find_spec("pyogrio")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / FIXTURE
    return path if path.exists() else None


def _round(value, digits: int):
    if isinstance(value, (int, float)):
        return round(float(value), digits)
    return [_round(v, digits) for v in value]


def read_world_countries() -> tuple[pl.DataFrame, Path] | None:
    path = natural_earth_path()
    if path is None:
        return None

    rows = []
    for item in shapefile.Reader(str(path)).shapeRecords():
        rec = item.record.as_dict()
        iso = ISO_FIXES.get(rec["name"], rec["iso_a3"])
        if not iso or iso == "-99":
            continue
        geom = item.shape.__geo_interface__
        geom = {"type": geom["type"], "coordinates": _round(geom["coordinates"], 2)}
        rows.append((iso, rec["name"], rec["continent"], json.dumps(geom, separators=(",", ":"))))
    frame = pl.DataFrame(
        rows, schema={"iso3": pl.String, "nom": pl.String, "continent": pl.String, "geometrie": pl.String}, orient="row"
    )
    return frame, path
