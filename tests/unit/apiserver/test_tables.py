"""Tests for orchestrator.apiserver.tables: Table columns and cells equal Kubernetes' printers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.api.errors import BadRequest
from orchestrator.apiserver.tables import column_definitions, format_age, format_endpoints, table_for

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def ago(**elapsed: float) -> str:
    return (NOW - timedelta(**elapsed)).isoformat().replace("+00:00", "Z")


def meta(name: str, **extra) -> dict:
    return {"name": name, "namespace": "default", "uid": f"uid-{name}", "creationTimestamp": ago(minutes=5), **extra}


def cells(resource: str, obj: dict) -> list:
    return table_for(resource, [obj], now=NOW)["rows"][0]["cells"]


# ----- format_age --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        pytest.param(timedelta(0), "0s", id="now"),
        pytest.param(timedelta(seconds=-1), "0s", id="one-second-of-skew"),
        pytest.param(timedelta(seconds=-3), "<invalid>", id="future"),
        pytest.param(timedelta(seconds=5), "5s", id="seconds"),
        pytest.param(timedelta(seconds=119), "119s", id="seconds-below-two-minutes"),
        pytest.param(timedelta(minutes=2, seconds=3), "2m3s", id="minutes-and-seconds"),
        pytest.param(timedelta(minutes=4), "4m", id="whole-minutes"),
        pytest.param(timedelta(minutes=10, seconds=30), "10m", id="ten-minutes-drops-seconds"),
        pytest.param(timedelta(minutes=179), "179m", id="minutes-below-three-hours"),
        pytest.param(timedelta(hours=3), "3h", id="whole-hours"),
        pytest.param(timedelta(hours=3, minutes=5), "3h5m", id="hours-and-minutes"),
        pytest.param(timedelta(hours=8, minutes=5), "8h", id="eight-hours-drops-minutes"),
        pytest.param(timedelta(hours=47), "47h", id="hours-below-two-days"),
        pytest.param(timedelta(days=2, hours=3), "2d3h", id="days-and-hours"),
        pytest.param(timedelta(days=7), "7d", id="whole-days"),
        pytest.param(timedelta(days=45, hours=5), "45d", id="days"),
        pytest.param(timedelta(days=729), "729d", id="days-below-two-years"),
        pytest.param(timedelta(days=730), "2y", id="whole-years"),
        pytest.param(timedelta(days=3 * 365 + 10), "3y10d", id="years-and-days"),
        pytest.param(timedelta(days=9 * 365 + 10), "9y", id="years"),
    ],
)
def test_format_age_is_human_duration(elapsed: timedelta, expected: str) -> None:
    assert format_age(NOW - elapsed, NOW) == expected


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        pytest.param(None, "<unknown>", id="missing"),
        pytest.param("", "<unknown>", id="empty"),
        pytest.param("0001-01-01T00:00:00Z", "<unknown>", id="go-zero-time"),
        pytest.param("2024-05-01T11:57:00Z", "3m", id="rfc3339"),
        pytest.param("2024-05-01T11:59:58.123456Z", "1s", id="micro-time"),
        pytest.param(datetime(2024, 5, 1, 11, 0), "60m", id="naive-datetime-is-utc"),
    ],
)
def test_format_age_parses_timestamps(created, expected: str) -> None:
    assert format_age(created, NOW) == expected


# ----- pods ----------------------------------------------------------------------------------------


def container_status(
    name: str = "app",
    *,
    ready: bool = False,
    restarts: int = 0,
    running: bool = False,
    waiting: str | None = None,
    terminated: dict | None = None,
    last_finished: str | None = None,
    started: bool | None = None,
) -> dict:
    state = {"running": {"startedAt": ago(minutes=4)}} if running else {}
    if waiting is not None:
        state = {"waiting": {"reason": waiting}}
    if terminated is not None:
        state = {"terminated": terminated}
    status = {"name": name, "ready": ready, "restartCount": restarts, "state": state, "image": "busybox"}
    if last_finished:
        status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": last_finished}}
    if started is not None:
        status["started"] = started
    return status


def new_pod(
    *,
    containers: int = 1,
    init_containers: list[dict] | None = None,
    phase: str = "Running",
    statuses: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    conditions: list[dict] | None = None,
    deleting: bool = False,
    **status_extra,
) -> dict:
    spec = {"containers": [{"name": f"c{i}", "image": "busybox"} for i in range(containers)], "nodeName": "node-1"}
    if init_containers is not None:
        spec["initContainers"] = init_containers
    status = {"phase": phase, "conditions": conditions or [], **status_extra}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    metadata = meta("web", deletionTimestamp=ago(seconds=10)) if deleting else meta("web")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


READY = [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]
NOT_INITIALIZED = [{"type": "Initialized", "status": "False"}]


@pytest.mark.parametrize(
    ("pod", "ready", "status", "restarts"),
    [
        pytest.param(
            new_pod(statuses=[container_status(ready=True, running=True)]), "1/1", "Running", "0", id="running"
        ),
        pytest.param(
            new_pod(phase="Pending", statuses=[container_status(waiting="ContainerCreating")]),
            "0/1",
            "ContainerCreating",
            "0",
            id="container-creating",
        ),
        pytest.param(
            new_pod(statuses=[container_status(waiting="CrashLoopBackOff", restarts=5, last_finished=ago(minutes=3))]),
            "0/1",
            "CrashLoopBackOff",
            "5 (3m ago)",
            id="crash-loop-with-restarts",
        ),
        pytest.param(
            new_pod(phase="Pending", statuses=[container_status(waiting="ErrImagePull")]),
            "0/1",
            "ErrImagePull",
            "0",
            id="err-image-pull",
        ),
        pytest.param(
            new_pod(phase="Pending", statuses=[container_status(waiting="ImagePullBackOff")]),
            "0/1",
            "ImagePullBackOff",
            "0",
            id="image-pull-back-off",
        ),
        pytest.param(
            new_pod(phase="Succeeded", statuses=[container_status(terminated={"exitCode": 0, "reason": "Completed"})]),
            "0/1",
            "Completed",
            "0",
            id="completed",
        ),
        pytest.param(
            new_pod(phase="Failed", statuses=[container_status(terminated={"exitCode": 137, "signal": 9})]),
            "0/1",
            "Signal:9",
            "0",
            id="killed-by-signal",
        ),
        pytest.param(
            new_pod(phase="Failed", statuses=[container_status(terminated={"exitCode": 3})]),
            "0/1",
            "ExitCode:3",
            "0",
            id="exit-code-without-reason",
        ),
        pytest.param(
            new_pod(
                containers=2,
                conditions=READY,
                statuses=[
                    container_status("a", terminated={"exitCode": 0, "reason": "Completed"}),
                    container_status("b", ready=True, running=True),
                ],
            ),
            "1/2",
            "Running",
            "0",
            id="completed-container-beside-running-one-ready-pod",
        ),
        pytest.param(
            new_pod(
                containers=2,
                statuses=[
                    container_status("a", terminated={"exitCode": 0, "reason": "Completed"}),
                    container_status("b", ready=True, running=True),
                ],
            ),
            "1/2",
            "NotReady",
            "0",
            id="completed-container-beside-running-one-unready-pod",
        ),
        pytest.param(
            new_pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory."),
            "0/1",
            "Evicted",
            "0",
            id="status-reason",
        ),
        pytest.param(
            new_pod(
                phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
            ),
            "0/1",
            "SchedulingGated",
            "0",
            id="scheduling-gated",
        ),
        pytest.param(
            new_pod(
                phase="Pending",
                init_containers=[{"name": "init", "image": "busybox"}],
                conditions=NOT_INITIALIZED,
                init_statuses=[container_status("init", running=True)],
                statuses=[container_status(waiting="PodInitializing")],
            ),
            "0/1",
            "Init:0/1",
            "0",
            id="init-running",
        ),
        pytest.param(
            new_pod(
                phase="Pending",
                init_containers=[{"name": "init", "image": "busybox"}],
                conditions=NOT_INITIALIZED,
                init_statuses=[
                    container_status("init", waiting="CrashLoopBackOff", restarts=2, last_finished=ago(seconds=30))
                ],
                statuses=[container_status(waiting="PodInitializing")],
            ),
            "0/1",
            "Init:CrashLoopBackOff",
            "2 (30s ago)",
            id="init-crash-loop",
        ),
        pytest.param(
            new_pod(
                phase="Pending",
                init_containers=[{"name": "init", "image": "busybox"}],
                conditions=NOT_INITIALIZED,
                init_statuses=[container_status("init", terminated={"exitCode": 1, "reason": "Error"})],
            ),
            "0/1",
            "Init:Error",
            "0",
            id="init-error",
        ),
        pytest.param(
            new_pod(
                phase="Pending",
                init_containers=[{"name": "one", "image": "busybox"}, {"name": "two", "image": "busybox"}],
                conditions=NOT_INITIALIZED,
                init_statuses=[
                    container_status("one", terminated={"exitCode": 0, "reason": "Completed"}),
                    container_status("two", terminated={"exitCode": 2}),
                ],
            ),
            "0/1",
            "Init:ExitCode:2",
            "0",
            id="second-init-fails-without-reason",
        ),
        pytest.param(
            new_pod(
                init_containers=[{"name": "proxy", "image": "busybox", "restartPolicy": "Always"}],
                conditions=READY,
                init_statuses=[
                    container_status(
                        "proxy", ready=True, running=True, started=True, restarts=1, last_finished=ago(hours=2)
                    )
                ],
                statuses=[container_status(ready=True, running=True)],
            ),
            "2/2",
            "Running",
            "1 (120m ago)",
            id="sidecar-counts-as-a-container",
        ),
        pytest.param(
            new_pod(
                statuses=[container_status(ready=True, running=True)],
                deleting=True,
            ),
            "1/1",
            "Terminating",
            "0",
            id="terminating",
        ),
        pytest.param(
            new_pod(
                phase="Succeeded",
                statuses=[container_status(terminated={"exitCode": 0, "reason": "Completed"})],
                deleting=True,
            ),
            "0/1",
            "Completed",
            "0",
            id="deleting-a-finished-pod-keeps-its-verdict",
        ),
        pytest.param(
            new_pod(statuses=[container_status(ready=True, running=True)], reason="NodeLost", deleting=True),
            "1/1",
            "Unknown",
            "0",
            id="node-lost",
        ),
        pytest.param(
            new_pod(statuses=[container_status(ready=True, running=True, restarts=3)]),
            "1/1",
            "Running",
            "3",
            id="restarts-without-last-state",
        ),
    ],
)
def test_pod_ready_status_restarts(pod: dict, ready: str, status: str, restarts: str) -> None:
    assert cells("pods", pod)[1:5] == [ready, status, restarts, "5m"]


@pytest.mark.parametrize(
    ("status_extra", "spec_extra", "wide"),
    [
        pytest.param({}, {"nodeName": ""}, ["<none>", "<none>", "<none>", "<none>"], id="unscheduled"),
        pytest.param({"podIP": "10.1.0.7"}, {}, ["10.1.0.7", "node-1", "<none>", "<none>"], id="pod-ip-only"),
        pytest.param(
            {"podIP": "10.1.0.7", "podIPs": [{"ip": "10.1.0.8"}], "nominatedNodeName": "node-2"},
            {},
            ["10.1.0.8", "node-1", "node-2", "<none>"],
            id="pod-ips-first",
        ),
        pytest.param(
            {
                "conditions": [
                    {"type": "example.com/lb", "status": "True"},
                    {"type": "example.com/dns", "status": "False"},
                ]
            },
            {"readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]},
            ["<none>", "node-1", "<none>", "1/2"],
            id="readiness-gates",
        ),
    ],
)
def test_pod_wide_cells(status_extra: dict, spec_extra: dict, wide: list[str]) -> None:
    pod = new_pod(statuses=[container_status(ready=True, running=True)])
    pod["status"].update(status_extra)
    pod["spec"].update(spec_extra)
    assert cells("pods", pod)[5:] == wide


@pytest.mark.parametrize(
    ("phase", "conditions"),
    [
        pytest.param("Running", None, id="running-has-none"),
        pytest.param(
            "Succeeded",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Succeeded",
                    "message": "The pod has completed successfully.",
                }
            ],
            id="succeeded",
        ),
        pytest.param(
            "Failed",
            [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}],
            id="failed",
        ),
    ],
)
def test_finished_pods_carry_a_completed_row_condition(phase: str, conditions: list | None) -> None:
    row = table_for("pods", [new_pod(phase=phase)], now=NOW)["rows"][0]
    assert row.get("conditions") == conditions


# ----- workloads ---------------------------------------------------------------------------------


def pod_template(*images: str) -> dict:
    return {"spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}


def test_deployment_cells() -> None:
    deployment = {
        "metadata": meta("web"),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "tier": "front"}},
            "template": pod_template("nginx", "busybox"),
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells("deployments", deployment) == [
        "web",
        "2/3",
        3,
        2,
        "5m",
        "c0,c1",
        "nginx,busybox",
        "app=web,tier=front",
    ]


def test_new_deployment_without_status() -> None:
    deployment = {"metadata": meta("web"), "spec": {"selector": {}, "template": pod_template("nginx")}}
    assert cells("deployments", deployment) == ["web", "0/1", 0, 0, "5m", "c0", "nginx", ""]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(None, "<none>", id="missing"),
        pytest.param({}, "<none>", id="everything"),
        pytest.param({"matchLabels": {"tier": "front", "app": "web"}}, "app=web,tier=front", id="labels-sorted-by-key"),
        pytest.param(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "zone", "operator": "NotIn", "values": ["b"]},
                    {"key": "gpu", "operator": "Exists"},
                ],
            },
            "app=web,!canary,env in (dev,prod),gpu,zone notin (b)",
            id="expressions",
        ),
        pytest.param({"matchExpressions": [{"key": "a", "operator": "Near"}]}, "<error>", id="bad-operator"),
    ],
)
def test_replicaset_cells_and_selector(selector: dict | None, expected: str) -> None:
    replicaset = {
        "metadata": meta("web-6d4b"),
        "spec": {"replicas": 2, "selector": selector, "template": pod_template("nginx")},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert cells("replicasets", replicaset) == ["web-6d4b", 2, 2, 1, "5m", "c0", "nginx", expected]


# ----- services and endpoints ------------------------------------------------------------------------


def new_service(service_type: str | None = "ClusterIP", *, ports=None, status=None, **spec_extra) -> dict:
    spec = {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ports": ports or [], **spec_extra}
    if service_type is not None:
        spec["type"] = service_type
    return {"metadata": meta("web"), "spec": spec, "status": status or {}}


TCP_80 = {"port": 80, "protocol": "TCP", "targetPort": 8080}


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        pytest.param(
            new_service(ports=[TCP_80], selector={"app": "web"}),
            ["ClusterIP", "10.96.0.10", "<none>", "80/TCP", "app=web"],
            id="cluster-ip",
        ),
        pytest.param(
            new_service(None, ports=[{"port": 53, "protocol": "UDP"}]),
            ["ClusterIP", "10.96.0.10", "<none>", "53/UDP", "<none>"],
            id="undefaulted-type",
        ),
        pytest.param(
            new_service("ClusterIP", clusterIP="None", clusterIPs=["None"]),
            ["ClusterIP", "None", "<none>", "<none>", "<none>"],
            id="headless-without-ports",
        ),
        pytest.param(
            new_service("NodePort", ports=[{**TCP_80, "nodePort": 32767}, {"port": 443, "protocol": "TCP"}]),
            ["NodePort", "10.96.0.10", "<none>", "80:32767/TCP,443/TCP", "<none>"],
            id="node-port",
        ),
        pytest.param(
            new_service("LoadBalancer", ports=[{**TCP_80, "nodePort": 31000}]),
            ["LoadBalancer", "10.96.0.10", "<pending>", "80:31000/TCP", "<none>"],
            id="load-balancer-pending",
        ),
        pytest.param(
            new_service(
                "LoadBalancer",
                ports=[{**TCP_80, "nodePort": 31000}],
                status={
                    "loadBalancer": {
                        "ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}, {"ip": "192.0.2.1"}]
                    }
                },
            ),
            ["LoadBalancer", "10.96.0.10", "192.0.2.1,203.0.113.9,lb.example.com", "80:31000/TCP", "<none>"],
            id="load-balancer-with-ingress-unclipped",
        ),
        pytest.param(
            new_service(
                "LoadBalancer",
                externalIPs=["198.51.100.4"],
                status={"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}},
            ),
            ["LoadBalancer", "10.96.0.10", "203.0.113.9,198.51.100.4", "<none>", "<none>"],
            id="load-balancer-with-external-ips",
        ),
        pytest.param(
            new_service("ClusterIP", externalIPs=["198.51.100.4", "198.51.100.5"]),
            ["ClusterIP", "10.96.0.10", "198.51.100.4,198.51.100.5", "<none>", "<none>"],
            id="cluster-ip-with-external-ips",
        ),
        pytest.param(
            new_service("ExternalName", clusterIP="", clusterIPs=[], externalName="db.example.com"),
            ["ExternalName", "<none>", "db.example.com", "<none>", "<none>"],
            id="external-name",
        ),
    ],
)
def test_service_cells(service: dict, expected: list[str]) -> None:
    row = cells("services", service)
    assert row[1:5] + row[6:] == expected
    assert row[0] == "web" and row[5] == "5m"


def subset(*ips: str, ports: list[int] | None = None) -> dict:
    entry = {"addresses": [{"ip": ip} for ip in ips]}
    if ports:
        entry["ports"] = [{"port": port, "protocol": "TCP"} for port in ports]
    return entry


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        pytest.param([], "<none>", id="none"),
        pytest.param([subset("10.0.0.1", "10.0.0.2", ports=[80])], "10.0.0.1:80,10.0.0.2:80", id="two"),
        pytest.param(
            [subset("10.0.0.1", "10.0.0.2", "10.0.0.3", ports=[80, 443]), subset("10.0.1.1", ports=[80])],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 4 more...",
            id="truncated",
        ),
        pytest.param(
            [subset("10.0.0.1", "10.0.0.2", "10.0.0.3", ports=[80])],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80",
            id="exactly-three",
        ),
        pytest.param([subset("10.0.0.1", "10.0.0.2")], "10.0.0.1,10.0.0.2", id="headless-without-ports"),
        pytest.param([subset("fd00::1", ports=[80])], "[fd00::1]:80", id="ipv6"),
    ],
)
def test_endpoints(subsets: list[dict], expected: str) -> None:
    endpoints = {"metadata": meta("web"), "subsets": subsets}
    assert format_endpoints(endpoints) == expected
    assert cells("endpoints", endpoints) == ["web", expected, "5m"]


# ----- nodes -------------------------------------------------------------------------------------------


def new_node(*, ready: str | None = "True", unschedulable: bool = False, labels: dict | None = None) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {
        "metadata": {**meta("node-1"), "labels": labels or {}},
        "spec": {"unschedulable": unschedulable},
        "status": {
            "conditions": conditions,
            "addresses": [{"type": "Hostname", "address": "node-1"}, {"type": "InternalIP", "address": "172.18.0.2"}],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "docker://24.0.7",
            },
        },
    }


@pytest.mark.parametrize(
    ("node", "status", "roles"),
    [
        pytest.param(new_node(), "Ready", "<none>", id="ready"),
        pytest.param(
            new_node(ready="False", unschedulable=True),
            "NotReady,SchedulingDisabled",
            "<none>",
            id="not-ready-cordoned",
        ),
        pytest.param(new_node(ready="Unknown"), "NotReady", "<none>", id="ready-unknown-is-not-ready"),
        pytest.param(new_node(ready=None), "Unknown", "<none>", id="no-ready-condition"),
        pytest.param(
            new_node(
                labels={
                    "node-role.kubernetes.io/worker": "",
                    "node-role.kubernetes.io/control-plane": "",
                    "node-role.kubernetes.io/": "x",
                }
            ),
            "Ready",
            "control-plane,worker",
            id="roles-sorted",
        ),
        pytest.param(new_node(labels={"kubernetes.io/role": "edge"}), "Ready", "edge", id="legacy-role-label"),
    ],
)
def test_node_cells(node: dict, status: str, roles: str) -> None:
    assert cells("nodes", node) == [
        "node-1",
        status,
        roles,
        "5m",
        "v1.32.0",
        "172.18.0.2",
        "<none>",
        "Debian GNU/Linux 12",
        "6.1.0",
        "docker://24.0.7",
    ]


def test_node_without_info_prints_unknown() -> None:
    node = {"metadata": meta("bare"), "status": {}}
    assert cells("nodes", node) == [
        "bare",
        "Unknown",
        "<none>",
        "5m",
        "",
        "<none>",
        "<none>",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


# ----- small kinds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "obj", "expected"),
    [
        pytest.param(
            "namespaces",
            {"metadata": meta("dev"), "status": {"phase": "Active"}},
            ["dev", "Active", "5m"],
            id="namespace",
        ),
        pytest.param(
            "configmaps",
            {"metadata": meta("settings"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
            ["settings", 3, "5m"],
            id="configmap",
        ),
        pytest.param("configmaps", {"metadata": meta("empty")}, ["empty", 0, "5m"], id="empty-configmap"),
        pytest.param(
            "secrets",
            {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}},
            ["tls", "kubernetes.io/tls", 2, "5m"],
            id="secret",
        ),
        pytest.param(
            "leases",
            {"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "host_1234"}},
            ["kube-scheduler", "host_1234", "5m"],
            id="lease",
        ),
        pytest.param("leases", {"metadata": meta("free"), "spec": {}}, ["free", "", "5m"], id="lease-without-holder"),
        pytest.param("widgets", {"metadata": meta("default")}, ["default", "5m"], id="other-resource"),
    ],
)
def test_small_kinds(resource: str, obj: dict, expected: list) -> None:
    assert cells(resource, obj) == expected


# ----- events --------------------------------------------------------------------------------------------


def new_event(**fields) -> dict:
    return {
        "metadata": meta("web.17c1"),
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "fieldPath": "spec.containers{app}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(minutes=10),
        "lastTimestamp": ago(seconds=30),
        "count": 7,
        **fields,
    }


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            new_event(),
            [
                "30s",
                "Warning",
                "BackOff",
                "pod/web",
                "spec.containers{app}",
                "kubelet, node-1",
                "Back-off restarting failed container",
                "10m",
                7,
                "web.17c1",
            ],
            id="legacy-event",
        ),
        pytest.param(
            new_event(
                firstTimestamp=None,
                lastTimestamp=None,
                count=None,
                eventTime="2024-05-01T11:58:00.000000Z",
                source={},
                reportingController="default-scheduler",
                reportingInstance="",
                involvedObject={"kind": "Node"},
            ),
            [
                "2m",
                "Warning",
                "BackOff",
                "node",
                "",
                "default-scheduler",
                "Back-off restarting failed container",
                "2m",
                1,
                "web.17c1",
            ],
            id="new-api-singleton",
        ),
        pytest.param(
            new_event(series={"count": 12, "lastObservedTime": "2024-05-01T11:59:00.000000Z"}),
            [
                "60s",
                "Warning",
                "BackOff",
                "pod/web",
                "spec.containers{app}",
                "kubelet, node-1",
                "Back-off restarting failed container",
                "10m",
                12,
                "web.17c1",
            ],
            id="series",
        ),
    ],
)
def test_event_cells(event: dict, expected: list) -> None:
    assert cells("events", event) == expected


# ----- the Table -------------------------------------------------------------------------------------------

ALL_PRINTED = {
    "pods": new_pod(),
    "deployments": {"metadata": meta("d"), "spec": {"replicas": 1}},
    "replicasets": {"metadata": meta("r"), "spec": {"replicas": 1}},
    "services": new_service(),
    "endpoints": {"metadata": meta("e")},
    "nodes": new_node(),
    "namespaces": {"metadata": meta("n")},
    "configmaps": {"metadata": meta("c")},
    "secrets": {"metadata": meta("s")},
    "events": new_event(),
    "leases": {"metadata": meta("l")},
    "widgets": {"metadata": meta("w")},
}


@pytest.mark.parametrize("resource", sorted(ALL_PRINTED))
def test_every_row_has_one_cell_per_column(resource: str) -> None:
    columns = column_definitions(resource)
    assert len(cells(resource, ALL_PRINTED[resource])) == len(columns)
    assert all(set(column) == {"name", "type", "format", "description", "priority"} for column in columns)


@pytest.mark.parametrize(
    ("resource", "headers"),
    [
        pytest.param("pods", "NAME READY STATUS RESTARTS AGE | IP NODE NOMINATED-NODE READINESS-GATES", id="pods"),
        pytest.param(
            "deployments", "NAME READY UP-TO-DATE AVAILABLE AGE | CONTAINERS IMAGES SELECTOR", id="deployments"
        ),
        pytest.param("replicasets", "NAME DESIRED CURRENT READY AGE | CONTAINERS IMAGES SELECTOR", id="replicasets"),
        pytest.param("services", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE | SELECTOR", id="services"),
        pytest.param("endpoints", "NAME ENDPOINTS AGE |", id="endpoints"),
        pytest.param(
            "nodes",
            "NAME STATUS ROLES AGE VERSION | INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME",
            id="nodes",
        ),
        pytest.param("namespaces", "NAME STATUS AGE |", id="namespaces"),
        pytest.param("configmaps", "NAME DATA AGE |", id="configmaps"),
        pytest.param("secrets", "NAME TYPE DATA AGE |", id="secrets"),
        pytest.param(
            "events", "LAST-SEEN TYPE REASON OBJECT MESSAGE | SUBOBJECT SOURCE FIRST-SEEN COUNT NAME", id="events"
        ),
        pytest.param("leases", "NAME HOLDER AGE |", id="leases"),
        pytest.param("widgets", "NAME AGE |", id="other"),
    ],
)
def test_headers_as_kubectl_prints_them(resource: str, headers: str) -> None:
    """kubectl upper-cases names and shows priority-1 columns only with -o wide."""
    columns = column_definitions(resource)

    def names(priority: int) -> list[str]:
        return [c["name"].upper().replace(" ", "-") for c in columns if c["priority"] == priority]

    assert " ".join([*names(0), "|", *names(1)]).strip() == headers


def test_integer_columns_are_declared_as_kubernetes_does() -> None:
    assert [c["type"] for c in column_definitions("replicasets")[1:4]] == ["integer"] * 3
    assert column_definitions("pods")[3]["type"] == "string"  # "2 (3m ago)" is text
    assert column_definitions("pods")[0]["format"] == "name"


@pytest.mark.parametrize(
    ("include_object", "expected_object"),
    [
        pytest.param(
            "Metadata",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": ALL_PRINTED["configmaps"]["metadata"],
            },
            id="metadata",
        ),
        pytest.param(
            "",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": ALL_PRINTED["configmaps"]["metadata"],
            },
            id="empty-means-metadata",
        ),
        pytest.param("Object", ALL_PRINTED["configmaps"], id="object"),
        pytest.param("None", None, id="none"),
    ],
)
def test_row_object_follows_include_object(include_object: str, expected_object: dict | None) -> None:
    table = table_for("configmaps", [ALL_PRINTED["configmaps"]], now=NOW, include_object=include_object)
    assert table["rows"][0]["object"] == expected_object


def test_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match='unrecognized includeObject value: "Everything"'):
        table_for("pods", [], now=NOW, include_object="Everything")


@pytest.mark.parametrize(
    ("objects", "list_metadata", "expected"),
    [
        pytest.param([], {"resourceVersion": "42"}, {"resourceVersion": "42"}, id="empty-list"),
        pytest.param(
            [{"metadata": meta("a")}],
            {"resourceVersion": "42", "continue": "token", "remainingItemCount": 0},
            {"resourceVersion": "42", "continue": "token", "remainingItemCount": 0},
            id="paged-list",
        ),
        pytest.param([{"metadata": meta("a", resourceVersion="7")}], None, {"resourceVersion": "7"}, id="single-get"),
        pytest.param(
            [{"metadata": meta("a")}],
            {"resourceVersion": "42", "continue": ""},
            {"resourceVersion": "42"},
            id="no-continue",
        ),
    ],
)
def test_table_envelope(objects: list[dict], list_metadata: dict | None, expected: dict) -> None:
    table = table_for("configmaps", objects, now=NOW, list_metadata=list_metadata)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == expected
    assert len(table["rows"]) == len(objects)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]


def test_column_definitions_are_copies() -> None:
    column_definitions("pods")[0]["name"] = "changed"
    assert column_definitions("pods")[0]["name"] == "Name"


def test_later_watch_events_carry_no_column_definitions() -> None:
    table = table_for("pods", [new_pod()], now=NOW, no_headers=True)
    assert table["columnDefinitions"] is None
    assert len(table["rows"][0]["cells"]) == len(column_definitions("pods"))


def test_deployment_with_a_bad_selector_prints_invalid() -> None:
    deployment = {
        "metadata": meta("web"),
        "spec": {"replicas": 1, "selector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}},
    }
    assert cells("deployments", deployment)[-1] == "<invalid>"
