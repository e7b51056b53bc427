"""kubectl's columns for autoscaling HorizontalPodAutoscalers, as kube-apiserver 1.32 prints them.

`kubectl get hpa`: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE, TARGETS like
`cpu: 180%/50%` (`<unknown>` until the controller has measured; the first two metrics, then
`+ N more...`). `register` adds them to tables.py's column and printer tables (its last lines);
tables.py's helpers are imported inside functions, so either module may be imported first.
"""

from __future__ import annotations

from datetime import datetime

MAX_SHOWN_METRICS = 2


def register(columns: dict, printers: dict) -> None:
    from orchestrator.apiserver.tables import _AGE, _NAME, _column

    columns["horizontalpodautoscalers"] = [
        _NAME,
        _column("Reference", "scaleTargetRef points to the target resource to scale, and is used to the pods for "
                "which metrics should be collected, as well as to actually change the replica count."),
        _column("Targets", "metrics contains the specifications for which to use to calculate the desired replica "
                "count (the maximum replica count across all metrics will be used)."),
        _column("MinPods", "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
                "scale down."),
        _column("MaxPods", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
                "scale up. It cannot be less that minReplicas."),
        _column("Replicas", "currentReplicas is current number of replicas of pods managed by this autoscaler, as "
                "last seen by the autoscaler."),
        _AGE,
    ]
    printers["horizontalpodautoscalers"] = hpa_cells


def _current(statuses: list, index: int, source: str) -> dict | None:
    if index < len(statuses) and (statuses[index] or {}).get(source):
        return statuses[index][source].get("current") or {}
    return None


def _utilization_or_value(name: str, target: dict, current: dict | None) -> str:
    if target.get("averageValue") is not None:
        shown = current.get("averageValue") if current and current.get("averageValue") is not None else "<unknown>"
        return f"{name}: {shown}/{target['averageValue']}"
    shown = (f"{current['averageUtilization']}%" if current and current.get("averageUtilization") is not None
             else "<unknown>")
    wanted = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
    return f"{name}: {shown}/{wanted}"


def format_targets(specs: list, statuses: list) -> str:
    """printers.go formatHPAMetrics (1.32): each metric `name: current/target`."""
    if not specs:
        return "<none>"
    shown = []
    for index, metric in enumerate(specs):
        if len(shown) == MAX_SHOWN_METRICS:
            break
        kind = metric.get("type")
        if kind in ("Resource", "ContainerResource"):
            field = "resource" if kind == "Resource" else "containerResource"
            source = metric.get(field) or {}
            shown.append(_utilization_or_value(source.get("name", ""), source.get("target") or {},
                                               _current(statuses, index, field)))
        elif kind in ("Pods", "Object", "External"):
            field = kind.lower()
            source = metric.get(field) or {}
            target = source.get("target") or {}
            current = _current(statuses, index, field)
            wanted = target.get("averageValue") if target.get("averageValue") is not None else target.get("value")
            value = None
            if current:
                value = current.get("averageValue") if current.get("averageValue") is not None else current.get("value")
            suffix = " (avg)" if kind != "Pods" and target.get("averageValue") is not None else ""
            shown.append(f"{value if value is not None else '<unknown>'}/{wanted}{suffix}")
        else:
            shown.append("<unknown type>")
    text = ", ".join(shown)
    if len(specs) > MAX_SHOWN_METRICS:
        text += f" + {len(specs) - MAX_SHOWN_METRICS} more..."
    return text


def hpa_cells(hpa: dict, now: datetime) -> list:
    from orchestrator.apiserver.tables import _get, format_age

    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [
        _get(hpa, "metadata", "name") or "",
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        format_targets(spec.get("metrics") or [], status.get("currentMetrics") or []),
        str(minimum) if minimum is not None else "<unset>",
        spec.get("maxReplicas") or 0,
        status.get("currentReplicas") or 0,
        format_age(_get(hpa, "metadata", "creationTimestamp"), now),
    ]

