"""kubectl's JSONPath dialect (cli/client/jsonpath.py)."""

from __future__ import annotations

import pytest

from cli.client.errors import CliError
from cli.client.jsonpath import JSONPath, relaxed


def pod(name: str, *, app: str, ip: str | None = None, images: tuple[str, ...] = ("busybox",)) -> dict:
    status = {"podIP": ip} if ip else {}
    return {"metadata": {"name": name, "labels": {"app": app, "kubernetes.io/name": name}},
            "spec": {"containers": [{"name": f"c{index}", "image": image} for index, image in enumerate(images)]},
            "status": status}


PODS = {"kind": "List", "items": [pod("a", app="web", ip="10.0.0.1", images=("echo:v1", "busybox")),
                                  pod("b", app="db", ip="10.0.0.2"), pod("c", app="web")]}


@pytest.mark.parametrize("template, expected", [
    pytest.param("{.items[0].metadata.name}", "a", id="field"),
    pytest.param("{.items[*].metadata.name}", "a b c", id="wildcard"),
    pytest.param("{.items[-1].metadata.name}", "c", id="negative-index"),
    pytest.param("{.items[0:2].metadata.name}", "a b", id="slice"),
    pytest.param("{.items[0,2].metadata.name}", "a c", id="union"),
    pytest.param("{..image}", "echo:v1 busybox busybox busybox", id="recursive"),
    pytest.param("{.items[?(@.metadata.labels.app==\"web\")].metadata.name}", "a c", id="filter"),
    pytest.param("{.items[?(@.status.podIP)].metadata.name}", "a b", id="filter-exists"),
    pytest.param("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.podIP}{\"\\n\"}{end}",
                 "a\t10.0.0.1\nb\t10.0.0.2\nc\t\n", id="range"),
    pytest.param("{.items[0].metadata.labels.kubernetes\\.io/name}", "a", id="escaped-dot"),
    pytest.param("{.items[0].metadata.labels['kubernetes.io/name']}", "a", id="quoted-key"),
    pytest.param("{.items[0].metadata.labels}", '{"app":"web","kubernetes.io/name":"a"}', id="map-as-json"),
    pytest.param("{.items[5].metadata.name}", "", id="missing-index"),
    pytest.param("{.nothing.here}", "", id="missing-key"),
    pytest.param("names: {.items[*].metadata.name}!", "names: a b c!", id="text-around"),
    pytest.param("{$.kind}", "List", id="root"),
])
def test_render(template, expected):
    assert JSONPath(template).render(PODS) == expected


@pytest.mark.parametrize("template", [
    pytest.param("{.items[0", id="unclosed-action"),
    pytest.param("{end}", id="end-without-range"),
    pytest.param("{range .items[*]}{.x}", id="unclosed-range"),
])
def test_parse_errors(template):
    with pytest.raises(CliError):
        JSONPath(template)


@pytest.mark.parametrize("expression, expected", [
    pytest.param(".metadata.name", "{.metadata.name}", id="leading-dot"),
    pytest.param("metadata.name", "{.metadata.name}", id="no-dot"),
    pytest.param("{.metadata.name}", "{.metadata.name}", id="braced"),
])
def test_relaxed(expression, expected):
    assert relaxed(expression) == expected
