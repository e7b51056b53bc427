"""kubectl's describers as text: pods, deployments, replica sets, services, nodes, namespaces, config
maps, secrets, endpoints, and a generic field listing for other kinds, each with its Events table.

Each `describe_<kind>(document, events, context) -> str` follows kubectl 1.32's pkg/describe line by line
— the same labels, the same `<none>`s, the same alignment through `DescribeWriter` (kubectl's
PrefixWriter over Go's tabwriter with minimum width 0 and padding 2, cli/client/tabwriter.py) — for the
subset of fields this project's objects have. They are pure: cli/client/describe.py fetches the object,
its events and the related objects (`context`) and picks the describer from `DESCRIBERS`. rollout
history reuses `describe_pod_template`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ANNOTATION_LENGTH = 140
NODE_ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"


# --- the writer --------------------------------------------------------------------------------------

class DescribeWriter:
    """kubectl's PrefixWriter over a tabwriter: two spaces per level, `\\t` separates aligned cells.

    `aligned=False` writes the text as is, tabs included (kubectl's rollout history does that).
    """

    def __init__(self, *, aligned: bool = True) -> None:
        from cli.client.tabwriter import TabWriter

        self._tabs = TabWriter.for_describe() if aligned else None
        self._done: list[str] = []

    def write(self, level: int, text: str) -> None:
        text = "  " * level + text
        if self._tabs is None:
            self._done.append(text)
        else:
            self._tabs.write(text)

    def line(self, text: str) -> None:
        """kubectl's WriteLine: the text and a newline, no indentation."""
        self.write(0, text + "\n")

    def flush(self) -> None:
        if self._tabs is not None:
            self._done.append(self._tabs.flush())

    def text(self) -> str:
        self.flush()
        return "".join(self._done)


# --- formatting helpers (kubectl's names) -------------------------------------------------------------

def _meta(document: dict) -> dict:
    return document.get("metadata") or {}


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return None


def rfc1123z(value: str | None) -> str:
    """Go's time.RFC1123Z in local time, as kubectl prints timestamps (the zero time when unset)."""
    moment = _time(value)
    if moment is None:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z")


def since(value: str | None) -> str:
    from datetime import UTC

    from orchestrator.apiserver.tables import format_age

    return format_age(value, datetime.now(UTC))


def format_labels(labels: dict | None) -> str:
    from cli.client.printers import format_labels as printers_format_labels

    return printers_format_labels(labels)


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: `app=web,tier in (a,b)`; `<none>` for an empty selector."""
    if selector is None:
        return "<none>"
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        operator = expression.get("operator", "")
        values = sorted(expression.get("values") or [])
        key = expression.get("key", "")
        if operator == "In":
            terms.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms) if terms else "<none>"


def print_labels_multiline(writer: DescribeWriter, title: str, labels: dict | None, *, indent: str = "") -> None:
    writer.write(0, f"{indent}{title}:\t")
    if not labels:
        writer.line("<none>")
        return
    for index, key in enumerate(sorted(labels)):
        if index:
            writer.write(0, f"{indent}\t")
        writer.write(0, f"{key}={labels[key]}\n")


def print_annotations_multiline(writer: DescribeWriter, title: str, annotations: dict | None) -> None:
    writer.write(0, f"{title}:\t")
    keys = sorted(key for key in (annotations or {}) if key != LAST_APPLIED_ANNOTATION)
    if not keys:
        writer.line("<none>")
        return
    for index, key in enumerate(keys):
        if index:
            writer.write(0, "\t")
        value = annotations[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LENGTH or "\n" in value:
            writer.write(0, f"{key}:\n")
            for part in value.split("\n"):
                shortened = part if len(part) <= MAX_ANNOTATION_LENGTH - 2 else part[:MAX_ANNOTATION_LENGTH - 2] + "..."
                writer.write(0, f"\t  {shortened}\n")
        else:
            writer.write(0, f"{key}: {value}\n")


def print_tolerations_multiline(writer: DescribeWriter, title: str, tolerations: list | None) -> None:
    writer.write(0, f"{title}:\t")
    if not tolerations:
        writer.line("<none>")
        return
    for index, toleration in enumerate(sorted(tolerations, key=lambda item: item.get("key", ""))):
        if index:
            writer.write(0, "\t")
        text = toleration.get("key", "")
        if toleration.get("value"):
            text += f"={toleration['value']}"
        if toleration.get("effect"):
            text += f":{toleration['effect']}"
        if toleration.get("operator") == "Exists" and not toleration.get("value"):
            text += " op=Exists" if toleration.get("key") or toleration.get("effect") else "op=Exists"
        if toleration.get("tolerationSeconds") is not None:
            text += f" for {toleration['tolerationSeconds']}s"
        writer.write(0, text + "\n")


def print_taints_multiline(writer: DescribeWriter, title: str, taints: list | None) -> None:
    writer.write(0, f"{title}:\t")
    if not taints:
        writer.line("<none>")
        return
    ordered = sorted(taints, key=lambda taint: f"{taint.get('effect', '')},{taint.get('key', '')}")
    for index, taint in enumerate(ordered):
        if index:
            writer.write(0, "\t")
        value = f"={taint['value']}" if taint.get("value") else ""
        writer.write(0, f"{taint.get('key', '')}{value}:{taint.get('effect', '')}\n")


def print_controller(document: dict) -> str:
    for reference in _meta(document).get("ownerReferences") or []:
        if reference.get("controller"):
            return f"{reference.get('kind', '')}/{reference.get('name', '')}"
    return ""


def _port_text(port: dict, number_field: str) -> str:
    # kubectl 1.32 shows the number and protocol only (later versions add the port's name).
    return f"{port.get(number_field, 0)}/{port.get('protocol', '')}"


def describe_probe(probe: dict) -> str:
    attributes = (f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 0)}s "
                  f"period={probe.get('periodSeconds', 0)}s #success={probe.get('successThreshold', 0)} "
                  f"#failure={probe.get('failureThreshold', 0)}")
    if probe.get("exec") is not None:
        return f"exec [{' '.join((probe['exec'] or {}).get('command') or [])}] {attributes}"
    if probe.get("httpGet") is not None:
        http_get = probe["httpGet"]
        host = http_get.get("host", "")
        port = str(http_get.get("port", ""))
        host_port = f"[{host}]:{port}" if ":" in host else f"{host}:{port}" if port else host
        return f"http-get {str(http_get.get('scheme', '')).lower()}://{host_port}{http_get.get('path', '')} {attributes}"
    if probe.get("tcpSocket") is not None:
        socket = probe["tcpSocket"]
        return f"tcp-socket {socket.get('host', '')}:{socket.get('port', '')} {attributes}"
    if probe.get("grpc") is not None:
        return f"grpc <pod>:{probe['grpc'].get('port', '')} {probe['grpc'].get('service', '')} {attributes}"
    return f"unknown {attributes}"


def _field_value(pod: dict, field_path: str) -> str:
    """The downward-API value of an env var's fieldRef (kubectl's EnvValueRetriever)."""
    import re

    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']*)'\]", field_path)
    if match:
        return str((_meta(pod).get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": _meta(pod).get("name"), "metadata.namespace": _meta(pod).get("namespace"),
        "metadata.uid": _meta(pod).get("uid"), "spec.nodeName": (pod.get("spec") or {}).get("nodeName"),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName"),
        "status.podIP": (pod.get("status") or {}).get("podIP"), "status.hostIP": (pod.get("status") or {}).get("hostIP"),
    }
    return str(simple.get(field_path) or "")


def describe_status(writer: DescribeWriter, state_name: str, state: dict | None) -> None:
    state = state or {}
    if state.get("running") is not None:
        writer.write(2, f"{state_name}:\tRunning\n")
        writer.write(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        writer.write(2, f"{state_name}:\tWaiting\n")
        if state["waiting"].get("reason"):
            writer.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        terminated = state["terminated"]
        writer.write(2, f"{state_name}:\tTerminated\n")
        if terminated.get("reason"):
            writer.write(3, f"Reason:\t{terminated['reason']}\n")
        if terminated.get("message"):
            writer.write(3, f"Message:\t{terminated['message']}\n")
        writer.write(3, f"Exit Code:\t{terminated.get('exitCode', 0)}\n")
        if terminated.get("signal", 0) > 0:
            writer.write(3, f"Signal:\t{terminated['signal']}\n")
        writer.write(3, f"Started:\t{rfc1123z(terminated.get('startedAt'))}\n")
        writer.write(3, f"Finished:\t{rfc1123z(terminated.get('finishedAt'))}\n")
    else:
        writer.write(2, f"{state_name}:\tWaiting\n")


def describe_resources(writer: DescribeWriter, resources: dict | None, level: int) -> None:
    resources = resources or {}
    for section, title in (("limits", "Limits"), ("requests", "Requests")):
        values = resources.get(section) or {}
        if values:
            writer.write(level, f"{title}:\n")
        for name in sorted(values):
            writer.write(level + 1, f"{name}:\t{values[name]}\n")


def describe_containers(writer: DescribeWriter, label: str, containers: list, statuses: list | None,
                        pod: dict | None, space: str) -> None:
    by_name = {status.get("name"): status for status in statuses or []}
    writer.write(0, f"{space}{label}:{' <none>' if not containers else ''}\n")
    name_indent = " " if space else ""
    for container in containers:
        status = by_name.get(container.get("name"))
        writer.write(1, f"{name_indent}{container.get('name', '')}:\n")
        if status is not None:
            writer.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
        writer.write(2, f"Image:\t{container.get('image', '')}\n")
        if status is not None:
            writer.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
        ports = ", ".join(_port_text(port, "containerPort") for port in container.get("ports") or [])
        if "," in ports:
            writer.write(2, f"Ports:\t{ports}\n")
        else:
            writer.write(2, f"Port:\t{ports or '<none>'}\n")
        host_ports = ", ".join(_port_text(port, "hostPort") for port in container.get("ports") or [])
        if "," in host_ports:
            writer.write(2, f"Host Ports:\t{host_ports}\n")
        else:
            writer.write(2, f"Host Port:\t{host_ports or '<none>'}\n")
        for key, title in (("command", "Command"), ("args", "Args")):
            if container.get(key):
                writer.write(2, f"{title}:\n")
                for part in container[key]:
                    for piece in str(part).split("\n"):
                        writer.write(3, f"{piece}\n")
        if status is not None:
            describe_status(writer, "State", status.get("state"))
            if (status.get("lastState") or {}).get("terminated") is not None:
                describe_status(writer, "Last State", status.get("lastState"))
            writer.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            writer.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")
        describe_resources(writer, container.get("resources"), 2)
        for key, title in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"), ("startupProbe", "Startup")):
            if container.get(key) is not None:
                writer.write(2, f"{title}:\t{describe_probe(container[key])}\n")
        if container.get("envFrom"):
            writer.write(2, "Environment Variables from:\n")
            for source in container["envFrom"]:
                reference, kind = (source.get("configMapRef"), "ConfigMap") if source.get("configMapRef") \
                    else (source.get("secretRef") or {}, "Secret")
                optional = "true" if (reference or {}).get("optional") else "false"
                if source.get("prefix"):
                    writer.write(3, f"{(reference or {}).get('name', '')}\t{kind} with prefix '{source['prefix']}'\t"
                                    f"Optional: {optional}\n")
                else:
                    writer.write(3, f"{(reference or {}).get('name', '')}\t{kind}\tOptional: {optional}\n")
        env = container.get("env") or []
        writer.write(2, f"Environment:{'' if env else chr(9) + '<none>'}\n")
        for variable in env:
            value_from = variable.get("valueFrom")
            if value_from is None:
                for index, piece in enumerate(str(variable.get("value", "")).split("\n")):
                    writer.write(3, f"{variable.get('name', '')}:\t{piece}\n" if index == 0 else f"\t{piece}\n")
            elif value_from.get("fieldRef") is not None:
                field_ref = value_from["fieldRef"]
                value = _field_value(pod, field_ref.get("fieldPath", "")) if pod is not None else ""
                writer.write(3, f"{variable.get('name', '')}:\t{value} ({field_ref.get('apiVersion', '')}:"
                                f"{field_ref.get('fieldPath', '')})\n")
            elif value_from.get("resourceFieldRef") is not None:
                writer.write(3, f"{variable.get('name', '')}:\t ({value_from['resourceFieldRef'].get('resource', '')})\n")
            elif value_from.get("secretKeyRef") is not None:
                reference = value_from["secretKeyRef"]
                writer.write(3, f"{variable.get('name', '')}:\t<set to the key '{reference.get('key', '')}' in secret "
                                f"'{reference.get('name', '')}'>\tOptional: "
                                f"{'true' if reference.get('optional') else 'false'}\n")
            elif value_from.get("configMapKeyRef") is not None:
                reference = value_from["configMapKeyRef"]
                writer.write(3, f"{variable.get('name', '')}:\t<set to the key '{reference.get('key', '')}' of config "
                                f"map '{reference.get('name', '')}'>\tOptional: "
                                f"{'true' if reference.get('optional') else 'false'}\n")
        mounts = sorted(container.get("volumeMounts") or [], key=lambda mount: mount.get("mountPath", ""))
        writer.write(2, f"Mounts:{'' if mounts else chr(9) + '<none>'}\n")
        for mount in mounts:
            flags = ["ro" if mount.get("readOnly") else "rw"]
            if mount.get("subPath"):
                flags.append(f'path="{mount["subPath"]}"')
            writer.write(3, f"{mount.get('mountPath', '')} from {mount.get('name', '')} ({','.join(flags)})\n")


def describe_volumes(writer: DescribeWriter, volumes: list | None, space: str) -> None:
    if not volumes:
        writer.write(0, f"{space}Volumes:\t<none>\n")
        return
    writer.write(0, f"{space}Volumes:\n")
    name_indent = " " if space else ""
    for volume in volumes:
        writer.write(1, f"{name_indent}{volume.get('name', '')}:\n")
        if volume.get("hostPath") is not None:
            host_path = volume["hostPath"]
            writer.write(2, "Type:\tHostPath (bare host directory volume)\n"
                            f"    Path:\t{host_path.get('path', '')}\n"
                            f"    HostPathType:\t{host_path.get('type') or '<none>'}\n")
        elif volume.get("emptyDir") is not None:
            empty_dir = volume["emptyDir"]
            writer.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                            f"    Medium:\t{empty_dir.get('medium', '')}\n"
                            f"    SizeLimit:\t{empty_dir.get('sizeLimit') or '<unset>'}\n")
        elif volume.get("secret") is not None:
            secret = volume["secret"]
            writer.write(2, "Type:\tSecret (a volume populated by a Secret)\n"
                            f"    SecretName:\t{secret.get('secretName', '')}\n"
                            f"    Optional:\t{'true' if secret.get('optional') else 'false'}\n")
        elif volume.get("configMap") is not None:
            config_map = volume["configMap"]
            writer.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                            f"    Name:\t{config_map.get('name', '')}\n"
                            f"    Optional:\t{'true' if config_map.get('optional') else 'false'}\n")
        elif volume.get("persistentVolumeClaim") is not None:
            claim = volume["persistentVolumeClaim"]
            writer.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                            "namespace)\n"
                            f"    ClaimName:\t{claim.get('claimName', '')}\n"
                            f"    ReadOnly:\t{'true' if claim.get('readOnly') else 'false'}\n")
        elif volume.get("downwardAPI") is not None:
            writer.write(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n")
            for item in volume["downwardAPI"].get("items") or []:
                if item.get("fieldRef"):
                    writer.write(3, f"{item['fieldRef'].get('fieldPath', '')} -> {item.get('path', '')}\n")
                if item.get("resourceFieldRef"):
                    writer.write(3, f"{item['resourceFieldRef'].get('resource', '')} -> {item.get('path', '')}\n")
        elif volume.get("projected") is not None:
            writer.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
            for source in volume["projected"].get("sources") or []:
                if source.get("secret") is not None:
                    writer.write(2, f"SecretName:\t{source['secret'].get('name', '')}\n"
                                    f"    Optional:\t{'true' if source['secret'].get('optional') else 'false'}\n")
                elif source.get("downwardAPI") is not None:
                    writer.write(2, "DownwardAPI:\ttrue\n")
                elif source.get("configMap") is not None:
                    writer.write(2, f"ConfigMapName:\t{source['configMap'].get('name', '')}\n"
                                    f"    Optional:\t{'true' if source['configMap'].get('optional') else 'false'}\n")
                elif source.get("serviceAccountToken") is not None:
                    writer.write(2, f"TokenExpirationSeconds:\t"
                                    f"{source['serviceAccountToken'].get('expirationSeconds', 0)}\n")
        else:
            writer.write(1, "<unknown>\n")


def describe_pod_template(writer: DescribeWriter, template: dict | None) -> None:
    writer.write(0, "Pod Template:\n")
    if template is None:
        writer.write(1, "<unset>")
        return
    spec = template.get("spec") or {}
    print_labels_multiline(writer, "  Labels", _meta(template).get("labels"))
    if _meta(template).get("annotations"):
        print_annotations_multiline(writer, "  Annotations", _meta(template).get("annotations"))
    if spec.get("serviceAccountName"):
        writer.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        describe_containers(writer, "Init Containers", spec["initContainers"], None, None, "  ")
    describe_containers(writer, "Containers", spec.get("containers") or [], None, None, "  ")
    describe_volumes(writer, spec.get("volumes"), "  ")
    if spec.get("priorityClassName"):
        writer.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    print_labels_multiline(writer, "  Node-Selectors", spec.get("nodeSelector"))
    print_tolerations_multiline(writer, "  Tolerations", spec.get("tolerations"))


def describe_events(writer: DescribeWriter, events: list[dict] | None) -> None:
    if events is None:
        return
    if not events:
        writer.write(0, "Events:\t<none>\n")
        return
    writer.flush()
    writer.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    writer.write(1, "----\t------\t----\t----\t-------\n")
    for event in sorted(events, key=lambda item: item.get("lastTimestamp") or item.get("eventTime") or ""):
        first = since(event.get("eventTime")) if event.get("eventTime") else since(event.get("firstTimestamp"))
        if event.get("series"):
            interval = (f"{since(event['series'].get('lastObservedTime'))} (x{event['series'].get('count', 0)} "
                        f"over {first})")
        elif (event.get("count") or 0) > 1:
            interval = f"{since(event.get('lastTimestamp'))} (x{event['count']} over {first})"
        else:
            interval = first
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent") or ""
        message = (event.get("message") or "").strip()
        field_path = (event.get("involvedObject") or {}).get("fieldPath")
        if field_path:
            message = f"{field_path}: {message}"
        writer.write(1, f"{event.get('type', '')}\t{event.get('reason', '')}\t{interval}\t{source}\t{message}\n")


# --- the describers -----------------------------------------------------------------------------------

def pod_qos_class(pod: dict) -> str:
    """qos.GetPodQOS: the status's class, else computed from the containers' requests and limits."""
    if (pod.get("status") or {}).get("qosClass"):
        return pod["status"]["qosClass"]
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    guaranteed = True
    spec = pod.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = container.get("resources") or {}
        container_requests = {k: v for k, v in (resources.get("requests") or {}).items() if k in ("cpu", "memory")}
        container_limits = {k: v for k, v in (resources.get("limits") or {}).items() if k in ("cpu", "memory")}
        requests.update(container_requests)
        limits.update(container_limits)
        if set(container_limits) != {"cpu", "memory"}:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(requests.get(name, limits[name]) == limits[name] for name in limits):
        return "Guaranteed"
    return "Burstable"


def describe_pod(pod: dict, events: list | None, _context: dict) -> str:
    writer = DescribeWriter()
    metadata, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        writer.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        writer.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        writer.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        writer.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("nodeName"):
        writer.write(0, f"Node:\t{spec['nodeName']}/{status.get('hostIP', '')}\n")
    else:
        writer.write(0, "Node:\t<none>\n")
    if status.get("startTime"):
        writer.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    if metadata.get("deletionTimestamp") and status.get("phase") not in ("Failed", "Succeeded"):
        writer.write(0, f"Status:\tTerminating (lasts {since(metadata['deletionTimestamp'])})\n")
        writer.write(0, f"Termination Grace Period:\t{metadata.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        writer.write(0, f"Status:\t{status.get('phase', '')}\n")
    if status.get("reason"):
        writer.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        writer.write(0, f"Message:\t{status['message']}\n")
    writer.write(0, f"IP:\t{status.get('podIP', '')}\n")
    if not status.get("podIPs"):
        writer.write(0, "IPs:\t<none>\n")
    else:
        writer.write(0, "IPs:\n")
        for address in status["podIPs"]:
            writer.write(1, f"IP:\t{address.get('ip', '')}\n")
    controlled_by = print_controller(pod)
    if controlled_by:
        writer.write(0, f"Controlled By:\t{controlled_by}\n")
    if status.get("nominatedNodeName"):
        writer.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        describe_containers(writer, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"),
                            pod, "")
    describe_containers(writer, "Containers", spec.get("containers") or [], status.get("containerStatuses"), pod, "")
    if spec.get("readinessGates"):
        writer.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in spec["readinessGates"]:
            gate_status = next((condition.get("status") for condition in status.get("conditions") or []
                                if condition.get("type") == gate.get("conditionType")), "<none>")
            writer.write(1, f"{gate.get('conditionType', '')} \t{gate_status} \n")
    if status.get("conditions"):
        writer.write(0, "Conditions:\n  Type\tStatus\n")
        for condition in status["conditions"]:
            writer.write(1, f"{condition.get('type', '')} \t{condition.get('status', '')} \n")
    describe_volumes(writer, spec.get("volumes"), "")
    writer.write(0, f"QoS Class:\t{pod_qos_class(pod)}\n")
    print_labels_multiline(writer, "Node-Selectors", spec.get("nodeSelector"))
    print_tolerations_multiline(writer, "Tolerations", spec.get("tolerations"))
    describe_events(writer, events)
    return writer.text()


def describe_deployment(deployment: dict, events: list | None, context: dict) -> str:
    writer = DescribeWriter()
    metadata, spec, status = _meta(deployment), deployment.get("spec") or {}, deployment.get("status") or {}
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    writer.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    writer.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    writer.write(0, f"Replicas:\t{spec.get('replicas', 0)} desired | {status.get('updatedReplicas', 0)} updated | "
                    f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
                    f"{status.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    writer.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    writer.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    if strategy.get("rollingUpdate") is not None:
        rolling = strategy["rollingUpdate"]
        writer.write(0, f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable', '')} max unavailable, "
                        f"{rolling.get('maxSurge', '')} max surge\n")
    describe_pod_template(writer, spec.get("template"))
    if status.get("conditions"):
        writer.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        writer.write(1, "----\t------\t------\n")
        for condition in status["conditions"]:
            writer.write(1, f"{condition.get('type', '')} \t{condition.get('status', '')}\t"
                            f"{condition.get('reason', '')}\n")
    old_sets, new_sets = context.get("old_replicasets") or [], context.get("new_replicasets") or []
    if old_sets or new_sets:
        writer.write(0, f"OldReplicaSets:\t{_replicasets_text(old_sets)}\n")
        writer.write(0, f"NewReplicaSet:\t{_replicasets_text(new_sets)}\n")
    describe_events(writer, events)
    return writer.text()


def _replicasets_text(replicasets: list[dict]) -> str:
    texts = [f"{_meta(rs).get('name', '')} ({(rs.get('status') or {}).get('replicas', 0)}/"
             f"{(rs.get('spec') or {}).get('replicas', 0)} replicas created)" for rs in replicasets]
    return ", ".join(texts) or "<none>"


def describe_replicaset(replicaset: dict, events: list | None, context: dict) -> str:
    writer = DescribeWriter()
    metadata, spec, status = _meta(replicaset), replicaset.get("spec") or {}, replicaset.get("status") or {}
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    writer.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    controlled_by = print_controller(replicaset)
    if controlled_by:
        writer.write(0, f"Controlled By:\t{controlled_by}\n")
    writer.write(0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 0)} desired\n")
    writer.write(0, "Pods Status:\t")
    counts = context.get("pod_counts")
    if isinstance(counts, str):
        writer.write(0, f"error in fetching pods: {counts}\n")
    else:
        running, waiting, succeeded, failed = counts or (0, 0, 0, 0)
        writer.write(0, f"{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed\n")
    describe_pod_template(writer, spec.get("template"))
    if status.get("conditions"):
        writer.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        writer.write(1, "----\t------\t------\n")
        for condition in status["conditions"]:
            writer.write(1, f"{condition.get('type', '')} \t{condition.get('status', '')}\t"
                            f"{condition.get('reason', '')}\n")
    describe_events(writer, events)
    return writer.text()


def format_service_endpoints(endpoints: dict | None, port_name: str) -> str:
    """kubectl 1.32's formatEndpoints for one service port: `ip:port,...` (3 at most, then `+ N more...`)."""
    if not endpoints or not endpoints.get("subsets"):
        return "<none>"
    shown: list[str] = []
    more = False
    count = 0
    for subset in endpoints["subsets"]:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            for address in addresses:
                if len(shown) == 3:
                    more = True
                if not more:
                    shown.append(address.get("ip", ""))
                count += 1
            continue
        for port in ports:
            if port.get("name", "") != port_name:
                continue
            for address in addresses:
                if len(shown) == 3:
                    more = True
                if not more:
                    ip = address.get("ip", "")
                    shown.append(f"[{ip}]:{port.get('port')}" if ":" in ip else f"{ip}:{port.get('port')}")
                count += 1
    text = ",".join(shown)
    return f"{text} + {count - 3} more..." if more else text


def describe_service(service: dict, events: list | None, context: dict) -> str:
    writer = DescribeWriter()
    metadata, spec, status = _meta(service), service.get("spec") or {}, service.get("status") or {}
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    selector = spec.get("selector") or {}
    writer.write(0, f"Selector:\t{','.join(f'{k}={selector[k]}' for k in sorted(selector))}\n")
    writer.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        writer.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    families = spec.get("ipFamilies") or []
    writer.write(0, f"IP Families:\t{','.join(families) if families else '<none>'}\n")
    writer.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    writer.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        writer.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        writer.write(0, f"Desired LoadBalancer IP:\t{spec['loadBalancerIP']}\n")
    if spec.get("externalName"):
        writer.write(0, f"External Name:\t{spec['externalName']}\n")
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        texts = []
        for entry in ingress:
            text = entry.get("ip") or entry.get("hostname", "")
            if entry.get("ip") and entry.get("ipMode"):
                text += f" ({entry['ipMode']})"
            texts.append(text)
        writer.write(0, f"LoadBalancer Ingress:\t{', '.join(texts)}\n")
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "")
        writer.write(0, f"Port:\t{name}\t{port.get('port', 0)}/{protocol}\n")
        writer.write(0, f"TargetPort:\t{port.get('targetPort', port.get('port', 0))}/{protocol}\n")
        if port.get("appProtocol"):
            writer.write(0, f"AppProtocol:\t{port['appProtocol']}\n")
        if port.get("nodePort"):
            writer.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        writer.write(0, f"Endpoints:\t{format_service_endpoints(context.get('endpoints'), port.get('name', ''))}\n")
    writer.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', '')}\n")
    if spec.get("externalTrafficPolicy"):
        writer.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        writer.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    if spec.get("healthCheckNodePort"):
        writer.write(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    if spec.get("loadBalancerSourceRanges"):
        writer.write(0, f"LoadBalancer Source Ranges:\t{','.join(spec['loadBalancerSourceRanges'])}\n")
    describe_events(writer, events)
    return writer.text()


def describe_namespace(namespace: dict, _events: list | None, _context: dict) -> str:
    writer = DescribeWriter()
    metadata, status = _meta(namespace), namespace.get("status") or {}
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    writer.write(0, f"Status:\t{status.get('phase', '')}\n")
    if status.get("conditions"):
        writer.write(0, "Conditions:\n")
        writer.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
        writer.write(1, "----\t------\t------------------\t------\t-------\n")
        for condition in status["conditions"]:
            writer.write(1, f"{condition.get('type', '')}\t{condition.get('status', '')}\t"
                            f"{rfc1123z(condition.get('lastTransitionTime'))}\t{condition.get('reason', '')}\t"
                            f"{condition.get('message', '')}\n")
    return writer.text()


def _quantity_sum(values: list[str]) -> Any:
    from decimal import Decimal

    from orchestrator.api.quantity import parse_quantity

    total = Decimal(0)
    for value in values:
        try:
            total += parse_quantity(value)
        except ValueError:
            continue
    return total


def _pod_totals(pod: dict, section: str) -> dict[str, Any]:
    """resourcehelper.PodRequests/PodLimits, simplified: the containers' sum, or the largest init container."""
    from decimal import Decimal

    from orchestrator.api.quantity import parse_quantity

    spec = pod.get("spec") or {}
    totals: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        for name, value in ((container.get("resources") or {}).get(section) or {}).items():
            totals[name] = totals.get(name, Decimal(0)) + _quantity_sum([value])
    for container in spec.get("initContainers") or []:
        for name, value in ((container.get("resources") or {}).get(section) or {}).items():
            try:
                totals[name] = max(totals.get(name, Decimal(0)), parse_quantity(value))
            except ValueError:
                continue
    return totals


def _format_amount(name: str, amount: Any) -> str:
    from orchestrator.api.quantity import format_quantity

    return format_quantity(amount, "BinarySI" if name in ("memory", "ephemeral-storage") else "DecimalSI")


def describe_node(node: dict, events: list | None, context: dict) -> str:
    from decimal import Decimal

    writer = DescribeWriter()
    metadata, spec, status = _meta(node), node.get("spec") or {}, node.get("status") or {}
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    labels = metadata.get("labels") or {}
    roles = sorted({key[len(NODE_ROLE_LABEL_PREFIX):] for key in labels
                    if key.startswith(NODE_ROLE_LABEL_PREFIX) and key[len(NODE_ROLE_LABEL_PREFIX):]}
                   | ({labels[NODE_ROLE_LABEL]} if labels.get(NODE_ROLE_LABEL) else set()))
    writer.write(0, f"Roles:\t{','.join(roles) if roles else '<none>'}\n")
    print_labels_multiline(writer, "Labels", labels)
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    writer.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    print_taints_multiline(writer, "Taints", spec.get("taints"))
    writer.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    lease = context.get("lease")
    if isinstance(lease, str):
        writer.write(0, f"Lease:\tFailed to get lease: {lease}\n")
    else:
        lease_spec = (lease or {}).get("spec") or {}
        writer.write(0, "Lease:\n")
        writer.write(1, f"HolderIdentity:\t{lease_spec.get('holderIdentity') or '<unset>'}\n")
        writer.write(1, f"AcquireTime:\t{rfc1123z(lease_spec['acquireTime']) if lease_spec.get('acquireTime') else '<unset>'}\n")
        writer.write(1, f"RenewTime:\t{rfc1123z(lease_spec['renewTime']) if lease_spec.get('renewTime') else '<unset>'}\n")
    if status.get("conditions"):
        writer.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        writer.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for condition in status["conditions"]:
            writer.write(1, f"{condition.get('type', '')} \t{condition.get('status', '')} \t"
                            f"{rfc1123z(condition.get('lastHeartbeatTime'))} \t"
                            f"{rfc1123z(condition.get('lastTransitionTime'))} \t{condition.get('reason', '')} \t"
                            f"{condition.get('message', '')}\n")
    writer.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        writer.write(1, f"{address.get('type', '')}:\t{address.get('address', '')}\n")
    for key, title in (("capacity", "Capacity"), ("allocatable", "Allocatable")):
        if status.get(key):
            writer.write(0, f"{title}:\n")
            for name in sorted(status[key]):
                writer.write(0, f"  {name}:\t{status[key][name]}\n")
    info = status.get("nodeInfo") or {}
    writer.write(0, "System Info:\n")
    for field, title in (("machineID", "Machine ID"), ("systemUUID", "System UUID"), ("bootID", "Boot ID"),
                         ("kernelVersion", "Kernel Version"), ("osImage", "OS Image"),
                         ("operatingSystem", "Operating System"), ("architecture", "Architecture"),
                         ("containerRuntimeVersion", "Container Runtime Version"),
                         ("kubeletVersion", "Kubelet Version")):
        writer.write(0, f"  {title}:\t{info.get(field, '')}\n")
    writer.write(0, f"  Kube-Proxy Version:\t{info.get('kubeProxyVersion', '')}\n")  # deprecated, still shown
    if spec.get("podCIDR"):
        writer.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        writer.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        writer.write(0, f"ProviderID:\t{spec['providerID']}\n")
    pods = context.get("pods")
    if pods is None:
        writer.write(0, "Pods:\tnot authorized\n")
    else:
        allocatable = status.get("allocatable") or status.get("capacity") or {}
        capacity_cpu = _quantity_sum([allocatable.get("cpu", "0")])
        capacity_memory = _quantity_sum([allocatable.get("memory", "0")])
        capacity_storage = _quantity_sum([allocatable.get("ephemeral-storage", "0")])

        def percent(amount: Decimal, capacity: Decimal) -> int:
            return int(amount / capacity * 100) if capacity else 0

        writer.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
        writer.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
        writer.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
        totals_requests: dict[str, Decimal] = {}
        totals_limits: dict[str, Decimal] = {}
        for pod in pods:
            requests, limits = _pod_totals(pod, "requests"), _pod_totals(pod, "limits")
            for name, amount in requests.items():
                totals_requests[name] = totals_requests.get(name, Decimal(0)) + amount
            for name, amount in limits.items():
                totals_limits[name] = totals_limits.get(name, Decimal(0)) + amount
            cpu_request, cpu_limit = requests.get("cpu", Decimal(0)), limits.get("cpu", Decimal(0))
            memory_request, memory_limit = requests.get("memory", Decimal(0)), limits.get("memory", Decimal(0))
            writer.write(1, f"{_meta(pod).get('namespace', '')}\t{_meta(pod).get('name', '')}\t\t"
                            f"{_format_amount('cpu', cpu_request)} ({percent(cpu_request, capacity_cpu)}%)\t"
                            f"{_format_amount('cpu', cpu_limit)} ({percent(cpu_limit, capacity_cpu)}%)\t"
                            f"{_format_amount('memory', memory_request)} ({percent(memory_request, capacity_memory)}%)\t"
                            f"{_format_amount('memory', memory_limit)} ({percent(memory_limit, capacity_memory)}%)\t"
                            f"{since(_meta(pod).get('creationTimestamp'))}\n")
        writer.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
        writer.write(1, "Resource\tRequests\tLimits\n")
        writer.write(1, "--------\t--------\t------\n")
        for name, capacity in (("cpu", capacity_cpu), ("memory", capacity_memory),
                               ("ephemeral-storage", capacity_storage)):
            requested, limited = totals_requests.get(name, Decimal(0)), totals_limits.get(name, Decimal(0))
            writer.write(1, f"{name}\t{_format_amount(name, requested)} ({percent(requested, capacity)}%)\t"
                            f"{_format_amount(name, limited)} ({percent(limited, capacity)}%)\n")
    describe_events(writer, events)
    return writer.text()


def describe_configmap(config_map: dict, events: list | None, _context: dict) -> str:
    writer = DescribeWriter()
    metadata = _meta(config_map)
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    writer.write(0, "\nData\n====\n")
    data = config_map.get("data") or {}
    for key in sorted(data):
        writer.write(0, f"{key}:\n----\n")
        writer.write(0, f"{data[key]}\n\n")
    writer.write(0, "\nBinaryData\n====\n")
    binary = config_map.get("binaryData") or {}
    for key in sorted(binary):
        import base64

        writer.write(0, f"{key}: {len(base64.b64decode(binary[key]))} bytes\n")
    writer.write(0, "\n")
    describe_events(writer, events)
    return writer.text()


def describe_secret(secret: dict, _events: list | None, _context: dict) -> str:
    import base64

    writer = DescribeWriter()
    metadata = _meta(secret)
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    writer.write(0, f"\nType:\t{secret.get('type', '')}\n")
    writer.write(0, "\nData\n====\n")
    data = secret.get("data") or {}
    for key in sorted(data):
        value = base64.b64decode(data[key] or "")
        if key == "token" and secret.get("type") == "kubernetes.io/service-account-token":
            writer.write(0, f"{key}:\t{value.decode('utf-8', errors='replace')}\n")
        else:
            writer.write(0, f"{key}:\t{len(value)} bytes\n")
    return writer.text()


def describe_endpoints(endpoints: dict, events: list | None, _context: dict) -> str:
    writer = DescribeWriter()
    metadata = _meta(endpoints)
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    writer.write(0, "Subsets:\n")
    for subset in endpoints.get("subsets") or []:
        ready = ",".join(address.get("ip", "") for address in subset.get("addresses") or [])
        not_ready = ",".join(address.get("ip", "") for address in subset.get("notReadyAddresses") or [])
        writer.write(1, f"Addresses:\t{ready or '<none>'}\n")
        writer.write(1, f"NotReadyAddresses:\t{not_ready or '<none>'}\n")
        if subset.get("ports"):
            writer.write(1, "Ports:\n")
            writer.write(2, "Name\tPort\tProtocol\n")
            writer.write(2, "----\t----\t--------\n")
            for port in subset["ports"]:
                writer.write(2, f"{port.get('name') or '<unset>'}\t{port.get('port', 0)}\t{port.get('protocol', '')}\n")
        writer.write(0, "\n")
    describe_events(writer, events)
    return writer.text()


def smart_label(field: str) -> str:
    """kubectl's smartLabelFor: `containerPort` -> `Container Port`, `apiVersion` -> `API Version`."""
    import re

    if any(not (character.isalpha() or character == "-") for character in field):
        return field
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|-", field)
    words = []
    for part in parts:
        if part.upper() in ("API", "URL", "UID", "GUID"):
            words.append(part.upper())
        elif part.islower():
            words.append(part[:1].upper() + part[1:])
        else:
            words.append(part)
    return " ".join(words)


def _print_unstructured(writer: DescribeWriter, level: int, content: dict, prefix: str, skip: set[str]) -> None:
    from cli.client.jsonpath import format_value

    for field in sorted(content):
        value = content[field]
        expression = f"{prefix}.{field}"
        if expression in skip:
            continue
        if isinstance(value, dict):
            writer.write(level, f"{smart_label(field)}:\n")
            _print_unstructured(writer, level + 1, value, expression, skip)
        elif isinstance(value, list):
            writer.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    _print_unstructured(writer, level + 1, child, expression, skip)
                else:
                    writer.write(level + 1, f"{format_value(child)}\n")
        else:
            writer.write(level, f"{smart_label(field)}:\t{format_value(value)}\n")


def describe_generic(document: dict, events: list | None, _context: dict) -> str:
    writer = DescribeWriter()
    metadata = _meta(document)
    writer.write(0, f"Name:\t{metadata.get('name', '')}\n")
    writer.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels_multiline(writer, "Labels", metadata.get("labels"))
    print_annotations_multiline(writer, "Annotations", metadata.get("annotations"))
    _print_unstructured(writer, 0, document, "", {".metadata.managedFields", ".metadata.name", ".metadata.namespace",
                                                  ".metadata.labels", ".metadata.annotations"})
    describe_events(writer, events)
    return writer.text()


Describer = Callable[[dict, "list | None", dict], str]
DESCRIBERS: dict[tuple[str, str], Describer] = {
    ("", "Pod"): describe_pod,
    ("apps", "Deployment"): describe_deployment,
    ("apps", "ReplicaSet"): describe_replicaset,
    ("", "Service"): describe_service,
    ("", "Node"): describe_node,
    ("", "Namespace"): describe_namespace,
    ("", "ConfigMap"): describe_configmap,
    ("", "Secret"): describe_secret,
    ("", "Endpoints"): describe_endpoints,
}
WITHOUT_EVENTS = {("", "Namespace"), ("", "Secret")}


