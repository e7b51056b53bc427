"""`orc get` against real kubectl on one cluster: the same columns, rows and messages (issue 6, acceptance 1)."""

from __future__ import annotations

import json
import textwrap
import uuid

import pytest

from tests.support import mask_ages

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}, tier: {tier}}}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    ports: [{{containerPort: 8080}}]
"""


@pytest.fixture(scope="module")
def world(apiserver):
    """One namespace with pods, a deployment, services and config maps, made with kubectl."""
    import subprocess

    name = f"get-{uuid.uuid4().hex[:6]}"

    def kubectl(*args: str, input: str | None = None) -> str:
        return subprocess.run(["kubectl", "--kubeconfig", str(apiserver.kubeconfig), *args], input=input,
                              capture_output=True, text=True, check=True).stdout

    kubectl("create", "namespace", name)
    documents = [POD.format(name=f"web-{index}", app="web", tier="front" if index % 2 else "back")
                 for index in range(3)]
    documents.append(POD.format(name="db-0", app="db", tier="back"))
    kubectl("apply", "-n", name, "-f", "-", input="---\n".join(documents))
    kubectl("create", "deployment", "web", "--image=echo:v1", "--port=8080", "--replicas=2", "-n", name)
    kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080", "-n", name)
    kubectl("create", "service", "nodeport", "db", "--tcp=5432:5432", "-n", name)
    kubectl("create", "configmap", "settings", "--from-literal=a=1", "--from-literal=b=2", "-n", name)
    return name


@pytest.mark.parametrize("args", [
    pytest.param(["pods"], id="pods"),
    pytest.param(["po", "-o", "wide"], id="wide"),
    pytest.param(["pods", "--show-labels"], id="show-labels"),
    pytest.param(["pods", "-L", "app,tier"], id="label-columns"),
    pytest.param(["pods", "--no-headers"], id="no-headers"),
    pytest.param(["pods", "-l", "app=web"], id="label-selector"),
    pytest.param(["pods", "-l", "tier in (front)", "-o", "name"], id="set-selector"),
    pytest.param(["pods", "--field-selector", "metadata.name=db-0"], id="field-selector"),
    pytest.param(["pod", "web-1"], id="one-by-name"),
    pytest.param(["pods", "web-0", "web-2"], id="two-by-name"),
    pytest.param(["pod/web-0", "svc/web"], id="type-slash-name"),
    pytest.param(["deploy,svc"], id="two-kinds"),
    pytest.param(["all"], id="all"),
    pytest.param(["deployments.apps"], id="group-qualified"),
    pytest.param(["Deployment"], id="kind-name"),
    pytest.param(["cm", "-o", "name"], id="name"),
    pytest.param(["svc", "-o", "yaml"], id="yaml"),
    pytest.param(["pod", "web-0", "-o", "yaml"], id="yaml-one"),
    pytest.param(["pods", "-o", "jsonpath={.items[*].metadata.name}"], id="jsonpath"),
    pytest.param(["pods", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.spec.containers[0].image}"
                  "{\"\\n\"}{end}"], id="jsonpath-range"),
    pytest.param(["pods", "-o", "jsonpath={.items[?(@.metadata.labels.app==\"db\")].metadata.name}"],
                 id="jsonpath-filter"),
    pytest.param(["pods", "-o", "custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,NODE:.spec.nodeName"],
                 id="custom-columns"),
    pytest.param(["pods", "--sort-by=.metadata.name", "-o", "name"], id="sort-by"),
    pytest.param(["pod", "missing"], id="not-found"),
    pytest.param(["pods", "web-0", "missing"], id="found-and-not-found"),
    pytest.param(["pods", "-l", "app=nothing"], id="no-resources"),
])
def test_get_prints_what_kubectl_prints(same_output, world, args):
    same_output("get", *args, "-n", world)


@pytest.mark.parametrize("args", [
    pytest.param(["pods", "-A"], id="pods-all-namespaces"),
    pytest.param(["all", "-A"], id="all-all-namespaces"),
    pytest.param(["namespaces"], id="cluster-scoped"),
    pytest.param(["nodes"], id="no-nodes"),
])
def test_get_across_namespaces(same_output, world, args):
    same_output("get", *args)


def test_get_json_is_the_same_document(both, world):
    ours, theirs = both("get", "pods", "-n", world, "-o", "json")
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)
    ours, theirs = both("get", "deploy", "web", "-n", world, "-o", "json")
    assert ours.stdout == theirs.stdout


def test_get_from_a_file(same_output, world, tmp_path):
    manifest = tmp_path / "pods.yaml"
    manifest.write_text(textwrap.dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata: {{name: web-0, namespace: {world}}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {{name: db, namespace: {world}}}
        """))
    same_output("get", "-f", str(manifest), stdout_only=True)


def test_the_typer_path_and_the_fast_path_agree(orc, cli_env, world):
    import subprocess
    import sys

    for args in (["pods", "-o", "wide"], ["all", "-A"], ["pods", "--show-labels", "-l", "app=web"]):
        fast = subprocess.run([sys.executable, "-m", "cli.client.fastpath", "get", *args, "-n", world],
                              capture_output=True, text=True, env=cli_env)
        assert fast.returncode == 0, fast.stderr
        typer_path = orc("get", *args, "-n", world)
        assert mask_ages(fast.stdout) == mask_ages(typer_path.stdout)


def test_global_flags_may_come_before_the_verb_as_with_kubectl(same_output, orc, cli_env, world):
    import subprocess
    import sys

    same_output("-n", world, "get", "pods", "-o", "wide")
    same_output("--namespace", world, "describe", "deployment", "web")
    fast = subprocess.run([sys.executable, "-m", "cli.client.fastpath", "-n", world, "get", "pods"],
                          capture_output=True, text=True, env=cli_env)
    assert fast.returncode == 0, fast.stderr
    assert mask_ages(fast.stdout) == mask_ages(orc("get", "pods", "-n", world).stdout)


def test_get_watch_prints_a_row_per_change(orc, cli_env, kubectl, world):
    import subprocess
    import sys
    import time

    watcher = subprocess.Popen([sys.executable, "-m", "cli.main", "get", "configmaps", "-n", world, "-w"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env)
    try:
        time.sleep(2)
        kubectl("create", "configmap", "late", "-n", world, "--from-literal=x=y")
        time.sleep(2)
    finally:
        watcher.terminate()
        output, _ = watcher.communicate(timeout=10)
    lines = output.splitlines()
    assert lines[0].split() == ["NAME", "DATA", "AGE"]
    assert any(line.startswith("settings ") for line in lines)
    assert any(line.startswith("late ") for line in lines)


def test_unknown_type_suggests_the_right_one(orc):
    result = orc("get", "deploymnt")
    assert result.returncode == 1
    assert result.stderr == 'error: the server doesn\'t have a resource type "deploymnt"; did you mean "deployments"?\n'
