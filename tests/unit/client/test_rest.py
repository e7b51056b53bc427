"""Unit tests of orchestrator.client.rest: wire format, error mapping and watch streaming,
against a scripted aiohttp server on 127.0.0.1."""

from __future__ import annotations

import inspect
import json
import socket
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from orchestrator.api.errors import (
    AlreadyExists,
    APIError,
    BadRequest,
    Conflict,
    Expired,
    Forbidden,
    InternalError,
    Invalid,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)
from orchestrator.client.resources import DEPLOYMENTS, LEASES, NODES, PODS, Resource
from orchestrator.client.rest import ApiClient, ApiUnavailable, from_status


@dataclass
class PlainConfig:
    """The fields of ClientConfig that ApiClient reads, for a plain-http test server."""

    server: str
    token: str | None = "secret-token"
    namespace: str = "default"

    def ssl_context(self) -> None:
        return None


@dataclass
class Recorded:
    method: str
    path_qs: str
    headers: dict
    body: bytes


class ScriptedServer:
    """Answers every request with `self.reply` (a handler) and records what it received."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.reply = lambda request: web.json_response({"kind": "Pod", "metadata": {"name": "web"}})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), await request.read()))
        response = self.reply(request)
        return await response if inspect.isawaitable(response) else response


@pytest.fixture
async def scripted():
    server = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    client = ApiClient(PlainConfig(str(test_server.make_url("/"))))
    yield server, client
    await client.close()
    await test_server.close()


def status_body(code: int, reason: str, message: str = "nope", details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


@pytest.mark.parametrize(
    ("resource", "namespace", "name", "subresource", "expected"),
    [
        pytest.param(PODS, "ns", "web", "status", "/api/v1/namespaces/ns/pods/web/status", id="core-subresource"),
        pytest.param(PODS, None, None, None, "/api/v1/pods", id="all-namespaces"),
        pytest.param(NODES, "ignored", "n1", None, "/api/v1/nodes/n1", id="cluster-scoped"),
        pytest.param(DEPLOYMENTS, "prod", "api", "scale", "/apis/apps/v1/namespaces/prod/deployments/api/scale",
                     id="group"),
        pytest.param(LEASES, "kube-system", None, None, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                     id="collection"),
    ],
)
def test_resource_path(resource: Resource, namespace, name, subresource, expected):
    assert resource.path(namespace, name, subresource) == expected


@pytest.mark.parametrize(
    ("body", "http_code", "expected_class", "expected_code"),
    [
        pytest.param(status_body(404, "NotFound"), 404, NotFound, 404, id="not-found"),
        pytest.param(status_body(409, "AlreadyExists"), 409, AlreadyExists, 409, id="already-exists"),
        pytest.param(status_body(409, "Conflict"), 409, Conflict, 409, id="conflict"),
        pytest.param(status_body(410, "Expired"), 410, Expired, 410, id="expired"),
        pytest.param(status_body(410, "Gone"), 410, Expired, 410, id="gone-is-expired"),
        pytest.param(status_body(401, "Unauthorized"), 401, Unauthorized, 401, id="unauthorized"),
        pytest.param(status_body(403, "Forbidden"), 403, Forbidden, 403, id="forbidden"),
        pytest.param(status_body(400, "BadRequest"), 400, BadRequest, 400, id="bad-request"),
        pytest.param(status_body(503, "ServiceUnavailable"), 503, ServiceUnavailable, 503, id="unavailable"),
        pytest.param(status_body(500, "InternalError"), 500, InternalError, 500, id="internal"),
        pytest.param({"message": "no reason"}, 409, Conflict, 409, id="code-only"),
        pytest.param(status_body(429, "TooManyRequests"), 429, APIError, 429, id="unknown-reason-kept"),
    ],
)
def test_from_status(body, http_code, expected_class, expected_code):
    error = from_status(body, http_code)
    assert type(error) is expected_class
    assert error.code == expected_code
    assert error.reason == (body["reason"] if expected_class is APIError else expected_class.reason)


def test_from_status_invalid_keeps_details():
    causes = [{"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be >= 0", "field": "spec.replicas"}]
    body = status_body(422, "Invalid", 'Deployment.apps "web" is invalid: spec.replicas: ...',
                       {"name": "web", "group": "apps", "kind": "Deployment", "causes": causes})
    error = from_status(body, 422)
    assert isinstance(error, Invalid)
    assert error.to_status() == body
    assert [(e.field, e.type, e.detail) for e in error.field_errors] == [("spec.replicas", "Invalid", "-1: must be >= 0")]


async def test_get_sends_token_and_parses_json(scripted):
    server, client = scripted
    assert await client.get(PODS, "web", namespace="ns") == {"kind": "Pod", "metadata": {"name": "web"}}
    request = server.requests[0]
    assert (request.method, request.path_qs) == ("GET", "/api/v1/namespaces/ns/pods/web")
    assert request.headers["Authorization"] == "Bearer secret-token"


async def test_object_calls_default_to_the_body_or_config_namespace(scripted):
    server, client = scripted
    await client.create(PODS, {"metadata": {"name": "a", "namespace": "team"}})
    await client.create(PODS, {"metadata": {"name": "b"}})
    await client.update(NODES, {"metadata": {"name": "n1", "resourceVersion": "7"}}, subresource="status")
    assert [(r.method, r.path_qs) for r in server.requests] == [
        ("POST", "/api/v1/namespaces/team/pods"),
        ("POST", "/api/v1/namespaces/default/pods"),
        ("PUT", "/api/v1/nodes/n1/status"),
    ]
    assert json.loads(server.requests[2].body)["metadata"]["resourceVersion"] == "7"


async def test_list_query(scripted):
    server, client = scripted
    await client.list(PODS, label_selector="app=web,tier in (a,b)", field_selector="spec.nodeName=n1", limit=2,
                      continue_="tok")
    request = server.requests[0]
    assert request.path_qs.startswith("/api/v1/pods?")
    query = dict(pair.split("=", 1) for pair in request.path_qs.split("?", 1)[1].split("&"))
    assert set(query) == {"labelSelector", "fieldSelector", "limit", "continue"}


@pytest.mark.parametrize(
    ("patch_type", "content_type", "field_manager"),
    [
        pytest.param("strategic", "application/strategic-merge-patch+json", None, id="strategic"),
        pytest.param("merge", "application/merge-patch+json", None, id="merge"),
        pytest.param("json", "application/json-patch+json", None, id="json"),
        pytest.param("apply", "application/apply-patch+yaml", "orchestrator", id="apply"),
    ],
)
async def test_patch_content_types(scripted, patch_type, content_type, field_manager):
    server, client = scripted
    await client.patch(DEPLOYMENTS, "api", {"spec": {"replicas": 3}}, namespace="prod", patch_type=patch_type)
    request = server.requests[0]
    assert request.method == "PATCH"
    assert request.headers["Content-Type"] == content_type
    assert ("fieldManager=" + str(field_manager) in request.path_qs) == (field_manager is not None)


async def test_delete_sends_delete_options(scripted):
    server, client = scripted
    await client.delete(PODS, "web", namespace="ns", grace_period_seconds=0, propagation_policy="Background",
                        preconditions={"uid": "u1"})
    body = json.loads(server.requests[0].body)
    assert body == {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                    "propagationPolicy": "Background", "preconditions": {"uid": "u1"}}


async def test_binding_subresource(scripted):
    server, client = scripted
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web", "namespace": "ns"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
    await client.create_subresource(PODS, "web", "binding", binding)
    assert (server.requests[0].method, server.requests[0].path_qs) == ("POST", "/api/v1/namespaces/ns/pods/web/binding")


async def test_error_response_raises_matching_class(scripted):
    server, client = scripted
    server.reply = lambda request: web.json_response(status_body(404, "NotFound", 'pods "x" not found'), status=404)
    with pytest.raises(NotFound, match='pods "x" not found'):
        await client.get(PODS, "x")


async def test_non_status_error_body(scripted):
    server, client = scripted
    server.reply = lambda request: web.Response(status=502, text="bad gateway")
    with pytest.raises(APIError, match="bad gateway") as raised:
        await client.get(PODS, "x")
    assert raised.value.code == 502


async def test_unreachable_server_raises_api_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ApiClient(PlainConfig(f"http://127.0.0.1:{port}")) as client:
        with pytest.raises(ApiUnavailable):
            await client.get(PODS, "web")


def watch_line(event_type: str, obj: dict) -> bytes:
    return json.dumps({"type": event_type, "object": obj}).encode() + b"\n"


async def test_watch_streams_large_events_then_raises_expired(scripted):
    server, client = scripted
    big_pod = {"kind": "Pod", "metadata": {"name": "big", "resourceVersion": "5"},
               "data": "x" * (3 * 1024 * 1024)}
    stream = (watch_line("ADDED", {"metadata": {"name": "a", "resourceVersion": "4"}}) + watch_line("MODIFIED", big_pod)
              + watch_line("BOOKMARK", {"metadata": {"resourceVersion": "6"}})
              + watch_line("ERROR", status_body(410, "Expired", "too old resource version: 1 (6)")))

    async def reply(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for start in range(0, len(stream), 100_000):  # lines cut across chunks
            await response.write(stream[start:start + 100_000])
        return response

    server.reply = reply
    received = []
    with pytest.raises(Expired, match="too old"):
        async for event in client.watch(PODS, namespace="ns", resource_version="3", timeout_seconds=30):
            received.append((event.type, event.object["metadata"]["resourceVersion"]))
    assert received == [("ADDED", "4"), ("MODIFIED", "5"), ("BOOKMARK", "6")]
    assert server.requests[0].path_qs == (
        "/api/v1/namespaces/ns/pods?watch=true&resourceVersion=3&allowWatchBookmarks=true&timeoutSeconds=30")


async def test_watch_ends_when_server_closes_stream(scripted):
    server, client = scripted
    server.reply = lambda request: web.Response(body=watch_line("DELETED", {"metadata": {"name": "a"}}),
                                                content_type="application/json")
    events = [event async for event in client.watch(NODES, resource_version="1")]
    assert [event.type for event in events] == ["DELETED"]


async def test_raw_request_streams(scripted):
    server, client = scripted
    server.reply = lambda request: web.Response(text="line 1\nline 2\n")
    async with await client.request("GET", "/api/v1/namespaces/ns/pods/web/log", params={"follow": True},
                                    raw=True) as response:
        assert await response.text() == "line 1\nline 2\n"
    assert server.requests[0].path_qs == "/api/v1/namespaces/ns/pods/web/log?follow=true"
    assert await client.request("GET", "/api/v1/namespaces/ns/pods/web/log") == "line 1\nline 2\n"
