"""Kind resolution over discovery (cli/client/resources.py)."""

from __future__ import annotations

import pytest

from cli.client.errors import CliError
from cli.client.resources import ApiResource, Discovery

RESOURCES = [
    ApiResource("", "v1", "pods", "pod", "Pod", True, short_names=("po",), categories=("all",)),
    ApiResource("", "v1", "services", "service", "Service", True, short_names=("svc",), categories=("all",)),
    ApiResource("", "v1", "nodes", "node", "Node", False, short_names=("no",)),
    ApiResource("apps", "v1", "deployments", "deployment", "Deployment", True, short_names=("deploy",),
                categories=("all",), subresources=("status", "scale")),
    ApiResource("events.k8s.io", "v1", "events", "event", "Event", True),
    ApiResource("", "v1", "events", "event", "Event", True, short_names=("ev",)),
]


class StaticDiscovery(Discovery):
    """Discovery with a fixed answer: no server, no cache."""

    def __init__(self, resources: list[ApiResource]):
        self._resources = resources
        self._fresh = True
        self.use_cache = False


@pytest.fixture
def discovery() -> Discovery:
    return StaticDiscovery(RESOURCES)


@pytest.mark.parametrize("text, plural, group", [
    pytest.param("pods", "pods", "", id="plural"),
    pytest.param("pod", "pods", "", id="singular"),
    pytest.param("po", "pods", "", id="short"),
    pytest.param("Pod", "pods", "", id="kind"),
    pytest.param("deploy", "deployments", "apps", id="deploy"),
    pytest.param("deployments.apps", "deployments", "apps", id="group"),
    pytest.param("deployments.v1.apps", "deployments", "apps", id="version-group"),
    pytest.param("events", "events", "events.k8s.io", id="first-in-discovery-order"),
    pytest.param("events.events.k8s.io", "events", "events.k8s.io", id="dotted-group"),
])
def test_resolve(discovery, text, plural, group):
    resource = discovery.resolve(text)
    assert (resource.name, resource.group) == (plural, group)


@pytest.mark.parametrize("text, message", [
    pytest.param("deploymnt", 'the server doesn\'t have a resource type "deploymnt"; did you mean "deployments"?',
                 id="typo"),
    pytest.param("widgets", 'the server doesn\'t have a resource type "widgets"', id="unknown"),
])
def test_unknown_names(discovery, text, message):
    with pytest.raises(CliError) as raised:
        discovery.resolve(text)
    assert raised.value.message == message


def test_kinds_categories_and_names(discovery):
    assert discovery.for_kind("apps/v1", "Deployment").name == "deployments"
    with pytest.raises(CliError, match='no matches for kind "Deploymnt" in version "apps/v1"'):
        discovery.for_kind("apps/v1", "Deploymnt")
    assert [resource.name for resource in discovery.in_category("all")] == ["pods", "services", "deployments"]
    deployments = discovery.resolve("deploy")
    assert (deployments.group_kind, deployments.qualified_name, deployments.object_ref("web")) == \
        ("deployment.apps", "deployments.apps", "deployment.apps/web")
    assert deployments.path("ns", "web", "scale") == "/apis/apps/v1/namespaces/ns/deployments/web/scale"
    assert discovery.resolve("nodes").path("ignored", "n1") == "/api/v1/nodes/n1"
