"""kubectl columns for policy/v1 PodDisruptionBudget and scheduling.k8s.io/v1 PriorityClass.

As printPodDisruptionBudget / printPriorityClass in Kubernetes' printers.go.

Used by: orchestrator/apiserver/tables.py, which merges COLUMNS and PRINTERS into its own.
"""

from __future__ import annotations

from datetime import datetime


def pdb_cells(pdb: dict, now: datetime, *, name, age) -> list:
    spec = pdb.get("spec") or {}
    status = pdb.get("status") or {}
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [
        name(pdb),
        "N/A" if min_available is None else str(min_available),
        "N/A" if max_unavailable is None else str(max_unavailable),
        status.get("disruptionsAllowed") or 0,
        age(pdb, now),
    ]


def priority_class_cells(priority_class: dict, now: datetime, *, name, age) -> list:
    return [
        name(priority_class),
        priority_class.get("value") or 0,
        bool(priority_class.get("globalDefault")),
        age(priority_class, now),
        priority_class.get("preemptionPolicy") or "",
    ]


def columns(column, name_column, age_column) -> dict[str, list[dict]]:
    """Column definitions, built with tables.py's own column helpers."""
    return {
        "poddisruptionbudgets": [
            name_column,
            column("Min Available", "The minimum number of pods that must be available."),
            column("Max Unavailable", "The maximum number of pods that may be unavailable."),
            column("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.",
                   type_="integer"),
            age_column,
        ],
        "priorityclasses": [
            name_column,
            column("Value", "The value of this priority class.", type_="integer"),
            column("Global-Default", "globalDefault specifies whether this PriorityClass should be considered as "
                   "the default priority.", type_="boolean"),
            age_column,
            column("PreemptionPolicy", "PreemptionPolicy is the Policy for preempting pods with lower priority."),
        ],
    }


def printers(name, age) -> dict:
    """Row printers keyed by plural, closed over tables.py's NAME and AGE cells."""
    return {
        "poddisruptionbudgets": lambda pdb, now: pdb_cells(pdb, now, name=name, age=age),
        "priorityclasses": lambda pc, now: priority_class_cells(pc, now, name=name, age=age),
    }
