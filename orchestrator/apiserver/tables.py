"""Server-side Table output (meta.k8s.io/v1 `Table`): the columns and cells `kubectl get` prints.

kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints whatever the
server returns, so the printers here reproduce Kubernetes' pkg/printers/internalversion/printers.go
cell for cell. Like the kube-apiserver (pkg/printers/storage), every row carries the wide
(priority 1) cells too; kubectl hides those unless `-o wide`. Ages follow apimachinery's
duration.HumanDuration. Column and cell types are Kubernetes' own, inconsistencies included
(e.g. DATA is declared "string" but its cells are integers).

Used by: the apiserver's generic REST handlers (get, list, watch) when a client negotiates a
Table; they pass the `includeObject` query parameter and the list's metadata through, and on a
watch ask for column definitions with the first event only (`no_headers`), as Kubernetes does.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.api.errors import BadRequest
from orchestrator.apiserver import tables_networking, tables_policy
from orchestrator.apiserver.selectors import selector_from_object, selector_from_set

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."
_SELECTOR_DOC = "A label query over pods that should match the replica count."


def _column(name: str, description: str, *, type_: str = "string", format_: str = "", priority: int = 0) -> dict:
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


_NAME = _column("Name", _NAME_DOC, format_="name")
_AGE = _column("Age", _AGE_DOC)

# Jobs and CronJobs print the same wide SELECTOR column (kube-apiserver's printers).
_JOB_SELECTOR = _column(
    "Selector",
    "A label query over pods that should match the pod count. Normally, the system sets this field for you. "
    "More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    priority=1,
)

# Column definitions per resource, in Kubernetes' order (AddHandlers in printers.go).
_COLUMNS: dict[str, list[dict]] = {
    "pods": [
        _NAME,
        _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _column("Status", "The aggregate status of the containers in this pod."),
        _column(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the last container "
            "in this pod has restarted.",
        ),
        _AGE,
        _column("IP", "podIP address allocated to the pod.", priority=1),
        _column("Node", "NodeName indicates in which node this pod is scheduled.", priority=1),
        _column(
            "Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node.", priority=1
        ),
        _column(
            "Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", priority=1
        ),
    ],
    "deployments": [
        _NAME,
        _column("Ready", "Number of the pod with ready state"),
        _column(
            "Up-to-date",
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        ),
        _column(
            "Available",
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        _AGE,
        _column("Containers", _CONTAINERS_DOC, priority=1),
        _column("Images", _IMAGES_DOC, priority=1),
        _column("Selector", "Label selector for pods.", priority=1),
    ],
    "replicasets": [
        _NAME,
        _column("Desired", "Replicas is the number of desired replicas.", type_="integer"),
        _column("Current", "Replicas is the most recently observed number of replicas.", type_="integer"),
        _column("Ready", "The number of ready replicas for this replica set.", type_="integer"),
        _AGE,
        _column("Containers", _CONTAINERS_DOC, priority=1),
        _column("Images", _IMAGES_DOC, priority=1),
        _column("Selector", _SELECTOR_DOC, priority=1),
    ],
    "services": [
        _NAME,
        _column("Type", "type determines how the Service is exposed."),
        _column("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
        _column(
            "External-IP",
            "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
        ),
        _column("Port(s)", "The list of ports that are exposed by this service."),
        _AGE,
        _column(
            "Selector", "Route service traffic to pods with label keys and values matching this selector.", priority=1
        ),
    ],
    "endpoints": [
        _NAME,
        _column("Endpoints", "The set of all endpoints is the union of all subsets."),
        _AGE,
    ],
    "nodes": [
        _NAME,
        _column("Status", "The status of the node"),
        _column("Roles", "The roles of the node"),
        _AGE,
        _column("Version", "Kubelet Version reported by the node."),
        _column("Internal-IP", "List of addresses reachable to the node.", priority=1),
        _column("External-IP", "List of addresses reachable to the node.", priority=1),
        _column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
        _column("Kernel-Version", "Kernel Version reported by the node from 'uname -r'.", priority=1),
        _column(
            "Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API.", priority=1
        ),
    ],
    "namespaces": [_NAME, _column("Status", "The status of the namespace"), _AGE],
    "configmaps": [_NAME, _column("Data", "Data contains the configuration data."), _AGE],
    "secrets": [
        _NAME,
        _column("Type", "Used to facilitate programmatic handling of secret data."),
        _column("Data", "Data contains the secret data."),
        _AGE,
    ],
    "events": [
        _column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
        _column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
        _column(
            "Reason",
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        _column("Object", "The object that this event is about."),
        _column(
            "Subobject",
            "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
            priority=1,
        ),
        _column("Source", "The component reporting this event.", priority=1),
        _column("Message", "A human-readable description of the status of this operation."),
        _column("First Seen", "The time at which the event was first recorded.", priority=1),
        _column("Count", "The number of times this event has occurred.", priority=1),
        _column("Name", _NAME_DOC, format_="name", priority=1),
    ],
    "daemonsets": [
        _NAME,
        _column(
            "Desired",
            "The total number of nodes that should be running the daemon pod (including nodes correctly running the "
            "daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
            type_="integer",
        ),
        _column(
            "Current",
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More "
            "info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
            type_="integer",
        ),
        _column(
            "Ready",
            "numberReady is the number of nodes that should be running the daemon pod and have one or more of the "
            "daemon pod running with a Ready Condition.",
            type_="integer",
        ),
        _column("Up-to-date", "The total number of nodes that are running updated daemon pod", type_="integer"),
        _column(
            "Available",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running "
            "and available (ready for at least spec.minReadySeconds)",
            type_="integer",
        ),
        _column(
            "Node Selector",
            "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a "
            "node's labels for the pod to be scheduled on that node. More info: "
            "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
        ),
        _AGE,
        _column("Containers", _CONTAINERS_DOC, priority=1),
        _column("Images", _IMAGES_DOC, priority=1),
        _column(
            "Selector",
            "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must "
            "match the pod template's labels. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
            priority=1,
        ),
    ],
    "jobs": [
        _NAME,
        _column("Status", "Status of the job."),
        _column(
            "Completions",
            "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. "
            "However, it may decrease in reaction to scale down of elastic indexed jobs.",
        ),
        _column("Duration", "Time required to complete the job."),
        _AGE,
        _column("Containers", _CONTAINERS_DOC, priority=1),
        _column("Images", _IMAGES_DOC, priority=1),
        _JOB_SELECTOR,
    ],
    "cronjobs": [
        _NAME,
        _column("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        _column(
            "Timezone",
            "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. "
            "If not specified, this will default to the time zone of the kube-controller-manager process. The set of "
            "valid time zone names and the time zone offset is loaded from the system-wide time zone database by the "
            "API server during CronJob validation and the controller manager during execution. If no system-wide time "
            "zone database can be found a bundled version of the database is used instead. If the time zone name "
            "becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller "
            "will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More "
            "information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
        ),
        _column(
            "Suspend",
            "This flag tells the controller to suspend subsequent executions, it does not apply to already started "
            "executions. Defaults to false.",
            type_="boolean",
        ),
        _column("Active", "A list of pointers to currently running jobs.", type_="integer"),
        _column("Last Schedule", "Information when was the last time the job was successfully scheduled."),
        _AGE,
        _column("Containers", _CONTAINERS_DOC, priority=1),
        _column("Images", _IMAGES_DOC, priority=1),
        _JOB_SELECTOR,
    ],
    "serviceaccounts": [
        _NAME,
        _column(
            "Secrets",
            "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are "
            "allowed to use. Pods are only limited to this list if this service account has a "
            "\"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The "
            "\"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate "
            "namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated "
            "service account token secrets for use outside of pods. Instead, tokens can be requested directly using "
            "the TokenRequest API, or service account token secrets can be manually created. More info: "
            "https://kubernetes.io/docs/concepts/configuration/secret",
        ),
        _AGE,
    ],
    "leases": [
        _NAME,
        _column("Holder", "holderIdentity contains the identity of the holder of a current lease."),
        _AGE,
    ],
    **{plural: [_NAME, _column("Created At", _AGE_DOC, type_="date")] for plural in ("roles", "clusterroles")},
    **{plural: [
        _NAME,
        _column("Role", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
                "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is "
                "immutable."),
        _AGE,
        _column("Users", "Users in the roleBinding", priority=1),
        _column("Groups", "Groups in the roleBinding", priority=1),
        _column("ServiceAccounts", "ServiceAccounts in the roleBinding", priority=1),
    ] for plural in ("rolebindings", "clusterrolebindings")},
    **tables_networking.columns(_column, _NAME, _AGE),
    **tables_policy.columns(_column, _NAME, _AGE),
    **{plural: [_NAME, _column("Webhooks", "Webhooks indicates the number of webhooks that are registered in this "
                               "configuration", type_="integer"), _AGE]
       for plural in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")},
    "apiservices": [
        _NAME,
        _column("Service", "The reference to the service that hosts this API endpoint."),
        _column("Available", "Whether this service is available."),
        _AGE,
    ],
    # kube-apiserver's default table convertor (no printer of its own), as for Roles.
    "customresourcedefinitions": [_NAME, _column("Created At", _AGE_DOC, type_="date")],
}
_DEFAULT_COLUMNS = [_NAME, _AGE]


def column_definitions(resource: str) -> list[dict]:
    """The Table columns Kubernetes declares for `resource` (a plural), NAME and AGE for any other."""
    return copy.deepcopy(_COLUMNS.get(resource, _DEFAULT_COLUMNS))


# ----- time -----------------------------------------------------------------------------------


_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # metav1.Time{}: what Go's IsZero() reports as unset
_MICROSECOND = timedelta(microseconds=1)


def _parse_time(value: datetime | str | None) -> datetime | None:
    """A wire timestamp as an aware datetime; None for missing, unparsable or Go's zero time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        return _parse_time_text(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None if moment == _GO_ZERO_TIME else moment


@functools.lru_cache(maxsize=4096)
def _parse_time_text(text: str) -> datetime | None:
    # Objects made together share their timestamps (to the second), so a list's rows mostly hit the cache.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None if moment == _GO_ZERO_TIME else moment


def human_duration(elapsed: timedelta) -> str:
    """apimachinery's duration.HumanDuration: about two significant figures of a duration."""
    microseconds = elapsed // _MICROSECOND
    # Go's int(d.Seconds()) truncates toward zero.
    seconds = microseconds // 1_000_000 if microseconds >= 0 else -(-microseconds // 1_000_000)
    if seconds < -1:  # up to a second of clock skew reads as "now"
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m" if seconds % 60 == 0 else f"{minutes}m{seconds % 60}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return f"{days // 365}y" if days % 365 == 0 else f"{days // 365}y{days % 365}d"
    return f"{days // 365}y"


def format_age(created: datetime | str | None, now: datetime) -> str:
    """The AGE cell (translateTimestampSince): time since `created`, "<unknown>" when it is missing."""
    moment = _parse_time(created)
    if moment is None:
        return "<unknown>"
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return human_duration(now - moment)


# ----- shared formatting ----------------------------------------------------------------------


def _get(obj: dict | None, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty."""
    return str(selector_from_set(labels)) or "<none>"


def _format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: the selector's string form, "<none>" when it is empty."""
    try:
        return str(selector_from_object(selector)) or "<none>"
    except ValueError:
        return "<error>"


def _container_cells(template_spec: dict | None) -> list[str]:
    """layoutContainerCells: container names and images, comma-joined."""
    containers = _get(template_spec, "containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def _join_host_port(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _condition_true(conditions: list | None, condition_type: str) -> bool:
    return any(c.get("type") == condition_type and c.get("status") == "True" for c in conditions or [])


# ----- printers: each returns the row's cells, wide cells included ----------------------------


def _terminated_reason(terminated: dict) -> str:
    if terminated.get("reason"):
        return terminated["reason"]
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode') or 0}"


def _later(current: datetime | None, container_status: dict) -> datetime | None:
    """The later of `current` and when the container last terminated (lastState.terminated.finishedAt)."""
    finished = _parse_time(_get(container_status, "lastState", "terminated", "finishedAt"))
    if finished is None:
        return current
    return finished if current is None or finished > current else current


def _is_sidecar(init_container: dict | None) -> bool:
    return bool(init_container) and init_container.get("restartPolicy") == "Always"


def _pod_cells(pod: dict, now: datetime) -> list:
    """printPod: READY, STATUS and RESTARTS from the container statuses, as kubectl shows them."""
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    init_specs = spec.get("initContainers") or []
    init_by_name = {container.get("name"): container for container in init_specs}
    total = len(spec.get("containers") or []) + sum(1 for container in init_specs if _is_sidecar(container))
    ready = restarts = sidecar_restarts = 0
    last_restart = last_sidecar_restart = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        reason = "SchedulingGated"

    initializing = False
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        restarts += container.get("restartCount") or 0
        last_restart = _later(last_restart, container)
        sidecar = _is_sidecar(init_by_name.get(container.get("name")))
        if sidecar:
            sidecar_restarts += container.get("restartCount") or 0
            last_sidecar_restart = _later(last_sidecar_restart, container)
        terminated, waiting = _get(container, "state", "terminated"), _get(container, "state", "waiting")
        if terminated is not None and (terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and container.get("started"):
            ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            reason = "Init:" + _terminated_reason(terminated)
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        # Sidecars keep counting; ordinary init containers' restarts no longer matter.
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += container.get("restartCount") or 0
            last_restart = _later(last_restart, container)
            state = container.get("state") or {}
            if state.get("waiting") is not None and state["waiting"].get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") is not None:
                reason = _terminated_reason(state["terminated"])
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if metadata.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif metadata.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({format_age(last_restart, now)} ago)"

    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    readiness_gates = "<none>"
    if gates:
        first_by_type: dict[str, dict] = {}
        for condition in conditions:
            first_by_type.setdefault(condition.get("type"), condition)
        passed = sum(1 for gate in gates if _get(first_by_type, gate.get("conditionType"), "status") == "True")
        readiness_gates = f"{passed}/{len(gates)}"
    return [
        metadata.get("name") or "",
        f"{ready}/{total}",
        reason,
        restarts_cell,
        format_age(metadata.get("creationTimestamp"), now),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness_gates,
    ]


def _pod_row_conditions(pod: dict) -> list[dict]:
    """Finished pods carry a Completed row condition, as printPod sets it."""
    phase = _get(pod, "status", "phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


def _deployment_cells(deployment: dict, now: datetime) -> list:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    desired = spec.get("replicas") if spec.get("replicas") is not None else 1  # the defaulted value
    try:
        selector = str(selector_from_object(spec.get("selector")))
    except ValueError:
        selector = "<invalid>"
    return [
        _get(deployment, "metadata", "name") or "",
        f"{status.get('readyReplicas') or 0}/{desired}",
        status.get("updatedReplicas") or 0,
        status.get("availableReplicas") or 0,
        format_age(_get(deployment, "metadata", "creationTimestamp"), now),
        *_container_cells(_get(spec, "template", "spec")),
        selector,
    ]


def _replicaset_cells(replicaset: dict, now: datetime) -> list:
    spec, status = replicaset.get("spec") or {}, replicaset.get("status") or {}
    return [
        _get(replicaset, "metadata", "name") or "",
        spec.get("replicas") if spec.get("replicas") is not None else 1,
        status.get("replicas") or 0,
        status.get("readyReplicas") or 0,
        format_age(_get(replicaset, "metadata", "creationTimestamp"), now),
        *_container_cells(_get(spec, "template", "spec")),
        _format_label_selector(spec.get("selector")),
    ]


def _daemonset_cells(daemon_set: dict, now: datetime) -> list:
    spec, status = daemon_set.get("spec") or {}, daemon_set.get("status") or {}
    return [
        _get(daemon_set, "metadata", "name") or "",
        status.get("desiredNumberScheduled") or 0,
        status.get("currentNumberScheduled") or 0,
        status.get("numberReady") or 0,
        status.get("updatedNumberScheduled") or 0,
        status.get("numberAvailable") or 0,
        _format_labels(_get(spec, "template", "spec", "nodeSelector")),
        format_age(_get(daemon_set, "metadata", "creationTimestamp"), now),
        *_container_cells(_get(spec, "template", "spec")),
        _format_label_selector(spec.get("selector")),
    ]


def _job_status(job: dict) -> str:
    """printJob's STATUS (Kubernetes 1.32): finished, else being deleted, else suspended, else failing, else running."""
    conditions = _get(job, "status", "conditions")
    if _first_condition_true(conditions, "Complete"):
        return "Complete"
    if _first_condition_true(conditions, "Failed"):
        return "Failed"
    if _get(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    if _first_condition_true(conditions, "Suspended"):
        return "Suspended"
    if _first_condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _first_condition_true(conditions: list | None, condition_type: str) -> bool:
    """hasJobCondition: the first condition of the type decides."""
    for condition in conditions or []:
        if condition.get("type") == condition_type:
            return condition.get("status") == "True"
    return False


def _job_cells(job: dict, now: datetime) -> list:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    succeeded = status.get("succeeded") or 0
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    started, finished = _parse_time(status.get("startTime")), _parse_time(status.get("completionTime"))
    if started is None:
        duration = ""
    elif finished is None:
        duration = format_age(started, now)
    else:
        duration = human_duration(finished - started)
    return [
        _get(job, "metadata", "name") or "",
        _job_status(job),
        completions,
        duration,
        format_age(_get(job, "metadata", "creationTimestamp"), now),
        *_container_cells(_get(spec, "template", "spec")),
        _format_label_selector(spec.get("selector")),
    ]


def _cronjob_cells(cronjob: dict, now: datetime) -> list:
    spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
    suspend = spec.get("suspend")
    job_spec = _get(spec, "jobTemplate", "spec") or {}
    last_schedule = status.get("lastScheduleTime")
    return [
        _get(cronjob, "metadata", "name") or "",
        spec.get("schedule") or "",
        spec.get("timeZone") if spec.get("timeZone") is not None else "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),  # printBoolPtr
        len(status.get("active") or []),
        "<none>" if last_schedule is None else format_age(last_schedule, now),
        format_age(_get(cronjob, "metadata", "creationTimestamp"), now),
        *_container_cells(_get(job_spec, "template", "spec")),
        _format_label_selector(job_spec.get("selector")),
    ]


def _service_external_ip(spec: dict, status: dict, service_type: str) -> str:
    """getServiceExternalIP with wide=true (the server never clips load-balancer addresses)."""
    external_ips = spec.get("externalIPs") or []
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) or "<none>"
    if service_type == "LoadBalancer":
        ingress = _get(status, "loadBalancer", "ingress") or []
        balancer = sorted({entry.get("ip") or entry.get("hostname") for entry in ingress} - {None, ""})
        if external_ips:
            return ",".join(balancer + external_ips)
        return ",".join(balancer) or "<pending>"
    if service_type == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def _service_cells(service: dict, now: datetime) -> list:
    spec, status = service.get("spec") or {}, service.get("status") or {}
    # Stored services are defaulted (type ClusterIP, protocol TCP); tolerate ones that are not.
    service_type = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for port in spec.get("ports") or []:
        node_port = f":{port['nodePort']}" if (port.get("nodePort") or 0) > 0 else ""
        ports.append(f"{port.get('port')}{node_port}/{port.get('protocol') or 'TCP'}")
    return [
        _get(service, "metadata", "name") or "",
        service_type,
        cluster_ips[0] if cluster_ips else "<none>",
        _service_external_ip(spec, status, service_type),
        ",".join(ports) or "<none>",
        format_age(_get(service, "metadata", "creationTimestamp"), now),
        _format_labels(spec.get("selector")),
    ]


def format_endpoints(endpoints: dict, shown: int = 3) -> str:
    """formatEndpoints: the first three `ip:port`s (bare IPs for port-less subsets), then "+ N more..."."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [address.get("ip", "") for address in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        for port in ports or [None]:
            for ip in addresses:
                if len(listed) < shown:
                    listed.append(ip if port is None else _join_host_port(ip, port.get("port")))
                count += 1
    text = ",".join(listed)
    return f"{text} + {count - shown} more..." if count > shown else text


def _endpoints_cells(endpoints: dict, now: datetime) -> list:
    return [
        _get(endpoints, "metadata", "name") or "",
        format_endpoints(endpoints),
        format_age(_get(endpoints, "metadata", "creationTimestamp"), now),
    ]


def _node_address(node: dict, address_type: str) -> str:
    for address in _get(node, "status", "addresses") or []:
        if address.get("type") == address_type:
            return address.get("address", "")
    return "<none>"


def _node_cells(node: dict, now: datetime) -> list:
    by_type = {condition.get("type"): condition for condition in _get(node, "status", "conditions") or []}
    status = ["Unknown"]
    if "Ready" in by_type:
        status = ["Ready" if by_type["Ready"].get("status") == "True" else "NotReady"]
    if _get(node, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    roles = set()
    for key, value in (_get(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role":
            roles.add(value)
    info = _get(node, "status", "nodeInfo") or {}
    return [
        _get(node, "metadata", "name") or "",
        ",".join(status),
        ",".join(sorted(roles - {""})) or "<none>",
        format_age(_get(node, "metadata", "creationTimestamp"), now),
        info.get("kubeletVersion") or "",
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event_cells(event: dict, now: datetime) -> list:
    """printEvent: series and eventTime stand in for the legacy timestamps and count when set."""
    first_seen = format_age(event.get("firstTimestamp"), now)
    if _parse_time(event.get("firstTimestamp")) is None:
        first_seen = format_age(event.get("eventTime"), now)
    last_seen = format_age(event.get("lastTimestamp"), now)
    if _parse_time(event.get("lastTimestamp")) is None:
        last_seen = first_seen
    count = event.get("count") or 0
    if event.get("series") is not None:
        last_seen = format_age(_get(event, "series", "lastObservedTime"), now)
        count = _get(event, "series", "count") or 0
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    component = _get(event, "source", "component") or event.get("reportingController") or ""
    instance = _get(event, "source", "host") or event.get("reportingInstance") or ""
    return [
        last_seen,
        event.get("type") or "",
        event.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        f"{component}, {instance}" if instance else component,
        (event.get("message") or "").strip(),
        first_seen,
        count,
        _get(event, "metadata", "name") or "",
    ]


def _named(*cells: Callable[[dict], Any]) -> Callable[[dict, datetime], list]:
    """A printer whose row is NAME, the given cells, then AGE."""

    def printer(obj: dict, now: datetime) -> list:
        age = format_age(_get(obj, "metadata", "creationTimestamp"), now)
        return [_get(obj, "metadata", "name") or "", *(cell(obj) for cell in cells), age]

    return printer


def _role_cells(role: dict, now: datetime) -> list:
    created = _parse_time(_get(role, "metadata", "creationTimestamp"))
    return [_get(role, "metadata", "name") or "", created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else ""]


def _api_service_target(api_service: dict) -> str:
    service = _get(api_service, "spec", "service")
    return f'{service.get("namespace", "")}/{service.get("name", "")}' if service else "Local"


def _api_service_available(api_service: dict) -> str:
    for condition in _get(api_service, "status", "conditions") or []:
        if condition.get("type") == "Available":
            if condition.get("status") == "True":
                return "True"
            return f'{condition.get("status")} ({condition.get("reason", "")})'
    return "Unknown"


def _binding_cells(binding: dict, now: datetime) -> list:
    role_ref = binding.get("roleRef") or {}
    subjects = binding.get("subjects") or []

    def names(kind: str) -> str:
        return ", ".join(s.get("name", "") for s in subjects if s.get("kind") == kind)

    accounts = ", ".join(f'{s.get("namespace", "")}/{s.get("name", "")}' for s in subjects
                         if s.get("kind") == "ServiceAccount")
    return [_get(binding, "metadata", "name") or "", f'{role_ref.get("kind", "")}/{role_ref.get("name", "")}',
            format_age(_get(binding, "metadata", "creationTimestamp"), now), names("User"), names("Group"), accounts]


_PRINTERS: dict[str, Callable[[dict, datetime], list]] = {
    "pods": _pod_cells,
    "deployments": _deployment_cells,
    "replicasets": _replicaset_cells,
    "daemonsets": _daemonset_cells,
    "jobs": _job_cells,
    "cronjobs": _cronjob_cells,
    "services": _service_cells,
    "endpoints": _endpoints_cells,
    "nodes": _node_cells,
    "events": _event_cells,
    "namespaces": _named(lambda ns: _get(ns, "status", "phase") or ""),
    "configmaps": _named(lambda cm: len(cm.get("data") or {}) + len(cm.get("binaryData") or {})),
    "secrets": _named(lambda secret: secret.get("type") or "Opaque", lambda secret: len(secret.get("data") or {})),
    "leases": _named(lambda lease: _get(lease, "spec", "holderIdentity") or ""),
    "serviceaccounts": _named(lambda account: len(account.get("secrets") or [])),
    "roles": _role_cells,
    "clusterroles": _role_cells,
    "rolebindings": _binding_cells,
    "clusterrolebindings": _binding_cells,
    "ingresses": lambda ingress, now: tables_networking.ingress_cells(
        ingress, now, name=lambda obj: _get(obj, "metadata", "name") or "",
        age=lambda obj, now: format_age(_get(obj, "metadata", "creationTimestamp"), now)),
    "ingressclasses": _named(lambda ingress_class: _get(ingress_class, "spec", "controller") or "",
                             tables_networking.ingress_class_parameters),
    "validatingwebhookconfigurations": _named(lambda configuration: len(configuration.get("webhooks") or [])),
    "mutatingwebhookconfigurations": _named(lambda configuration: len(configuration.get("webhooks") or [])),
    "apiservices": _named(_api_service_target, _api_service_available),
    "networkpolicies": _named(lambda policy: _format_label_selector(_get(policy, "spec", "podSelector")) or "<none>"),
    "customresourcedefinitions": _role_cells,
    **tables_policy.printers(name=lambda obj: _get(obj, "metadata", "name") or "",
                             age=lambda obj, now: format_age(_get(obj, "metadata", "creationTimestamp"), now)),
}
_DEFAULT_PRINTER = _named()


# ----- the Table ------------------------------------------------------------------------------


def _row_object(obj: dict, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": obj.get("metadata") or {}}


def _table_metadata(objects: list[dict], list_metadata: dict | None) -> dict:
    if list_metadata is None:
        # A single GET: the Table carries the object's resourceVersion.
        version = _get(objects[0], "metadata", "resourceVersion") if len(objects) == 1 else None
        return {"resourceVersion": version} if version else {}
    metadata = {key: list_metadata[key] for key in ("resourceVersion", "continue") if list_metadata.get(key)}
    if list_metadata.get("remainingItemCount") is not None:
        metadata["remainingItemCount"] = list_metadata["remainingItemCount"]
    return metadata


def table_for(
    resource: str,
    objects: list[dict],
    *,
    now: datetime,
    include_object: str = "Metadata",
    list_metadata: dict | None = None,
    no_headers: bool = False,
    printer_columns: list[dict] | None = None,
) -> dict:
    """A meta.k8s.io/v1 Table of `objects` (all of kind `resource`, a plural).

    `include_object` is the `includeObject` query parameter ("" means Metadata); `list_metadata` is
    the list's metadata (resourceVersion, continue, remainingItemCount), None for a single GET.
    `no_headers` leaves out the column definitions (null, as Go encodes them): a Table watch sends
    them with its first event only. Raises BadRequest for an unknown `include_object`, as the kube-apiserver does.
    """
    include_object = include_object or "Metadata"
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise BadRequest(f'unrecognized includeObject value: "{include_object}"')
    printer = _PRINTERS.get(resource, _DEFAULT_PRINTER)
    definitions = None if no_headers else column_definitions(resource)
    if printer_columns is not None:  # a custom resource (customtables.py): its CRD's additionalPrinterColumns
        from orchestrator.apiserver import customtables

        def printer(obj: dict, now: datetime) -> list:
            return customtables.cells(printer_columns, obj, now, format_age)

        definitions = None if no_headers else customtables.column_definitions(printer_columns, _NAME)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer(obj, now)}
        if resource == "pods" and (conditions := _pod_row_conditions(obj)):
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": _table_metadata(objects, list_metadata),
        "columnDefinitions": definitions,
        "rows": rows,
    }


# ----- kinds whose printers live in modules of their own --------------------------------------

from orchestrator.apiserver import tables_autoscaling  # noqa: E402 (uses the helpers above)

tables_autoscaling.register(_COLUMNS, _PRINTERS)

from orchestrator.apiserver import tables_storage  # noqa: E402 (uses the helpers above)

tables_storage.register(_COLUMNS, _PRINTERS)
