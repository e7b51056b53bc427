"""Server-side Tables of custom resources from their CRD version's `additionalPrinterColumns`.

As kube-apiserver's apiextensions tableconvertor: a Name column, then one column per
printer column (type, format, priority and description as declared; the description
defaults to the JSONPath). Each cell is the first result of the column's JSONPath,
typed as the column says (integer, number, boolean, string; a `date` becomes a
human-readable age), or null when the path finds nothing or the type does not match.
With no printer columns a CRD gets an Age column, as Kubernetes defaults it.

Used by tables.table_for when rest.py passes a custom resource's printer columns.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from cli.client.jsonpath import JSONPath, format_value, relaxed

DEFAULT_COLUMNS = ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)


def column_definitions(columns: list[dict], name_column: dict) -> list[dict]:
    definitions = [dict(name_column)]
    for column in columns or DEFAULT_COLUMNS:
        definitions.append({
            "name": column["name"], "type": column.get("type", "string"), "format": column.get("format", ""),
            "description": column.get("description")
            or f"Custom resource definition column (in JSONPath format): {column['jsonPath']}",
            "priority": int(column.get("priority") or 0),
        })
    return definitions


@functools.lru_cache(maxsize=256)
def _compiled(path: str) -> JSONPath | None:
    try:
        return JSONPath(relaxed(path))
    except Exception:  # a CRD with a path we cannot parse prints null, never fails the list
        return None


def cell(column: dict, obj: dict, now: datetime, format_age) -> Any:
    path = _compiled(column["jsonPath"])
    if path is None:
        return None
    try:
        results = path.find(obj)
    except Exception:
        return None
    if not results or results[0] is None:
        return None
    value = results[0]
    column_type = column.get("type", "string")
    if column_type == "string":
        return format_value(value)
    if column_type == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if column_type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        return format_age(value, now) if _is_timestamp(value) else "<invalid>"
    return None


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def cells(columns: list[dict], obj: dict, now: datetime, format_age) -> list:
    name = (obj.get("metadata") or {}).get("name", "")
    return [name, *(cell(column, obj, now, format_age) for column in columns or DEFAULT_COLUMNS)]
