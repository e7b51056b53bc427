"""Unit tests of the apiserver's checks of `pods/exec` (orchestrator/apiserver/kubeletproxy.py), without a kubelet."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from orchestrator.api import errors
from orchestrator.apiserver.kubeletproxy import KubeletProxy, default_container


class FixedKubelet(KubeletProxy):
    """The kubelet of every node is at one address: no Node objects needed."""

    async def kubelet_url(self, request, node_name: str) -> str:
        return f"http://{node_name}:10250"


class QueryOnly:
    def __init__(self, query: str) -> None:
        self.query_params = QueryParams(query)


def new_pod(*, containers=("main",), running=("main",), phase="Running", node="node-1", annotations=None) -> dict:
    return {
        "metadata": {"name": "web", "namespace": "default", "annotations": annotations or {}},
        "spec": {"nodeName": node, "containers": [{"name": name} for name in containers]},
        "status": {"phase": phase, "containerStatuses": [
            {"name": name, "state": {"running": {}} if name in running else {"waiting": {"reason": "ContainerCreating"}}}
            for name in containers]},
    }


async def test_a_valid_exec_goes_to_the_containers_kubelet() -> None:
    url, options = await FixedKubelet().exec_url(QueryOnly("command=ls&command=-l&stdin=true"), new_pod())
    assert url == "http://node-1:10250/exec/default/web/main"
    assert (options.command, options.container, options.stdin) == (("ls", "-l"), "main", True)


@pytest.mark.parametrize(("query", "pod", "message"), [
    pytest.param("command=ls&container=nope", new_pod(), "container nope is not valid for pod web", id="wrong-container"),
    pytest.param("command=ls", new_pod(containers=("a", "b"), running=("a", "b")),
                 "a container name must be specified for pod web, choose one of: [a b]", id="several-containers"),
    pytest.param("command=ls", new_pod(phase="Succeeded"),
                 "cannot exec into a container in a completed pod; current phase is Succeeded", id="completed"),
    pytest.param("command=ls", new_pod(node=None), "pod web does not have a host assigned", id="unscheduled"),
    pytest.param("command=ls", new_pod(running=()), 'container not found ("main")', id="not-running"),
    pytest.param("", new_pod(), "you must specify at least one command for the container", id="no-command"),
])
async def test_exec_refusals_read_like_kubernetes(query: str, pod: dict, message: str) -> None:
    with pytest.raises(errors.BadRequest) as refused:
        await FixedKubelet().exec_url(QueryOnly(query), pod)
    assert refused.value.message == message


@pytest.mark.parametrize(("pod", "expected"), [
    pytest.param(new_pod(), "main", id="the-only-one"),
    pytest.param(new_pod(containers=("a", "b"), annotations={"kubectl.kubernetes.io/default-container": "b"}), "b",
                 id="the-annotated-one"),
])
def test_default_container(pod: dict, expected: str) -> None:
    assert default_container(pod) == expected
