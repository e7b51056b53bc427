"""Tests for orchestrator.apiserver.protobuf: Kubernetes protobuf request bodies decoded into Kubernetes JSON.

Two kinds of evidence: bodies captured from real kubectl v1.32 (fixtures/protobuf, see its README) compared
with the JSON kubectl produces for the same command, and bodies built here with a tiny encoder that writes
fields the way gogo-protobuf does (every non-pointer scalar, even when zero).
"""

import copy
import json
import pathlib

import pytest

from orchestrator.api.errors import BadRequest, UnsupportedMediaType
from orchestrator.apiserver import protobuf
from orchestrator.apiserver.protobuf import decode_protobuf

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "protobuf"


# ---------------------------------------------------------------- a tiny protobuf encoder


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32/int64 are written as 64-bit two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def field(number: int, value: int | bool | str | bytes) -> bytes:
    """One field: ints and bools as varints, str and bytes (including nested messages) length-delimited."""
    if isinstance(value, (bool, int)):
        return varint(number << 3) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def message(*fields: bytes) -> bytes:
    return b"".join(fields)


def map_field(number: int, entries: dict) -> bytes:
    return message(*(field(number, field(1, key) + field(2, value)) for key, value in entries.items()))


def envelope(api_version: str, kind: str, raw: bytes, *, content_encoding: str = "") -> bytes:
    """The body kubectl sends: magic + runtime.Unknown{typeMeta, raw, contentEncoding, contentType}."""
    type_meta = field(1, api_version) + field(2, kind)
    return b"k8s\x00" + field(1, type_meta) + field(2, raw) + field(3, content_encoding) + field(4, "")


def object_meta(name: str = "", *, namespace: str = "", labels: dict | None = None) -> bytes:
    """ObjectMeta as gogo writes it: every plain string and int, and an empty creationTimestamp."""
    return message(field(1, name), field(2, ""), field(3, namespace), field(4, ""), field(5, ""), field(6, ""),
                   field(7, 0), field(8, b""), map_field(11, labels or {}))


def time(seconds: int, nanos: int = 0) -> bytes:
    return field(1, seconds) + field(2, nanos)


def quantity(text: str) -> bytes:
    return field(1, text)


def int_or_string(value: int | str) -> bytes:
    if isinstance(value, str):
        return field(1, 1) + field(2, 0) + field(3, value)
    return field(1, 0) + field(2, value) + field(3, "")


EMPTY_META = {"creationTimestamp": None}


# ---------------------------------------------------------------- bodies captured from kubectl


@pytest.mark.parametrize("name", [
    pytest.param("deployment", id="create-deployment"),
    pytest.param("namespace", id="create-namespace"),
    pytest.param("configmap", id="create-configmap"),
    pytest.param("secret", id="create-secret-generic"),
    pytest.param("service-clusterip", id="create-service-int-target-port"),
    pytest.param("service-named-target-port", id="create-service-named-target-port"),
])
def test_kubectl_create_bodies_decode_to_what_kubectl_sends_as_json(name):
    body = (FIXTURES / f"{name}.bin").read_bytes()
    expected = json.loads((FIXTURES / f"{name}.json").read_text())

    assert decode_protobuf(body) == expected


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("deleteoptions-drain", {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0},
                 id="drain-disable-eviction"),
    # Go would also write `spec.audiences: null`; an absent list and null mean the same to the REST layer.
    pytest.param("tokenrequest", {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                  "metadata": EMPTY_META, "spec": {},
                                  "status": {"token": "", "expirationTimestamp": None}},
                 id="create-token"),
])
def test_kubectl_option_bodies(name, expected):
    assert decode_protobuf((FIXTURES / f"{name}.bin").read_bytes()) == expected


def test_kubectl_debug_copy_carries_a_full_pod_spec():
    served = json.loads((FIXTURES / "pod-debug-copy.served.json").read_text())
    expected = copy.deepcopy(served)
    # What `kubectl debug rich --copy-to=rich-copy --container=web --image=busybox:1.36` changes in the copy:
    # fresh metadata (name, namespace, annotations), no node, no status, the new image, no stdin/tty.
    expected["metadata"] = {"name": "rich-copy", "namespace": "default", "creationTimestamp": None,
                            "annotations": served["metadata"]["annotations"]}
    expected["status"] = {}
    del expected["spec"]["nodeName"]
    web = expected["spec"]["containers"][0]
    web["image"] = "busybox:1.36"
    del web["stdin"], web["tty"]
    # Go's JSON leaves out a false non-pointer bool, so kubectl would not send it either.
    del expected["spec"]["hostNetwork"]

    decoded = decode_protobuf((FIXTURES / "pod-debug-copy.bin").read_bytes())

    assert decoded == expected
    # Zero values of pointer fields survive: they mean something different from "unset".
    assert decoded["spec"]["terminationGracePeriodSeconds"] == 0
    assert decoded["spec"]["priority"] == 0
    assert decoded["spec"]["volumes"][3]["secret"]["defaultMode"] == 0
    assert decoded["spec"]["containers"][0]["securityContext"]["runAsUser"] == 0


# ---------------------------------------------------------------- bodies built here


def pod_spec_container(name: str, image: str, *extra: bytes) -> bytes:
    # Container's plain fields gogo always writes: workingDir, resources, paths and policies, stdin/tty.
    return message(field(1, name), field(2, image), field(5, ""), field(8, b""), field(13, ""), field(14, ""),
                   field(16, False), field(17, False), field(18, False), field(20, ""), *extra)


DEPLOYMENT = envelope("apps/v1", "Deployment", message(
    field(1, object_meta("web", namespace="prod", labels={"app": "web"})),
    field(2, message(
        field(1, 0),  # replicas is *int32: an explicit 0 stays
        field(2, map_field(1, {"app": "web"})),
        field(3, message(
            field(1, object_meta(labels={"app": "web"})),
            field(2, field(2, pod_spec_container("web", "nginx:1.27", field(6, field(3, 8080) + field(2, 0))))),
        )),
        field(4, field(1, "RollingUpdate") + field(2, field(1, int_or_string(0)) + field(2, int_or_string("25%")))),
        field(5, 0), field(6, 0), field(7, False), field(9, 600),
    )),
    field(3, message(field(1, 0), field(2, 0), field(3, 0), field(4, 0), field(5, 0), field(7, 0))),
))
DEPLOYMENT_JSON = {
    "kind": "Deployment", "apiVersion": "apps/v1",
    "metadata": {"name": "web", "namespace": "prod", "creationTimestamp": None, "labels": {"app": "web"}},
    "spec": {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "resources": {},
                                              "ports": [{"containerPort": 8080}]}]}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "revisionHistoryLimit": 0,
        "progressDeadlineSeconds": 600,
    },
    "status": {},
}

SERVICE = envelope("v1", "Service", message(
    field(1, object_meta("web")),
    field(2, message(
        field(1, field(1, "http") + field(2, "TCP") + field(3, 80) + field(4, int_or_string(8080)) + field(5, 0)),
        field(1, field(1, "admin") + field(2, "TCP") + field(3, 9000) + field(4, int_or_string("admin"))
              + field(5, 30900)),
        map_field(2, {"app": "web"}),
        field(3, "None"), field(4, "ClusterIP"), field(7, ""), field(12, 0), field(13, False),
        field(17, "SingleStack"),  # ipFamilyPolicy is a pointer
    )),
    field(3, field(1, b"")),
))
SERVICE_JSON = {
    "kind": "Service", "apiVersion": "v1", "metadata": {"name": "web", "creationTimestamp": None},
    "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                       {"name": "admin", "protocol": "TCP", "port": 9000, "targetPort": "admin", "nodePort": 30900}],
             "selector": {"app": "web"}, "clusterIP": "None", "type": "ClusterIP", "ipFamilyPolicy": "SingleStack"},
    "status": {"loadBalancer": {}},
}

CONFIG_MAP_KEY_REF = message(field(1, field(1, "cfg")), field(2, "key"), field(3, True))  # name is inlined
POD = envelope("v1", "Pod", message(
    field(1, object_meta("p", namespace="default")),
    field(2, message(
        field(1, field(1, "logs") + field(2, field(1, field(1, "/var/log") + field(2, "")))),
        field(2, pod_spec_container(
            "c", "busybox",
            field(7, field(1, "EMPTY") + field(2, "")),
            field(7, field(1, "FROM_CM") + field(3, field(3, CONFIG_MAP_KEY_REF))),
            field(999, "a field from a newer Kubernetes"),
        )),
        field(14, message(field(4, 3000), field(4, 4000), field(5, 2000))),  # supplementalGroups one per field
        field(25, -5),  # a negative int32 takes ten bytes on the wire
        field(999, 12345),
    )),
    field(3, message(field(1, "Pending"), field(7, time(1714979289)),
                     field(2, field(1, "Ready") + field(2, "False") + field(3, b"") + field(4, time(1714979289))))),
))
POD_JSON = {
    "kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "default", "creationTimestamp": None},
    "spec": {
        "volumes": [{"name": "logs", "hostPath": {"path": "/var/log", "type": ""}}],
        "containers": [{"name": "c", "image": "busybox", "resources": {},
                        "env": [{"name": "EMPTY"},
                                {"name": "FROM_CM",
                                 "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "key", "optional": True}}}]}],
        "securityContext": {"supplementalGroups": [3000, 4000], "fsGroup": 2000},
        "priority": -5,
    },
    "status": {"phase": "Pending", "startTime": "2024-05-06T07:08:09Z",
               "conditions": [{"type": "Ready", "status": "False", "lastProbeTime": None,
                               "lastTransitionTime": "2024-05-06T07:08:09Z"}]},
}

LEASE = envelope("coordination.k8s.io/v1", "Lease", message(
    field(1, object_meta("leader", namespace="kube-system")),
    field(2, message(field(1, "node-a"), field(2, 15), field(3, time(1714979289, 123456789)), field(5, 0))),
))
LEASE_JSON = {
    "kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
    "metadata": {"name": "leader", "namespace": "kube-system", "creationTimestamp": None},
    "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 15, "acquireTime": "2024-05-06T07:08:09.123456Z",
             "leaseTransitions": 0},
}

NODE_INFO = message(*(field(number, "") for number in range(1, 9)), field(9, "linux"), field(10, ""))
NODE = envelope("v1", "Node", message(
    field(1, object_meta("n1")),
    field(2, message(field(1, ""), field(4, True), field(5, field(1, "k") + field(2, "") + field(3, "NoSchedule")))),
    field(3, message(
        map_field(1, {"cpu": quantity("4"), "memory": quantity("8Gi")}),
        field(5, field(1, "InternalIP") + field(2, "10.0.0.1")),
        field(6, field(1, field(1, 10250))),
        field(7, NODE_INFO),
    )),
))
NODE_JSON = {
    "kind": "Node", "apiVersion": "v1", "metadata": {"name": "n1", "creationTimestamp": None},
    "spec": {"unschedulable": True, "taints": [{"key": "k", "effect": "NoSchedule"}]},
    "status": {
        "capacity": {"cpu": "4", "memory": "8Gi"},
        "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        # NodeSystemInfo's JSON tags have no omitempty: empty strings stay.
        "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "", "osImage": "",
                     "containerRuntimeVersion": "", "kubeletVersion": "", "kubeProxyVersion": "",
                     "operatingSystem": "linux", "architecture": ""},
    },
}

EVENT = envelope("v1", "Event", message(
    field(1, object_meta("e1")), field(2, field(1, "Pod") + field(3, "p")), field(3, "Started"),
    field(6, time(0)),  # the Unix epoch, not Go's zero time
    field(7, b""), field(8, 2), field(10, b""), field(14, ""), field(15, ""),
))
EVENT_JSON = {
    "kind": "Event", "apiVersion": "v1", "metadata": {"name": "e1", "creationTimestamp": None},
    "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Started",
    "firstTimestamp": "1970-01-01T00:00:00Z", "lastTimestamp": None, "count": 2, "eventTime": None,
    "reportingComponent": "", "reportingInstance": "",
}


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(DEPLOYMENT, DEPLOYMENT_JSON, id="deployment-zero-values"),
    pytest.param(SERVICE, SERVICE_JSON, id="service-target-ports"),
    pytest.param(POD, POD_JSON, id="pod-negative-int-unknown-fields-times"),
    pytest.param(envelope("v1", "Namespace", message(field(1, object_meta("team-a")), field(2, field(1, "kubernetes")),
                                                     field(3, field(1, "")))),
                 {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "team-a", "creationTimestamp": None},
                  "spec": {"finalizers": ["kubernetes"]}, "status": {}},
                 id="namespace"),
    pytest.param(envelope("v1", "ConfigMap", message(field(1, object_meta("cfg")), map_field(2, {"a": "1", "b": ""}),
                                                     map_field(3, {"bin": b"\x00\x01"}), field(4, False))),
                 {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cfg", "creationTimestamp": None},
                  "data": {"a": "1", "b": ""}, "binaryData": {"bin": "AAE="}, "immutable": False},
                 id="configmap-data-binarydata"),
    pytest.param(envelope("v1", "Secret", message(field(1, object_meta("s")), map_field(2, {"key": b"\xffsecret\x00"}),
                                                  field(3, "Opaque"))),
                 {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s", "creationTimestamp": None},
                  "data": {"key": "/3NlY3JldAA="}, "type": "Opaque"},
                 id="secret-bytes-as-base64"),
    pytest.param(envelope("policy/v1", "Eviction", message(field(1, object_meta("p", namespace="default")),
                                                           field(2, field(1, 0)))),
                 {"kind": "Eviction", "apiVersion": "policy/v1",
                  "metadata": {"name": "p", "namespace": "default", "creationTimestamp": None},
                  "deleteOptions": {"gracePeriodSeconds": 0}},
                 id="eviction"),
    pytest.param(envelope("v1", "DeleteOptions", message(field(1, 0), field(2, field(1, "uid-1")), field(4, "Foreground"),
                                                         field(5, "All"))),
                 {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                  "preconditions": {"uid": "uid-1"}, "propagationPolicy": "Foreground", "dryRun": ["All"]},
                 id="deleteoptions-grace-0-foreground"),
    pytest.param(envelope("apps/v1", "DeleteOptions", field(4, "Orphan")),
                 {"kind": "DeleteOptions", "apiVersion": "apps/v1", "propagationPolicy": "Orphan"},
                 id="deleteoptions-of-another-group"),
    pytest.param(LEASE, LEASE_JSON, id="lease-microtime"),
    pytest.param(NODE, NODE_JSON, id="node-quantities-nodeinfo"),
    pytest.param(envelope("v1", "Binding", message(field(1, object_meta("p", namespace="default")),
                                                   field(2, field(1, "Node") + field(3, "n1")))),
                 {"kind": "Binding", "apiVersion": "v1",
                  "metadata": {"name": "p", "namespace": "default", "creationTimestamp": None},
                  "target": {"kind": "Node", "name": "n1"}},
                 id="binding"),
    pytest.param(envelope("autoscaling/v1", "Scale", message(field(1, object_meta("web")), field(2, field(1, 5)),
                                                             field(3, field(1, 0) + field(2, "")))),
                 {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web", "creationTimestamp": None},
                  "spec": {"replicas": 5}, "status": {"replicas": 0}},
                 id="scale"),
    pytest.param(EVENT, EVENT_JSON, id="event-times"),
])
def test_decodes_to_kubernetes_json(body, expected):
    assert decode_protobuf(body) == expected


def test_packed_repeated_ints_are_read_too():
    packed = varint(4 << 3 | 2) + varint(4) + varint(3000) + varint(4000)  # supplementalGroups=4, packed
    body = envelope("v1", "Pod", field(2, field(14, packed)))

    assert decode_protobuf(body)["spec"]["securityContext"] == {"supplementalGroups": [3000, 4000]}


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("body", "error", "message_part"), [
    pytest.param(b'{"kind": "Pod"}', BadRequest, "does not appear to be a protobuf message", id="json-body"),
    pytest.param(envelope("apps/v1", "StatefulSet", b""), UnsupportedMediaType,
                 "protobuf decoding of apps/v1 StatefulSet is not supported; send application/json",
                 id="unsupported-kind"),
    pytest.param(envelope("v1", "Pod", b"", content_encoding="gzip"), UnsupportedMediaType, "content encoding",
                 id="content-encoding"),
    pytest.param(b"k8s\x00" + field(2, b""), BadRequest, "'Kind' or 'apiVersion' is missing", id="no-type-meta"),
    pytest.param(envelope("v1", "Pod", b"\x0a\x05ab"), BadRequest, "runs past the end", id="truncated-field"),
    pytest.param(envelope("v1", "Pod", b"\x08\x80"), BadRequest, "truncated varint", id="truncated-varint"),
    pytest.param(envelope("v1", "Pod", field(1, 5)), BadRequest, "wire type 0, expected 2", id="wrong-wire-type"),
    pytest.param(envelope("v1", "Pod", b"\x0b"), BadRequest, "unsupported wire type 3", id="group-wire-type"),
    pytest.param(envelope("v1", "Pod", field(1, field(1, b"\xff\xfe"))), BadRequest, "not valid UTF-8",
                 id="invalid-utf8"),
    pytest.param(envelope("v1", "Pod", field(1, field(8, field(1, "not-a-number")))), BadRequest,
                 "Time field 1 should be a varint", id="time-with-bytes-seconds"),
    pytest.param(b"k8s\x00\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", BadRequest, "longer than 10 bytes",
                 id="overlong-varint"),
])
def test_rejects_what_it_cannot_decode(body, error, message_part):
    with pytest.raises(error) as raised:
        decode_protobuf(body)

    assert message_part in raised.value.message


def test_error_codes_match_kubernetes():
    with pytest.raises(UnsupportedMediaType) as unsupported:
        decode_protobuf(envelope("example.com/v1", "Widget", b""))
    with pytest.raises(BadRequest) as malformed:
        decode_protobuf(b"k8s\x00\x0a\x05ab")

    assert (unsupported.value.code, malformed.value.code) == (415, 400)


def test_schema_refers_only_to_messages_it_defines():
    known = set(protobuf._MESSAGES) | set(protobuf._SCALAR_WIRE_TYPES) | protobuf._SPECIAL
    dangling = {(name, f.json_name, f.kind) for name, fields in protobuf._MESSAGES.items()
                for f in fields.values() if f.kind not in known}

    assert dangling == set()
