"""The API models: realistic manifests round-trip, the decoder is as strict as Kubernetes', patch tags are Go's."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from pydantic import ValidationError

from orchestrator.api import apps_v1, autoscaling_v1, coordination_v1, core_v1, meta
from orchestrator.api.base import PATCH_MERGE_KEY, PATCH_STRATEGY, K8sModel

MODEL_MODULES = (meta, core_v1, apps_v1, autoscaling_v1, coordination_v1)


# --- builders ---------------------------------------------------------------------------------


def new_deployment(**spec_overrides: Any) -> dict:
    """A Deployment as people write them: probes, env from everywhere, volumes of several kinds."""
    container = {
        "name": "web",
        "image": "nginx:1.27",
        "imagePullPolicy": "IfNotPresent",
        "command": ["nginx"],
        "args": ["-g", "daemon off;"],
        "workingDir": "/srv",
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
        "env": [
            {"name": "MODE", "value": "production"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token", "optional": True}}},
        ],
        "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}, {"secretRef": {"name": "creds"}}],
        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": 0.25, "memory": "64Mi"}},
        "volumeMounts": [
            {"name": "cache", "mountPath": "/var/cache/nginx"},
            {"name": "config", "mountPath": "/etc/nginx/conf.d", "readOnly": True},
        ],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http", "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "readinessProbe": {"tcpSocket": {"port": 80}, "timeoutSeconds": 1, "successThreshold": 1},
        "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30},
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}, "postStart": {"exec": {"command": ["true"]}}},
        "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    spec = {
        "replicas": 3,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
        "template": {
            "metadata": {"labels": {"app": "web"}, "annotations": {"checksum/config": "abc"}},
            "spec": {
                "initContainers": [{"name": "migrate", "image": "busybox", "command": ["sh", "-c", "true"]}],
                "containers": [container, {"name": "sidecar", "image": "busybox", "stdin": True, "tty": True}],
                "volumes": [
                    {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "config", "configMap": {"name": "nginx", "items": [{"key": "a", "path": "a.conf"}]}},
                    {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
                    {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                    {
                        "name": "info",
                        "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
                    },
                    {
                        "name": "all",
                        "projected": {
                            "sources": [
                                {"configMap": {"name": "nginx"}},
                                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                            ]
                        },
                    },
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                ],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "nodeSelector": {"disk": "ssd"},
                "serviceAccountName": "web",
                "securityContext": {
                    "fsGroup": 2000,
                    "runAsUser": 1000,
                    "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
                },
                "imagePullSecrets": [{"name": "registry"}],
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}],
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                            ]
                        },
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {"weight": 10, "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}
                        ],
                    },
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 100,
                                "podAffinityTerm": {
                                    "labelSelector": {"matchLabels": {"app": "web"}},
                                    "topologyKey": "kubernetes.io/hostname",
                                },
                            }
                        ]
                    },
                },
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    }
                ],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db"]}],
                "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
                "priorityClassName": "high",
            },
        },
        **spec_overrides,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": spec,
    }


def new_service() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "nodePort": 30080},
                {"name": "metrics", "port": 9090, "targetPort": 9090, "appProtocol": "http"},
            ],
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "externalTrafficPolicy": "Cluster",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ports": [{"port": 80, "protocol": "TCP"}]}]}},
    }


def new_pod_with_status() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d9c-x2",
            "namespace": "default",
            "uid": "0b8f6a9e-1",
            "resourceVersion": "42",
            "generation": 1,
            "creationTimestamp": "2024-05-01T12:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "7d9c"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-7d9c",
                    "uid": "rs-1",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "finalizers": ["example.com/cleanup"],
            "managedFields": [
                {"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}
            ],
        },
        "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx"}]},
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T12:00:00Z"},
                {
                    "type": "Ready",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": "2024-05-01T12:00:05Z",
                },
            ],
            "hostIP": "172.18.0.2",
            "hostIPs": [{"ip": "172.18.0.2"}],
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "startTime": "2024-05-01T12:00:00Z",
            "qosClass": "BestEffort",
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "started": True,
                    "restartCount": 1,
                    "image": "nginx:latest",
                    "imageID": "docker://sha256:abc",
                    "containerID": "docker://123",
                    "state": {"running": {"startedAt": "2024-05-01T12:00:03Z"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "startedAt": "2024-05-01T12:00:01Z",
                            "finishedAt": "2024-05-01T12:00:02Z",
                        }
                    },
                }
            ],
        },
    }


def new_node() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": {
            "podCIDR": "10.244.1.0/24",
            "podCIDRs": ["10.244.1.0/24"],
            "taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}],
        },
        "status": {
            "capacity": {"cpu": "2", "memory": "24Gi", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "23Gi", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": "2024-05-01T12:00:00Z",
                    "lastTransitionTime": "2024-05-01T11:00:00Z",
                }
            ],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "node-1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
                "kernelVersion": "6.1",
                "osImage": "Debian",
                "containerRuntimeVersion": "docker://24",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "images": [{"names": ["busybox:latest"], "sizeBytes": 1234}],
        },
    }


def new_event() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.17c", "namespace": "default"},
        "involvedObject": {
            "kind": "Pod",
            "namespace": "default",
            "name": "web",
            "uid": "u",
            "apiVersion": "v1",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Pulled",
        "message": "Container image already present on machine",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T12:00:00Z",
        "lastTimestamp": "2024-05-01T12:00:09Z",
        "count": 3,
        "type": "Normal",
        "eventTime": None,
        "reportingComponent": "kubelet",
        "reportingInstance": "node-1",
        "series": {"count": 2, "lastObservedTime": "2024-05-01T12:00:09.000001Z"},
    }


def without_nulls(value: Any) -> Any:
    """What `dump()` gives back for a manifest with explicit nulls: the same, nulls left out."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def errors_of(model: type[K8sModel], manifest: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(manifest)
    return [(error["loc"], error["type"]) for error in raised.value.errors()]


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "manifest"),
    [
        pytest.param(apps_v1.Deployment, new_deployment(), id="deployment"),
        pytest.param(core_v1.Service, new_service(), id="service"),
        pytest.param(core_v1.Pod, new_pod_with_status(), id="pod-with-status"),
        pytest.param(core_v1.Node, new_node(), id="node"),
        pytest.param(core_v1.Event, new_event(), id="event"),
        pytest.param(
            apps_v1.ReplicaSet,
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "web-7d9c", "namespace": "default"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
                    "template": new_deployment()["spec"]["template"],
                },
                "status": {
                    "replicas": 2,
                    "fullyLabeledReplicas": 2,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "observedGeneration": 3,
                    "conditions": [{"type": "ReplicaFailure", "status": "False", "reason": "x"}],
                },
            },
            id="replicaset",
        ),
        pytest.param(
            apps_v1.Deployment,
            {
                **new_deployment(
                    strategy={"type": "Recreate"}, paused=True, minReadySeconds=5, progressDeadlineSeconds=600
                ),
                "status": {
                    "observedGeneration": 2,
                    "replicas": 3,
                    "updatedReplicas": 3,
                    "readyReplicas": 3,
                    "availableReplicas": 3,
                    "unavailableReplicas": 0,
                    "collisionCount": 1,
                    "conditions": [
                        {
                            "type": "Available",
                            "status": "True",
                            "lastUpdateTime": "2024-05-01T12:00:00Z",
                            "lastTransitionTime": "2024-05-01T12:00:00Z",
                            "reason": "MinimumReplicasAvailable",
                            "message": "Deployment has minimum availability.",
                        }
                    ],
                },
            },
            id="deployment-recreate-with-status",
        ),  # fmt: skip
        pytest.param(
            core_v1.Endpoints,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "web", "namespace": "default"},
                "subsets": [
                    {
                        "addresses": [
                            {
                                "ip": "10.244.1.7",
                                "nodeName": "node-1",
                                "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "default", "uid": "u"},
                            }
                        ],
                        "notReadyAddresses": [{"ip": "10.244.1.8", "hostname": "web-2"}],
                        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "appProtocol": "http"}],
                    }
                ],
            },
            id="endpoints",
        ),
        pytest.param(
            core_v1.Namespace,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "team-a", "deletionTimestamp": "2024-05-01T12:00:00Z"},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {
                    "phase": "Terminating",
                    "conditions": [{"type": "NamespaceDeletionContentFailure", "status": "False"}],
                },
            },
            id="namespace",
        ),  # fmt: skip
        pytest.param(
            core_v1.ConfigMap,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings"},
                "data": {"level": "debug"},
                "binaryData": {"blob": "AAE="},
                "immutable": True,
            },
            id="configmap",
        ),
        pytest.param(
            core_v1.Secret,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "creds"},
                "type": "Opaque",
                "data": {"token": "czNjcjN0"},
                "stringData": {"user": "admin"},
            },
            id="secret",
        ),
        pytest.param(
            core_v1.Binding,
            {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": "web-1", "namespace": "default"},
                "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
            },
            id="binding",
        ),
        pytest.param(
            autoscaling_v1.Scale,
            {
                "apiVersion": "autoscaling/v1",
                "kind": "Scale",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"replicas": 5},
                "status": {"replicas": 3, "selector": "app=web"},
            },
            id="scale",
        ),
        pytest.param(
            coordination_v1.Lease,
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
                "spec": {
                    "holderIdentity": "sched-1",
                    "leaseDurationSeconds": 15,
                    "acquireTime": "2024-05-01T12:00:00.000000Z",
                    "renewTime": "2024-05-01T12:00:10.123456Z",
                    "leaseTransitions": 2,
                },
            },
            id="lease",
        ),  # fmt: skip
        pytest.param(
            meta.Status,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "boom",
                "reason": "Invalid",
                "code": 422,
                "details": {
                    "name": "web",
                    "kind": "pods",
                    "causes": [
                        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}
                    ],
                },
            },
            id="status",
        ),  # fmt: skip
        pytest.param(
            meta.DeleteOptions,
            {
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "gracePeriodSeconds": 0,
                "propagationPolicy": "Foreground",
                "preconditions": {"uid": "u", "resourceVersion": "7"},
                "orphanDependents": False,
                "dryRun": ["All"],
            },
            id="delete-options",
        ),  # fmt: skip
    ],
)
def test_manifest_round_trips(model: type[K8sModel], manifest: dict) -> None:
    original = copy.deepcopy(manifest)

    assert model.model_validate(manifest).dump() == without_nulls(original)
    assert manifest == original  # validation never touches its input


# --- strictness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "manifest", "expected_loc"),
    [
        pytest.param(apps_v1.Deployment, new_deployment(replicaz=3), ("spec", "replicaz"), id="spec-field"),
        pytest.param(
            apps_v1.Deployment,
            {**new_deployment(), "metadata": {"name": "web", "lables": {"a": "b"}}},
            ("metadata", "lables"),
            id="metadata-field",
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"name": "web", "imagee": "nginx"}]}},
            ("spec", "containers", 0, "imagee"),
            id="container-field",
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"name": "c", "livenessProbe": {"httpGet": {"port": 80, "paht": "/"}}}]}},
            ("spec", "containers", 0, "livenessProbe", "httpGet", "paht"),
            id="probe-field",
        ),
        pytest.param(
            core_v1.Service,
            {"spec": {"ports": [{"port": 80, "nodeport": 1}]}},
            ("spec", "ports", 0, "nodeport"),
            id="service-port-field",
        ),
        pytest.param(core_v1.ConfigMap, {"date": {"a": "b"}}, ("date",), id="top-level-field"),
    ],
)
def test_unknown_field_is_refused_naming_it(model: type[K8sModel], manifest: dict, expected_loc: tuple) -> None:
    assert (expected_loc, "extra_forbidden") in errors_of(model, manifest)


@pytest.mark.parametrize(
    ("model", "manifest", "expected_loc", "expected_type"),
    [
        pytest.param(
            apps_v1.Deployment, new_deployment(replicas="3"), ("spec", "replicas"), "int_type", id="replicas-as-string"
        ),
        pytest.param(
            apps_v1.Deployment, new_deployment(replicas=3.5), ("spec", "replicas"), "int_type", id="replicas-as-float"
        ),
        pytest.param(
            apps_v1.Deployment, new_deployment(paused="true"), ("spec", "paused"), "bool_type", id="bool-as-string"
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"name": "c", "image": 1}]}},
            ("spec", "containers", 0, "image"),
            "string_type",
            id="image-as-number",
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}},
            ("spec", "containers", 0, "ports", 0, "containerPort"),
            "int_type",
            id="container-port-as-string",
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"name": "c", "env": [{"name": "N", "value": 8080}]}]}},
            ("spec", "containers", 0, "env", 0, "value"),
            "string_type",
            id="env-value-as-number",
        ),
        pytest.param(
            core_v1.Pod,
            {"metadata": {"labels": {"tier": 1}}},
            ("metadata", "labels", "tier"),
            "string_type",
            id="label-as-number",
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"image": "nginx"}]}},
            ("spec", "containers", 0, "name"),
            "missing",
            id="container-without-name",
        ),
        pytest.param(
            core_v1.Service,
            {"spec": {"ports": [{"targetPort": 80}]}},
            ("spec", "ports", 0, "port"),
            "missing",
            id="service-port-without-port",
        ),
        pytest.param(
            core_v1.Pod,
            {"spec": {"containers": [{"name": "c", "readinessProbe": {"httpGet": {"path": "/"}}}]}},
            ("spec", "containers", 0, "readinessProbe", "httpGet", "port"),
            "missing",
            id="http-get-without-port",
        ),
    ],
)
def test_wrong_types_are_refused(
    model: type[K8sModel], manifest: dict, expected_loc: tuple, expected_type: str
) -> None:
    assert (expected_loc, expected_type) in errors_of(model, manifest)


@pytest.mark.parametrize(
    "target_port",
    [pytest.param("http", id="name"), pytest.param(8080, id="number")],
)
def test_target_port_takes_a_number_or_a_name(target_port: int | str) -> None:
    service = core_v1.Service.model_validate({"spec": {"ports": [{"port": 80, "targetPort": target_port}]}})

    assert service.spec.ports[0].target_port == target_port
    assert service.dump()["spec"]["ports"][0]["targetPort"] == target_port


@pytest.mark.parametrize(
    "max_surge",
    [pytest.param("25%", id="percentage"), pytest.param(1, id="count")],
)
def test_max_surge_takes_a_count_or_a_percentage(max_surge: int | str) -> None:
    deployment = apps_v1.Deployment.model_validate(new_deployment(strategy={"rollingUpdate": {"maxSurge": max_surge}}))

    assert deployment.spec.strategy.rolling_update.max_surge == max_surge


@pytest.mark.parametrize(
    ("quantity", "accepted"),
    [
        pytest.param("500m", True, id="string"),
        pytest.param(2, True, id="integer"),
        pytest.param(0.5, True, id="float"),
        pytest.param(True, False, id="bool-refused"),
        pytest.param(["1"], False, id="list-refused"),
    ],
)
def test_quantities_are_strings_or_numbers(quantity: Any, accepted: bool) -> None:
    manifest = {"limits": {"cpu": quantity}}

    if accepted:
        assert core_v1.ResourceRequirements.model_validate(manifest).dump() == manifest
    else:
        with pytest.raises(ValidationError):
            core_v1.ResourceRequirements.model_validate(manifest)


def test_irregular_wire_names_are_kubernetes_spelling() -> None:
    volume = {"name": "v", "downwardAPI": {"items": [{"path": "p", "fieldRef": {"fieldPath": "metadata.name"}}]}}
    endpoint = {"kubeletEndpoint": {"Port": 10250}}

    assert core_v1.Volume.model_validate(volume).dump() == volume
    assert core_v1.NodeDaemonEndpoints.model_validate(endpoint).dump() == endpoint
    assert core_v1.ContainerStatus.model_validate({"name": "c", "imageID": "x", "containerID": "y"}).image_id == "x"


# --- strategic-merge-patch tags ---------------------------------------------------------------


def patch_tags(model: type[K8sModel], attribute: str) -> dict:
    extra = model.model_fields[attribute].json_schema_extra or {}
    return {key: value for key, value in extra.items() if key in (PATCH_MERGE_KEY, PATCH_STRATEGY)}


MERGE = {PATCH_STRATEGY: "merge"}


@pytest.mark.parametrize(
    ("model", "attribute", "expected"),
    [
        pytest.param(core_v1.PodSpec, "containers", {**MERGE, PATCH_MERGE_KEY: "name"}, id="containers"),
        pytest.param(core_v1.PodSpec, "init_containers", {**MERGE, PATCH_MERGE_KEY: "name"}, id="init-containers"),
        pytest.param(
            core_v1.PodSpec, "ephemeral_containers", {**MERGE, PATCH_MERGE_KEY: "name"}, id="ephemeral-containers"
        ),
        pytest.param(
            core_v1.PodSpec, "volumes", {PATCH_STRATEGY: "merge,retainKeys", PATCH_MERGE_KEY: "name"}, id="volumes"
        ),
        pytest.param(
            core_v1.PodSpec, "image_pull_secrets", {**MERGE, PATCH_MERGE_KEY: "name"}, id="image-pull-secrets"
        ),
        pytest.param(core_v1.PodSpec, "host_aliases", {**MERGE, PATCH_MERGE_KEY: "ip"}, id="host-aliases"),
        pytest.param(
            core_v1.PodSpec,
            "topology_spread_constraints",
            {**MERGE, PATCH_MERGE_KEY: "topologyKey"},
            id="topology-spread",
        ),
        pytest.param(core_v1.PodSpec, "tolerations", {}, id="tolerations-replaced"),
        pytest.param(core_v1.Container, "ports", {**MERGE, PATCH_MERGE_KEY: "containerPort"}, id="container-ports"),
        pytest.param(core_v1.Container, "env", {**MERGE, PATCH_MERGE_KEY: "name"}, id="env"),
        pytest.param(core_v1.Container, "volume_mounts", {**MERGE, PATCH_MERGE_KEY: "mountPath"}, id="volume-mounts"),
        pytest.param(core_v1.Container, "env_from", {}, id="env-from-replaced"),
        pytest.param(core_v1.PodStatus, "conditions", {**MERGE, PATCH_MERGE_KEY: "type"}, id="pod-conditions"),
        pytest.param(core_v1.PodStatus, "pod_ips", {**MERGE, PATCH_MERGE_KEY: "ip"}, id="pod-ips"),
        pytest.param(core_v1.ServiceSpec, "ports", {**MERGE, PATCH_MERGE_KEY: "port"}, id="service-ports"),
        pytest.param(core_v1.ServiceStatus, "conditions", {**MERGE, PATCH_MERGE_KEY: "type"}, id="service-conditions"),
        pytest.param(core_v1.NodeStatus, "addresses", {**MERGE, PATCH_MERGE_KEY: "type"}, id="node-addresses"),
        pytest.param(core_v1.NodeStatus, "conditions", {**MERGE, PATCH_MERGE_KEY: "type"}, id="node-conditions"),
        # Kubernetes tags Taint.key, not NodeSpec.taints: the list itself is replaced whole.
        pytest.param(core_v1.NodeSpec, "taints", {}, id="taints-replaced"),
        pytest.param(
            core_v1.NamespaceStatus, "conditions", {**MERGE, PATCH_MERGE_KEY: "type"}, id="namespace-conditions"
        ),
        pytest.param(meta.ObjectMeta, "owner_references", {**MERGE, PATCH_MERGE_KEY: "uid"}, id="owner-references"),
        pytest.param(meta.ObjectMeta, "finalizers", MERGE, id="finalizers-merged-as-set"),
        pytest.param(apps_v1.DeploymentSpec, "strategy", {PATCH_STRATEGY: "retainKeys"}, id="deployment-strategy"),
        pytest.param(
            apps_v1.DeploymentStatus, "conditions", {**MERGE, PATCH_MERGE_KEY: "type"}, id="deployment-conditions"
        ),
        pytest.param(
            apps_v1.ReplicaSetStatus, "conditions", {**MERGE, PATCH_MERGE_KEY: "type"}, id="replicaset-conditions"
        ),
    ],
)
def test_patch_tags_match_kubernetes_go_types(model: type[K8sModel], attribute: str, expected: dict) -> None:
    assert patch_tags(model, attribute) == expected


# --- module contracts -------------------------------------------------------------------------


def all_model_classes() -> list[type[K8sModel]]:
    return [
        value
        for module in MODEL_MODULES
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, K8sModel) and value.__module__ == module.__name__
    ]


@pytest.mark.parametrize(
    "module", [pytest.param(module, id=module.__name__.rsplit(".", 1)[1]) for module in MODEL_MODULES]
)
def test_models_dict_lists_top_level_kinds_by_name(module) -> None:
    for kind, model in module.MODELS.items():
        assert model.__name__ == kind
        assert {"api_version", "kind"} <= set(model.model_fields)


def test_model_class_names_are_unique_across_modules() -> None:
    # The OpenAPI documents name schemas after the classes; two classes of one name would collide.
    names = [model.__name__ for model in all_model_classes()]

    assert len(names) == len(set(names))


def test_wire_names_agree_with_the_official_python_client() -> None:
    client_models = pytest.importorskip("kubernetes.client")
    checked = 0
    for model in all_model_classes():
        client = getattr(client_models, f"V1{model.__name__}", None) or getattr(
            client_models, f"CoreV1{model.__name__}", None
        )
        if client is None:
            continue
        for attribute, model_field in model.model_fields.items():
            # The client writes the attributes that clash with Python words as `_exec`, `_continue`.
            client_attribute = attribute if attribute in client.attribute_map else "_" + attribute.rstrip("_")
            assert client.attribute_map.get(client_attribute) == (model_field.alias or attribute), (
                f"{model.__name__}.{attribute}"
            )
            checked += 1
    assert checked > 300


# --- performance ------------------------------------------------------------------------------


def test_validating_a_thousand_pods_is_quick() -> None:
    template = new_deployment()["spec"]["template"]
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {**template["metadata"], "name": f"web-{index}"},
            "spec": template["spec"],
        }
        for index in range(1000)
    ]

    started = time.perf_counter()
    for pod in pods:
        core_v1.Pod.model_validate(pod)
    elapsed = time.perf_counter() - started

    print(f"validated 1000 realistic pods in {elapsed * 1000:.0f} ms")
