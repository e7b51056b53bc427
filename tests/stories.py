"""User stories 1 and 2 of ../shared/scenarios/README.md, written once and run against any cluster.

tests/e2e/test_stories.py runs them on the one-machine `orc up` cluster and
tests/compose/test_cluster.py on the three-node docker-compose cluster. What differs
between the two is handed in as a `StoryCluster`: how to run kubectl, where the host
reaches a NodePort (127.0.0.1 on `orc up`; every node's InternalIP on compose, whose
workers are containers on a bridge the host routes to), and how to list the pods'
containers in the node engine(s). A LoadBalancer Service is reached on the addresses
its `status.loadBalancer.ingress` shows, as a user would read them from `kubectl get svc`.

Every step is a real kubectl command; test traffic goes only to loopback and to the
containers of the cluster under test. Every wait is bounded.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.kubelet.runtime import LABEL_POD_NAME, LABEL_POD_NAMESPACE
from tests.e2e.helpers import http_get, is_running, running_pods, wait_for

REPO = Path(__file__).resolve().parents[1]
CLASSIFIER_MANIFEST = REPO / "manifests" / "classifier.yaml"

HELLO_NODE = "hello-node"
HELLO_NODE_REPLICAS = 5
ECHO_PORT = 8080
CLASSIFIER_NODE_PORT = 32767
# A rolling update or a pod replacement may lose the one request that raced a proxy's rule change.
TOLERATED_FAILED_REQUESTS = 1


@dataclass(frozen=True)
class StoryCluster:
    """What a story needs to know about the cluster it runs on."""

    # kubectl(*args, check=True) -> CompletedProcess; raises when the command fails and check is true.
    kubectl: Callable[..., subprocess.CompletedProcess]
    # Addresses on which the host reaches a NodePort of this cluster.
    node_port_addresses: Callable[[], list[str]]
    # Every container of this cluster in every node's engine, running or not, as "namespace/pod" -> ids.
    pod_containers: Callable[[], dict[str, list[str]]]


# `docker ps -a --format POD_CONTAINER_FORMAT` in a node's engine, read by `containers_by_pod`.
POD_CONTAINER_FORMAT = f'{{{{.ID}}}} {{{{.Label "{LABEL_POD_NAMESPACE}"}}}}/{{{{.Label "{LABEL_POD_NAME}"}}}}'


def containers_by_pod(*listings: str) -> dict[str, list[str]]:
    """"namespace/pod" -> container ids, from the POD_CONTAINER_FORMAT listings of one or more engines."""
    containers: dict[str, list[str]] = {}
    for listing in listings:
        for container_id, pod in (line.split(" ", 1) for line in listing.splitlines() if line.strip()):
            containers.setdefault(pod, []).append(container_id)
    return containers


def ready_node_names(kubectl) -> set[str]:
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return {node["metadata"]["name"] for node in nodes
            if any(condition["type"] == "Ready" and condition["status"] == "True"
                   for condition in node["status"].get("conditions") or [])}


def load_balancer_addresses(kubectl, service: str) -> list[str]:
    ingress = json.loads(kubectl("get", "svc", service, "-o", "json").stdout)["status"].get(
        "loadBalancer", {}).get("ingress") or []
    return [entry["ip"] for entry in ingress if entry.get("ip")]


def json_answer(url: str) -> dict:
    """The JSON body at `url`, or {} when nothing (or no JSON) answers."""
    try:
        return json.loads(http_get(url) or "{}")
    except ValueError:
        return {}


class RoundRobin:
    """GETs spread in turn over the addresses of a Service; counts the requests that failed."""

    def __init__(self, addresses: list[str], *, port: int):
        self.urls = [f"http://{address}:{port}/" for address in addresses]
        self.sent = 0
        self.failures = 0

    def get(self) -> dict:
        answer = json_answer(self.urls[self.sent % len(self.urls)])
        self.sent += 1
        if not answer:
            self.failures += 1
        return answer


def rollout_complete(kubectl, name: str, replicas: int) -> bool:
    deployment = json.loads(kubectl("get", "deploy", name, "-o", "json").stdout)
    status = deployment["status"]
    return (status.get("observedGeneration") == deployment["metadata"]["generation"]
            and status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == replicas)


def story_1_hello_node(cluster: StoryCluster) -> list[str]:
    """Create, scale over the nodes, expose as a LoadBalancer, update to v2, lose a pod.

    Leaves the Deployment and its Service in place (the compose suite goes on with them);
    returns the LoadBalancer's addresses.
    """
    kubectl = cluster.kubectl
    assert "created" in kubectl("create", "deployment", HELLO_NODE, "--image=echo:v1", f"--port={ECHO_PORT}").stdout
    wait_for(lambda: len(running_pods(kubectl, f"app={HELLO_NODE}")) == 1, message="1 pod Running")

    kubectl("scale", "deployment", HELLO_NODE, f"--replicas={HELLO_NODE_REPLICAS}")

    def all_running() -> list[dict] | None:
        pods = running_pods(kubectl, f"app={HELLO_NODE}")
        return pods if len(pods) == HELLO_NODE_REPLICAS else None

    pods = wait_for(all_running, message=f"{HELLO_NODE_REPLICAS} pods Running")
    nodes = ready_node_names(kubectl)
    used_nodes = {pod["spec"]["nodeName"] for pod in pods}
    assert len(used_nodes) == min(len(nodes), HELLO_NODE_REPLICAS), f"pods on {used_nodes} of {nodes}"

    kubectl("expose", "deployment", HELLO_NODE, "--type=LoadBalancer", f"--port={ECHO_PORT}")
    addresses = wait_for(lambda: load_balancer_addresses(kubectl, HELLO_NODE), message="an external address")
    assert "<pending>" not in kubectl("get", "svc", HELLO_NODE).stdout
    for address in addresses:  # each proxy programs its rules a moment after the address is published
        wait_for(lambda address=address: json_answer(f"http://{address}:{ECHO_PORT}/"),
                 message=f"{address}:{ECHO_PORT} answers")
    balancer = RoundRobin(addresses, port=ECHO_PORT)
    hosts = {balancer.get().get("host") for _ in range(10)}
    assert balancer.failures == 0 and len(hosts) >= 3, hosts

    balancer = RoundRobin(addresses, port=ECHO_PORT)
    kubectl("set", "image", f"deployment/{HELLO_NODE}", "echo=echo:v2")

    def updated_while_serving() -> bool:
        balancer.get()
        return rollout_complete(kubectl, HELLO_NODE, HELLO_NODE_REPLICAS)

    wait_for(updated_while_serving, timeout=180, interval=0.2, message="the rolling update to v2")
    assert balancer.sent and balancer.failures <= TOLERATED_FAILED_REQUESTS, \
        f"{balancer.failures} of {balancer.sent} requests failed during the rolling update"
    balancer = RoundRobin(addresses, port=ECHO_PORT)
    assert {balancer.get().get("version") for _ in range(10)} == {"v2"}

    victim = running_pods(kubectl, f"app={HELLO_NODE}")[0]["metadata"]["name"]
    balancer = RoundRobin(addresses, port=ECHO_PORT)
    kubectl("delete", "pod", victim, "--wait=false")

    def replaced_and_gone() -> bool:
        """Keeps the requests going until the replacement is Running and the deleted pod has left for good."""
        balancer.get()
        names = {pod["metadata"]["name"] for pod in running_pods(kubectl, f"app={HELLO_NODE}")}
        return len(names) == HELLO_NODE_REPLICAS and victim not in names \
            and "NotFound" in kubectl("get", "pod", victim, check=False).stderr

    wait_for(replaced_and_gone, interval=0.2, message=f"a replacement for {victim}, and {victim} gone")
    assert balancer.failures <= TOLERATED_FAILED_REQUESTS, \
        f"{balancer.failures} of {balancer.sent} requests failed while a pod was replaced"
    return addresses


def story_2_classifier(cluster: StoryCluster, work_dir: Path) -> None:
    """Two tiers behind NodePort 32767, scaled by `apply`, a failed rollout rolled back, then deleted."""
    kubectl = cluster.kubectl
    seen_pods: set[str] = set()  # every pod of the story, to check at the end that none left a container

    def story_pods(selector: str) -> list[dict]:
        pods = json.loads(kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]
        seen_pods.update(f"default/{pod['metadata']['name']}" for pod in pods)
        return pods

    def running(selector: str) -> int:
        return len([pod for pod in story_pods(selector) if is_running(pod)])

    def pull_errors() -> set[str]:
        return {status.get("state", {}).get("waiting", {}).get("reason") for pod in story_pods("app=nginx")
                for status in pod["status"].get("containerStatuses") or []} & {"ErrImagePull", "ImagePullBackOff"}

    def front_page(address: str) -> str | None:
        page = http_get(f"http://{address}:{CLASSIFIER_NODE_PORT}/")
        return page if page and '"class": "cat"' in page else None

    def every_node_serves_the_page() -> None:
        # On several nodes, those without a front-end pod forward to it: a NodePort answers on every node.
        addresses = cluster.node_port_addresses()
        assert addresses, "no address to reach a NodePort on"
        for address in addresses:
            page = wait_for(lambda address=address: front_page(address),
                            message=f"the front end on {address}:{CLASSIFIER_NODE_PORT} reaching the API by name")
            assert page.startswith("front end on custom-nginx-"), page

    kubectl("create", "-f", str(CLASSIFIER_MANIFEST))
    wait_for(lambda: running("app=nginx") == 1 and running("app=api") == 1, message="both tiers Running")
    every_node_serves_the_page()

    scaled = work_dir / "classifier-scaled.yaml"
    scaled.write_text(CLASSIFIER_MANIFEST.read_text().replace(
        "name: wsgi-app-container\n  labels: {app: api}\nspec:\n  replicas: 1",
        "name: wsgi-app-container\n  labels: {app: api}\nspec:\n  replicas: 3"))
    assert "deployment.apps/wsgi-app-container configured" in kubectl("apply", "-f", str(scaled)).stdout
    wait_for(lambda: running("app=api") == 3, message="3 API pods")

    broken = work_dir / "classifier-broken.yaml"
    broken.write_text(scaled.read_text().replace("image: busybox:1.36\n        ports: [{containerPort: 80}]",
                                                 "image: busybox:no-such-tag\n        ports: [{containerPort: 80}]"))
    assert "deployment.apps/custom-nginx configured" in kubectl("apply", "-f", str(broken)).stdout
    wait_for(pull_errors, message="ErrImagePull/ImagePullBackOff on the new front-end pod")
    assert running("app=nginx") == 1, "the old front-end pod keeps running"
    every_node_serves_the_page()

    history = kubectl("rollout", "history", "deployment", "custom-nginx").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"], history
    kubectl("rollout", "undo", "deployment", "custom-nginx", "--to-revision=1")
    wait_for(lambda: rollout_complete(kubectl, "custom-nginx", 1) and not pull_errors()
             and running("app=nginx") == 1, message="healthy again")
    every_node_serves_the_page()

    assert seen_pods & set(cluster.pod_containers()), "the engines' listing shows the story's containers"
    kubectl("delete", "-f", str(broken))
    wait_for(lambda: not story_pods("app in (nginx, api)"), message="all the story's pods gone")
    wait_for(lambda: not seen_pods & set(cluster.pod_containers()), message="no container of the story's pods left")
    leftovers = kubectl("get", "-f", str(CLASSIFIER_MANIFEST), check=False)
    assert leftovers.returncode != 0 and leftovers.stderr.count("NotFound") == 4, leftovers.stderr
