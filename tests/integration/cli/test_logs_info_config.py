"""`orc logs` (error paths: no kubelet here), `api-resources`, `explain`, `version`, `cluster-info`,
`config ...`, and the verbs not supported yet."""

from __future__ import annotations

import json
import shutil

import pytest


def test_logs_errors_read_like_kubectl(both, kubectl, namespace):
    kubectl("create", "deployment", "pingpong", "--image=busybox", "-n", namespace, "--", "ping", "127.0.0.1")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pingpong-1", "labels": {"app": "pingpong"}},
           "spec": {"containers": [{"name": "busybox", "image": "busybox"}, {"name": "side", "image": "busybox"}]}}
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(pod))
    for args in (["logs", "missing"], ["logs", "pingpong-1", "-c", "nope"], ["logs", "pingpong-1"],
                 ["logs", "deploy/pingpong", "--tail", "20"], ["logs", "-l", "app=pingpong"],
                 ["logs", "-l", "app=nothing"]):
        ours, theirs = both(*args, "-n", namespace)
        assert ours.returncode == theirs.returncode, args
        assert ours.stdout == theirs.stdout, args
        assert ours.stderr == theirs.stderr, args


@pytest.mark.parametrize("args", [
    pytest.param(["api-resources"], id="api-resources"),
    pytest.param(["api-resources", "-o", "wide"], id="api-resources-wide"),
    pytest.param(["api-resources", "-o", "name", "--namespaced=false"], id="api-resources-cluster"),
    pytest.param(["api-resources", "--api-group=apps"], id="api-resources-group"),
    pytest.param(["explain", "pods"], id="explain-kind"),
    pytest.param(["explain", "deployment.spec.replicas"], id="explain-field"),
    pytest.param(["explain", "deploy.spec.template.spec.containers.ports"], id="explain-nested"),
    pytest.param(["explain", "svc.spec", "--recursive"], id="explain-recursive"),
    pytest.param(["explain", "pods.spec.nothing"], id="explain-missing-field"),
])
def test_discovery_and_docs_match_kubectl(same_output, args):
    same_output(*args)


def test_version_and_cluster_info(orc, apiserver):
    version = orc("version", check=True).stdout.splitlines()
    assert version[0].startswith("Client Version: v")
    assert version[1] == "Server Version: v1.32.0-orc"
    document = json.loads(orc("version", "-o", "json", check=True).stdout)
    assert document["serverVersion"]["gitVersion"] == "v1.32.0-orc"
    info = orc("cluster-info", check=True).stdout
    assert info.startswith(f"Kubernetes control plane is running at {apiserver.url}\n")


@pytest.fixture
def kubeconfig_copy(apiserver, tmp_path) -> str:
    path = tmp_path / "config"
    shutil.copy(apiserver.kubeconfig, path)
    return str(path)


def test_config_reads_like_kubectl(same_output, kubeconfig_copy):
    for args in (["config", "view"], ["config", "view", "--raw"], ["config", "view", "-o", "json"],
                 ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"],
                 ["config", "get-contexts"], ["config", "current-context"]):
        same_output(*args, "--kubeconfig", kubeconfig_copy)


def test_config_changes_what_kubectl_then_reads(orc, kubectl_env, kubeconfig_copy):
    assert orc("config", "set-context", "--current", "--namespace=team", "--kubeconfig",
               kubeconfig_copy).stdout == 'Context "orc" modified.\n'
    assert orc("config", "set-context", "other", "--cluster=orc", "--user=admin", "--kubeconfig",
               kubeconfig_copy).stdout == 'Context "other" created.\n'
    assert orc("config", "use-context", "other", "--kubeconfig", kubeconfig_copy).stdout == \
        'Switched to context "other".\n'
    assert kubectl_env("config", "current-context", "--kubeconfig", kubeconfig_copy).stdout == "other\n"
    contexts = kubectl_env("config", "get-contexts", "--kubeconfig", kubeconfig_copy).stdout.splitlines()
    assert contexts[1].split() == ["orc", "orc", "admin", "team"]
    missing = orc("config", "use-context", "nope", "--kubeconfig", kubeconfig_copy)
    assert missing.returncode == 1 and missing.stderr == 'error: no context exists with the name: "nope"\n'

