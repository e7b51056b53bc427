"""Acceptance of the multi-node docker-compose cluster (issue 7), against real containers.

One cluster for the module (conftest.py); the tests run in order and build on each
other's objects, as a person following the README would: nodes Ready, stories 1
(hello-node: spread over the nodes, LoadBalancer, rolling update, a pod replaced) and 2
(classifier: NodePort 32767 on every node, front end -> API by Service name across
nodes, failed rollout and undo, `delete -f`) of the scenarios, written once in
tests/stories.py; story 6 (one Ingress, reached on every worker's ports 80/443,
tests/ingress_story.py); pods talking across nodes; a worker stopped and started again (with
story 1's hello-node still running), then one etcd member, the leading controller-manager
and one apiserver stopped together, and finally `down -v`.
Test traffic goes only to 127.0.0.1 (the API) and to the containers of this cluster.
Every wait is bounded.
"""

from __future__ import annotations

import ipaddress
import json
import time

import pytest
import yaml

from orchestrator.cluster.compose import wait_until
from orchestrator.cluster.podnetwork import node_internal_ip
from orchestrator.kubelet.runtime import LABEL_POD_NAME, LABEL_ROLE
from tests.ingress_story import IngressEntry, story_6_ingress
from tests.stories import (
    ECHO_PORT,
    HELLO_NODE,
    HELLO_NODE_REPLICAS,
    RoundRobin,
    load_balancer_addresses,
    story_1_hello_node,
    story_2_classifier,
)

pytestmark = pytest.mark.compose

WORKERS = ["worker-1", "worker-2", "worker-3"]
APP = HELLO_NODE
LEADER_HANDOVER_DEADLINE_SECONDS = 15


def ready_pods(cluster, app: str) -> list[dict]:
    """The pods of `app` that are Running and Ready and not being deleted."""
    pods = cluster.get("pods", "-l", f"app={app}")["items"]
    return [pod for pod in pods
            if not pod["metadata"].get("deletionTimestamp")
            and pod.get("status", {}).get("phase") == "Running"
            and any(condition["type"] == "Ready" and condition["status"] == "True"
                    for condition in pod["status"].get("conditions") or [])]


def wait_for_ready_pods(cluster, app: str, count: int, *, timeout: float, avoid_node: str | None = None) -> list[dict]:
    def enough():
        pods = [pod for pod in ready_pods(cluster, app) if pod["spec"].get("nodeName") != avoid_node]
        return pods if len(pods) == count else None

    return wait_until(enough, timeout=timeout, interval=2, what=f"{count} ready pods of {app}")


def ingress_of_size(cluster, service: str, size: int) -> list[str] | None:
    addresses = load_balancer_addresses(cluster.kubectl, service)
    return addresses if len(addresses) == size else None


def lease_holder(cluster, name: str) -> str | None:
    try:
        return cluster.get("lease", name, "-n", "kube-system")["spec"].get("holderIdentity")
    except RuntimeError:
        return None


def test_three_nodes_are_ready_each_with_its_pod_cidr(cluster):
    wide = cluster.kubectl("get", "nodes", "-o", "wide").stdout
    nodes = {node["metadata"]["name"]: node for node in cluster.get("nodes")["items"]}

    assert sorted(nodes) == WORKERS
    for index, name in enumerate(WORKERS, start=1):
        assert nodes[name]["spec"]["podCIDR"] == f"10.244.{index}.0/24"
        assert node_internal_ip(nodes[name]) in wide
    assert cluster.ready_nodes() == WORKERS


def test_story_1_hello_node_over_three_nodes(story_cluster, cluster):
    story_1_hello_node(story_cluster)

    nodes = {node["metadata"]["name"]: node for node in cluster.get("nodes")["items"]}
    for pod in ready_pods(cluster, APP):  # each node gives its pods addresses from its own podCIDR
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(
            nodes[pod["spec"]["nodeName"]]["spec"]["podCIDR"])


def test_story_2_classifier_over_three_nodes(story_cluster, tmp_path):
    story_2_classifier(story_cluster, tmp_path)


# A busybox web server whose one CGI script answers with the address the request came from.
PEER_SERVER = ("mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n'"
               " >/www/cgi-bin/peer && chmod +x /www/cgi-bin/peer && exec httpd -f -p 8080 -h /www")


def new_pod(name: str, *, node: str, image: str, command: list[str] | None = None) -> dict:
    container = {"name": name, "image": image, "ports": [{"containerPort": ECHO_PORT}]}
    if command:
        container["command"] = command
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"nodeName": node, "containers": [container]}}


def new_service(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": ECHO_PORT}]}}


@pytest.fixture(scope="module")
def client_and_target(cluster):
    """Pods pinned to nodes: `client` (busybox) on worker-1; `target` (echo, Service `target`) and `peer`
    (says who called) on worker-3."""
    objects = [
        new_pod("client", node="worker-1", image="busybox", command=["sleep", "3600"]),
        new_pod("target", node="worker-3", image="echo:v1"),
        new_service("target"),
        new_pod("peer", node="worker-3", image="busybox", command=["sh", "-c", PEER_SERVER]),
    ]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))
    for name in ("client", "peer"):
        wait_for_ready_pods(cluster, name, 1, timeout=90)
    return wait_for_ready_pods(cluster, "target", 1, timeout=90)[0]


def fetch_from_client(cluster, url: str) -> str:
    # busybox's wget crashes on -T here; `timeout` bounds it instead.
    result = cluster.pod_exec("client", "timeout", "10", "wget", "-q", "-O-", url)
    assert result.returncode == 0, f"wget {url} from the client pod: {result.returncode} {result.stderr}"
    return result.stdout


def test_a_pod_reaches_a_pod_on_another_node_by_ip_and_cluster_ip(cluster, client_and_target):
    target_ip = client_and_target["status"]["podIP"]
    cluster_ip = cluster.get("service", "target")["spec"]["clusterIP"]

    by_pod_ip = json.loads(fetch_from_client(cluster, f"http://{target_ip}:{ECHO_PORT}/"))
    by_cluster_ip = json.loads(fetch_from_client(cluster, f"http://{cluster_ip}:{ECHO_PORT}/"))

    assert target_ip.startswith("10.244.3.")
    assert by_pod_ip["host"] == by_cluster_ip["host"] == "target"


def test_a_pod_on_another_node_sees_the_client_pod_address_not_its_node(cluster, client_and_target):
    client_ip = cluster.get("pod", "client")["status"]["podIP"]
    peer_ip = cluster.get("pod", "peer")["status"]["podIP"]

    answer = fetch_from_client(cluster, f"http://{peer_ip}:{ECHO_PORT}/cgi-bin/peer")

    # httpd listens on IPv6 too and may report an IPv4 peer mapped: [::ffff:10.244.1.2].
    seen_address = ipaddress.ip_address(answer.strip().strip("[]"))
    assert (getattr(seen_address, "ipv4_mapped", None) or seen_address) == ipaddress.ip_address(client_ip)


def test_a_pod_reaches_a_service_on_another_node_by_name(cluster, client_and_target):
    # Docker puts its embedded resolver in a pod's resolv.conf and forwards to the cluster DNS.
    short_name = json.loads(fetch_from_client(cluster, f"http://target:{ECHO_PORT}/"))
    full_name = json.loads(fetch_from_client(cluster, f"http://target.default.svc.cluster.local:{ECHO_PORT}/"))

    assert short_name["host"] == full_name["host"] == "target"


def test_story_6_ingress_on_every_worker(cluster, tmp_path):
    """Every worker runs an ingress controller on its ports 80/443, routing to pods on any node."""
    addresses = sorted(filter(None, (node_internal_ip(node) for node in cluster.get("nodes")["items"])))
    assert len(addresses) == len(WORKERS)
    story_6_ingress(cluster.kubectl, tmp_path, [IngressEntry(address) for address in addresses],
                    published_ip="127.0.0.1")


def test_a_stopped_node_has_its_pods_replaced_and_rejoins_clean(cluster):
    evicted = [pod["metadata"]["name"] for pod in ready_pods(cluster, APP) if pod["spec"]["nodeName"] == "worker-2"]
    cluster.stop("worker-2")
    lifecycle_seconds = sum(int(cluster.settings[name])
                            for name in ("ORC_NODE_MONITOR_GRACE_PERIOD", "ORC_POD_EVICTION_TIMEOUT"))
    pods = wait_for_ready_pods(cluster, APP, HELLO_NODE_REPLICAS, timeout=lifecycle_seconds + 90,
                               avoid_node="worker-2")
    addresses = wait_until(lambda: ingress_of_size(cluster, APP, 2), timeout=60, what="ingress on the nodes left")
    balancer = RoundRobin(addresses, port=ECHO_PORT)
    hosts_while_down = [balancer.get().get("host") for _ in range(6)]

    cluster.start("worker-2")
    wait_until(lambda: "worker-2" in cluster.ready_nodes(), timeout=120, interval=2, what="worker-2 Ready again")

    def stale_containers():
        listing = cluster.node_exec("worker-2", "docker", "ps", "-a", "--format",
                                    f'{{{{.Label "{LABEL_POD_NAME}"}}}} {{{{.Label "{LABEL_ROLE}"}}}}').stdout
        return [line for line in listing.splitlines() if line.split(" ")[0] in evicted]

    wait_until(lambda: not stale_containers(), timeout=120, interval=2, what="worker-2's stale containers removed")

    assert evicted, f"the scheduler put none of the {HELLO_NODE_REPLICAS} pods on worker-2"
    assert balancer.failures == 0
    assert {pod["spec"]["nodeName"] for pod in pods} == {"worker-1", "worker-3"}
    assert set(hosts_while_down) <= {pod["metadata"]["name"] for pod in pods}


def test_control_plane_survives_losing_an_etcd_member_the_leader_and_an_apiserver(cluster):
    leader = lease_holder(cluster, "kube-controller-manager")
    assert leader in ("controller-manager-1", "controller-manager-2")
    stopped = ["etcd-1", leader, "apiserver-1"]
    cluster.stop(*stopped)
    try:
        stopped_at = time.monotonic()
        new_leader = wait_until(lambda: (lease_holder(cluster, "kube-controller-manager") or leader) != leader
                                and lease_holder(cluster, "kube-controller-manager"),
                                timeout=LEADER_HANDOVER_DEADLINE_SECONDS, interval=0.5, what="a new leader")
        handover_seconds = time.monotonic() - stopped_at
        cluster.kubectl("create", "configmap", "written-during-failover", "--from-literal=etcd=2-of-3")
        cluster.kubectl("scale", "deployment", APP, "--replicas=8")
        wait_for_ready_pods(cluster, APP, 8, timeout=120)
        stored = cluster.get("configmap", "written-during-failover")
    finally:
        cluster.start(*stopped)

    assert new_leader != leader, f"hand-over took {handover_seconds:.1f}s"
    assert stored["data"] == {"etcd": "2-of-3"}


def test_down_leaves_no_container_network_or_volume(cluster):
    cluster.down()

    assert cluster.leftovers() == {"containers": [], "networks": [], "volumes": []}
