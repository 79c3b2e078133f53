"""The public form of a prepared dataset: its published columns and its Table Schema.

Used by the release (``datamed.release.publish``) to write files and by the
"Données ouvertes" page to document and serve them, so both show the same thing.
"""

from __future__ import annotations

import polars as pl

from datamed.core.rule import MASK
from datamed.datasets.registry import BY_NAME, COLUMNS_FR, INTERNAL_COLUMNS, Dataset

LIST_SEPARATOR = " | "


def public_frame(resource: Dataset, frame: pl.DataFrame) -> pl.DataFrame:
    """The public columns of a prepared dataset; lists become ``a | b`` strings."""
    drop = [c for c in (*INTERNAL_COLUMNS, *resource.drop) if c in frame.columns]
    frame = frame.drop(drop)
    lists = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Array))]
    if lists:
        frame = frame.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR) for c in lists)
    unsigned = [c for c, t in frame.schema.items() if t in (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)]
    if unsigned:
        frame = frame.with_columns(pl.col(c).cast(pl.Int64) for c in unsigned)
    return frame


def _field_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return "string"


def table_schema(resource: Dataset, frame: pl.DataFrame, foreign_keys: list[tuple[str, str, str]]) -> dict:
    fields = []
    counts = set(resource.disclosure.counts) if resource.disclosure else set()
    for name, dtype in frame.schema.items():
        spec = {
            "name": name,
            "type": _field_type(dtype),
            "description": resource.columns.get(name) or COLUMNS_FR.get(name, name.replace("_", " ")),
        }
        if dtype == pl.Date:
            spec["format"] = "%Y-%m-%d"
        constraints = {}
        if name in resource.primary_key:
            constraints["required"] = True
        if len(resource.primary_key) == 1 and name in resource.primary_key:
            constraints["unique"] = True
        if name in resource.patterns:
            constraints["pattern"] = resource.patterns[name]
        if name in resource.enums:
            constraints["enum"] = list(resource.enums[name])
        if name.endswith("_statut") and name[: -len("_statut")] in counts:
            constraints["enum"] = [MASK]
        if constraints:
            spec["constraints"] = constraints
        fields.append(spec)
    schema: dict = {"fields": fields, "missingValues": [""]}
    if resource.primary_key:
        schema["primaryKey"] = list(resource.primary_key)
    if foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [f], "reference": {"resource": res, "fields": [ref]}} for f, res, ref in foreign_keys
        ]
    return schema


def unpublished(manifest: dict) -> list[tuple[str, str]]:
    """Prepared datasets kept out of the release, with the reason."""
    return [
        (name, (BY_NAME[name].internal if name in BY_NAME else None) or "table interne, non destinée à la publication")
        for name in manifest.get("datasets", {})
        if name not in BY_NAME or not BY_NAME[name].public
    ]
