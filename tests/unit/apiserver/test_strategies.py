"""Per-kind defaulting and validation produce what a Kubernetes 1.32 apiserver produces."""

from __future__ import annotations

import copy

import pytest

from orchestrator.api.errors import Invalid
from orchestrator.apiserver.strategies import DEFAULT_STRATEGY, STRATEGIES, validate_object_meta

LABEL_ERROR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_ERROR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


# ---------------------------------------------------------------- builders


def new_container(name: str = "web", image: str = "busybox:1.36", **fields) -> dict:
    return {"name": name, "image": image, **fields}


def new_pod(*containers: dict, name: str = "web", **spec_fields) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": list(containers) or [new_container()], **spec_fields},
    }


def new_deployment(name: str = "web", labels: dict | None = None, **spec_fields) -> dict:
    labels = {"app": "web"} if labels is None else labels
    spec = {
        "selector": {"matchLabels": dict(labels)},
        "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [new_container()]}},
        **spec_fields,
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def new_replica_set(**spec_fields) -> dict:
    replica_set = new_deployment(**spec_fields)
    replica_set["kind"] = "ReplicaSet"
    return replica_set


def new_service(name: str = "web", **spec_fields) -> dict:
    spec = {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec_fields}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def new_object(kind: str, name: str = "thing", *, namespaced: bool = True, **fields) -> dict:
    metadata = {"name": name, "namespace": "default"} if namespaced else {"name": name}
    return {"kind": kind, "metadata": metadata, **fields}


def created(obj: dict) -> dict:
    """The object as the REST layer stores it after create: prepared and defaulted."""
    obj = copy.deepcopy(obj)
    strategy = STRATEGIES[obj["kind"]]
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


def create_errors(obj: dict) -> list[str]:
    return [error.message() for error in STRATEGIES[obj["kind"]].validate(created(obj))]


def update_errors(new: dict, old: dict) -> list[str]:
    strategy = STRATEGIES[new["kind"]]
    new = copy.deepcopy(new)
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    return [error.message() for error in strategy.validate_update(new, old)]


def with_path(obj: dict, path: str, value) -> dict:
    """A copy of `obj` with `value` at a dotted path (`spec.containers.0.image`)."""
    obj = copy.deepcopy(obj)
    *parents, last = path.split(".")
    target = obj
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return obj


# ---------------------------------------------------------------- bad input, one table across kinds

BAD_INPUTS = [
    pytest.param(with_path(new_pod(), "spec.containers.0.resources", {"requests": {"cpu": "10x"}}),
                 f'spec.containers[0].resources.requests[cpu]: Invalid value: "10x": {QUANTITY_ERROR}', id="pod-bad-quantity"),
    pytest.param(with_path(new_pod(), "spec.containers", []), "spec.containers: Required value", id="pod-no-containers"),
    pytest.param(new_pod(new_container(name="Web_1")), f'spec.containers[0].name: Invalid value: "Web_1": {LABEL_ERROR}',
                 id="pod-container-name"),
    pytest.param(new_pod(new_container(name="")), "spec.containers[0].name: Required value", id="pod-container-name-missing"),
    pytest.param(new_pod(new_container(), new_container()), 'spec.containers[1].name: Duplicate value: "web"',
                 id="pod-duplicate-container"),
    pytest.param(new_pod(new_container(image="")), "spec.containers[0].image: Required value", id="pod-image-missing"),
    pytest.param(new_pod(new_container(ports=[{"containerPort": 70000}])),
                 "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                 id="pod-port-range"),
    pytest.param(new_pod(new_container(ports=[{"containerPort": 80, "name": "8080"}])),
                 'spec.containers[0].ports[0].name: Invalid value: "8080": must contain at least one letter (a-z)',
                 id="pod-port-name"),
    pytest.param(new_pod(new_container(ports=[{"containerPort": 80, "protocol": "ICMP"}])),
                 'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
                 id="pod-port-protocol"),
    pytest.param(new_pod(new_container(env=[{"name": "A=B", "value": "x"}])),
                 'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist '
                 "only of printable ASCII characters other than '='", id="pod-env-name"),
    pytest.param(new_pod(new_container(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})),
                 'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
                 id="pod-requests-above-limits"),
    pytest.param(new_pod(new_container(resources={"limits": {"memory": "-1Mi"}})),
                 'spec.containers[0].resources.limits[memory]: Invalid value: "-1Mi": must be greater than or equal to 0',
                 id="pod-negative-limit"),
    pytest.param(new_pod(restartPolicy="Sometimes"),
                 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
                 id="pod-restart-policy"),
    pytest.param(new_pod(new_container(livenessProbe={"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}})),
                 "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                 id="pod-probe-two-handlers"),
    pytest.param(new_pod(new_container(readinessProbe={"periodSeconds": 5})),
                 "spec.containers[0].readinessProbe: Required value: must specify a handler type", id="pod-probe-no-handler"),
    pytest.param(new_pod(new_container(livenessProbe={"httpGet": {"port": 8080}, "successThreshold": 2})),
                 "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1", id="pod-liveness-threshold"),
    pytest.param(new_pod(new_container(volumeMounts=[{"name": "data", "mountPath": "/data"}])),
                 'spec.containers[0].volumeMounts[0].name: Not found: "data"', id="pod-mount-unknown-volume"),
    pytest.param(new_pod(volumes=[{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]),
                 'spec.volumes[1].name: Duplicate value: "data"', id="pod-duplicate-volume"),
    pytest.param(new_pod(volumes=[{"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}]),
                 "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type", id="pod-two-volume-types"),
    pytest.param(new_pod(name="Web"), f'metadata.name: Invalid value: "Web": {SUBDOMAIN_ERROR}', id="pod-name"),
    pytest.param(with_path(new_pod(), "metadata.labels", {"app": "a b"}),
                 'metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric '
                 "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                 "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                 id="pod-label-value"),
    pytest.param(with_path(new_pod(), "metadata.annotations", {"big": "x" * (256 * 1024)}),
                 "metadata.annotations: Too long: may not be more than 262144 bytes", id="pod-annotations-too-big"),
    pytest.param(with_path(new_pod(), "metadata.namespace", ""), "metadata.namespace: Required value", id="pod-no-namespace"),
    pytest.param(new_deployment(replicas=-1), "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                 id="deployment-negative-replicas"),
    pytest.param(with_path(new_deployment(), "spec.selector", {"matchLabels": {"app": "other"}}),
                 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match '
                 "template `labels`", id="deployment-selector-mismatch"),
    pytest.param(with_path(new_deployment(), "spec.selector", None), "spec.selector: Required value",
                 id="deployment-selector-missing"),
    pytest.param(with_path(new_deployment(), "spec.selector", {}),
                 "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                 "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
                 id="deployment-selector-empty"),
    pytest.param(with_path(new_deployment(), "spec.template.spec.restartPolicy", "Never"),
                 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
                 id="deployment-restart-policy"),
    pytest.param(new_deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}),
                 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: '
                 "may not be 0 when `maxSurge` is 0", id="deployment-surge-and-unavailable-zero"),
    pytest.param(new_deployment(strategy={"rollingUpdate": {"maxUnavailable": "150%"}}),
                 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, '
                 'StrVal:"150%"}: must not be greater than 100%', id="deployment-unavailable-over-100"),
    pytest.param(new_deployment(strategy={"rollingUpdate": {"maxSurge": "x%"}}),
                 "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"x%\"}: "
                 "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex "
                 "used for validation is '[0-9]+%')", id="deployment-bad-percent"),
    pytest.param(with_path(new_deployment(), "spec.template.spec.containers.0.image", ""),
                 "spec.template.spec.containers[0].image: Required value", id="deployment-template-image"),
    pytest.param(new_deployment(progressDeadlineSeconds=5, minReadySeconds=10),
                 "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds",
                 id="deployment-progress-deadline"),
    pytest.param(new_replica_set(replicas=-2), "spec.replicas: Invalid value: -2: must be greater than or equal to 0",
                 id="replicaset-negative-replicas"),
    pytest.param(new_service(name="web.v1"),
                 'metadata.name: Invalid value: "web.v1": a DNS-1035 label must consist of lower case alphanumeric characters '
                 "or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
                 "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')", id="service-name-dns1035"),
    pytest.param(new_service(ports=[]), "spec.ports: Required value", id="service-no-ports"),
    pytest.param(new_service(ports=[{"port": 0}]), "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                 id="service-port-zero"),
    pytest.param(new_service(ports=[{"port": 80}, {"port": 81}]), "spec.ports[0].name: Required value",
                 id="service-names-required"),
    pytest.param(new_service(ports=[{"name": "a", "port": 80}, {"name": "a", "port": 81}]),
                 'spec.ports[1].name: Duplicate value: "a"', id="service-duplicate-port-name"),
    pytest.param(new_service(ports=[{"port": 80, "targetPort": "HTTP"}]),
                 'spec.ports[0].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), '
                 "and hyphens (-)", id="service-target-port-name"),
    pytest.param(new_service(type="NodePort", ports=[{"port": 80, "nodePort": 8080}]),
                 "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid "
                 "ports is 30000-32767", id="service-node-port-range"),
    pytest.param(new_service(ports=[{"port": 80, "nodePort": 30080}]),
                 "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'", id="service-node-port-cluster-ip"),
    pytest.param(new_service(type="Magic"),
                 'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
                 '"NodePort"', id="service-type"),
    pytest.param(new_service(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}]),
                 'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
                 'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}', id="service-duplicate-port"),
    pytest.param(new_object("Namespace", "team.a", namespaced=False),
                 f'metadata.name: Invalid value: "team.a": {LABEL_ERROR}', id="namespace-name-label"),
    pytest.param(new_object("ConfigMap", data={"bad key": "x"}),
                 "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', "
                 "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                 id="configmap-key"),
    pytest.param(new_object("Secret", data={"token": "not base64!"}),
                 'data[token]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3',
                 id="secret-not-base64"),
    pytest.param(new_object("Secret", type="kubernetes.io/tls", data={"tls.crt": "eA=="}), "data[tls.key]: Required value",
                 id="secret-tls-key-missing"),
    pytest.param(new_object("Lease", spec={"leaseDurationSeconds": 0}),
                 "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0", id="lease-duration"),
    pytest.param(new_object("Endpoints", subsets=[{"addresses": [{"ip": "10.0.0.300"}], "ports": [{"port": 80}]}]),
                 'subsets[0].addresses[0].ip: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or '
                 "2001:db8::ffff)", id="endpoints-ip"),
    pytest.param(new_object("Node", "node-1", namespaced=False, spec={"taints": [{"key": "k", "effect": "Sometimes"}]}),
                 'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", '
                 '"PreferNoSchedule", "NoExecute"', id="node-taint-effect"),
    pytest.param(new_object("Event", involvedObject={"kind": "Pod", "name": "web", "namespace": "other"}),
                 'involvedObject.namespace: Invalid value: "other": does not match event.namespace', id="event-namespace"),
    pytest.param({"kind": "Binding", "metadata": {"name": "web", "namespace": "default"}, "target": {"kind": "Pod"}},
                 "target.name: Required value", id="binding-target-name"),
]


@pytest.mark.parametrize(("obj", "expected"), BAD_INPUTS)
def test_bad_input_is_reported_with_kubernetes_field_and_message(obj, expected):
    assert expected in create_errors(obj)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(new_pod(), id="pod"),
        pytest.param(new_deployment(), id="deployment"),
        pytest.param(new_replica_set(), id="replicaset"),
        pytest.param(new_service(), id="service"),
        pytest.param(new_service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]), id="nodeport-service"),
        pytest.param(new_service(clusterIP="None", ports=[]), id="headless-service"),
        pytest.param(new_object("Namespace", "team-a", namespaced=False), id="namespace"),
        pytest.param(new_object("ConfigMap", data={"app.conf": "x=1"}), id="configmap"),
        pytest.param(new_object("Secret", stringData={"password": "hunter2"}), id="secret"),
        pytest.param(new_object("Lease", spec={"holderIdentity": "a", "leaseDurationSeconds": 15}), id="lease"),
        pytest.param(new_object("Node", "node-1", namespaced=False, status={"capacity": {"cpu": "2", "memory": "4Gi"}}),
                     id="node"),
    ],
)
def test_good_objects_pass(obj):
    assert create_errors(obj) == []


def test_invalid_status_message_reads_like_kubectl():
    pod = created(with_path(new_pod(), "spec.containers.0.resources", {"requests": {"cpu": "10x"}}))
    error = Invalid(kind="Pod", group="", name="web", errors=STRATEGIES["Pod"].validate(pod))
    assert error.message == (
        f'Pod "web" is invalid: spec.containers[0].resources.requests[cpu]: Invalid value: "10x": {QUANTITY_ERROR}'
    )
    assert error.to_status()["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "message": f'Invalid value: "10x": {QUANTITY_ERROR}',
        "field": "spec.containers[0].resources.requests[cpu]",
    }]


def test_deployment_without_selector_also_reports_the_template_as_unmatched():
    # A nil selector selects nothing; Kubernetes reports both problems.
    errors = create_errors(with_path(new_deployment(), "spec.selector", None))
    assert errors == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match '
        "template `labels`",
    ]


# ---------------------------------------------------------------- defaults


def test_minimal_deployment_defaults_match_kubernetes():
    """`kubectl create deployment web --image=nginx` then `kubectl get -o yaml`, on Kubernetes 1.32."""
    deployment = created({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}},
        },
    })
    assert deployment["spec"] == {
        "progressDeadlineSeconds": 600,
        "replicas": 1,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{
                    "image": "nginx",
                    "imagePullPolicy": "Always",
                    "name": "nginx",
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30,
            },
        },
    }
    assert deployment["status"] == {}
    assert STRATEGIES["Deployment"].validate(deployment) == []


def test_defaulting_is_idempotent():
    deployment = created(new_deployment())
    again = copy.deepcopy(deployment)
    STRATEGIES["Deployment"].default(again)
    assert again == deployment


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        pytest.param("nginx", "Always", id="no-tag"),
        pytest.param("nginx:latest", "Always", id="latest"),
        pytest.param("nginx:1.27", "IfNotPresent", id="tagged"),
        pytest.param("localhost:5000/team/app", "Always", id="registry-port-no-tag"),
        pytest.param("localhost:5000/team/app:v2", "IfNotPresent", id="registry-port-tag"),
        pytest.param("busybox@sha256:" + "a" * 64, "IfNotPresent", id="digest"),
        pytest.param("Nginx", "IfNotPresent", id="unparsable"),
    ],
)
def test_image_pull_policy_defaults_from_the_tag(image, policy):
    pod = created(new_pod(new_container(image=image)))
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_pod_defaults_and_status_on_create():
    pod = created(new_pod(new_container(
        ports=[{"containerPort": 80}],
        livenessProbe={"httpGet": {"port": 80}},
        resources={"limits": {"cpu": "0.5", "memory": "1024Mi"}},
    )))
    container = pod["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
    }
    # Quantities are stored in Kubernetes' spelling; requests default to limits on a Pod.
    assert container["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}
    assert pod["spec"]["enableServiceLinks"] is True
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        pytest.param({}, "BestEffort", id="none"),
        pytest.param({"requests": {"cpu": "100m"}}, "Burstable", id="requests-only"),
        pytest.param({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed", id="limits-only"),
        pytest.param({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}, "Burstable", id="requests-below"),
    ],
)
def test_pod_qos_class(resources, qos):
    assert created(new_pod(new_container(resources=resources)))["status"]["qosClass"] == qos


def test_service_defaults():
    service = created(new_service(type="NodePort", ports=[{"port": 80}]))
    assert service["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "NodePort",
        "sessionAffinity": "None",
        "externalTrafficPolicy": "Cluster",
        "internalTrafficPolicy": "Cluster",
    }
    assert service["status"] == {"loadBalancer": {}}


def test_secret_string_data_is_folded_into_data():
    secret = created(new_object("Secret", data={"user": "YWRtaW4="}, stringData={"password": "hunter2"}))
    assert secret == {"kind": "Secret", "metadata": {"name": "thing", "namespace": "default"}, "type": "Opaque",
                      "data": {"user": "YWRtaW4=", "password": "aHVudGVyMg=="}}


def test_namespace_defaults():
    namespace = created(new_object("Namespace", "team-a", namespaced=False))
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    assert namespace["status"] == {"phase": "Active"}


def test_node_allocatable_defaults_to_capacity():
    node = created(new_object("Node", "node-1", namespaced=False, status={"capacity": {"cpu": "2", "memory": "4096Mi"}}))
    assert node["status"]["allocatable"] == {"cpu": "2", "memory": "4Gi"}


# ---------------------------------------------------------------- updates


def stored(obj: dict, resource_version: str = "5") -> dict:
    obj = created(obj)
    obj["metadata"] |= {"uid": "u-1", "resourceVersion": resource_version, "creationTimestamp": "2025-01-01T00:00:00Z"}
    return obj


def test_pod_update_may_change_the_image():
    old = stored(new_pod())
    new = with_path(old, "spec.containers.0.image", "busybox:1.37")
    assert update_errors(new, old) == []


def test_pod_update_may_not_change_other_fields():
    old = stored(new_pod())
    new = with_path(old, "spec.restartPolicy", "Never")
    [message] = update_errors(new, old)
    assert message.startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
    )
    assert '+ restartPolicy: "Never"' in message


def test_pod_update_may_not_add_containers():
    old = stored(new_pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"].append(new_container(name="sidecar"))
    assert "spec.containers: Forbidden: pod updates may not add or remove containers" in update_errors(new, old)


def test_pod_update_may_add_tolerations_but_not_change_them():
    toleration = {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}
    old = stored(new_pod(tolerations=[toleration]))
    added = with_path(old, "spec.tolerations", [toleration, {"operator": "Exists"}])
    assert update_errors(added, old) == []
    changed = with_path(old, "spec.tolerations", [toleration | {"value": "web"}])
    assert "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds" in \
        update_errors(changed, old)


def test_deployment_selector_is_immutable():
    old = stored(new_deployment())
    new = created(new_deployment(labels={"app": "web2"}))
    new["metadata"] = copy.deepcopy(old["metadata"])
    assert update_errors(new, old) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
    ]


def test_object_name_is_immutable():
    old = stored(new_object("ConfigMap", data={"a": "1"}))
    new = with_path(old, "metadata.name", "renamed")
    assert 'metadata.name: Invalid value: "renamed": field is immutable' in update_errors(new, old)


def test_service_cluster_ip_may_not_change():
    old = stored(new_service(clusterIP="10.96.0.10"))
    new = with_path(old, "spec.clusterIP", "10.96.0.11")
    assert update_errors(new, old) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set',
    ]


def test_service_reapplied_without_allocated_values_keeps_them():
    old = stored(new_service(type="NodePort", ports=[{"name": "http", "port": 80}]))
    old["spec"] |= {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack"}
    old["spec"]["ports"][0]["nodePort"] = 30080
    resent = copy.deepcopy(new_service(type="NodePort", ports=[{"name": "http", "port": 80}]))
    resent["metadata"] = copy.deepcopy(old["metadata"])
    STRATEGIES["Service"].prepare_for_update(resent, old)
    assert resent["spec"]["clusterIP"] == "10.96.0.10"
    assert resent["spec"]["clusterIPs"] == ["10.96.0.10"]
    assert resent["spec"]["ports"][0]["nodePort"] == 30080
    assert update_errors(resent, old) == []


def test_service_switched_to_cluster_ip_drops_its_node_ports():
    old = stored(new_service(type="NodePort", ports=[{"port": 80}]))
    old["spec"]["ports"][0]["nodePort"] = 30080
    new = with_path(old, "spec.type", "ClusterIP")  # what `kubectl patch -p '{"spec":{"type":"ClusterIP"}}'` sends
    assert update_errors(new, old) == []
    STRATEGIES["Service"].prepare_for_update(new, old)
    assert "nodePort" not in new["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in new["spec"]


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "ReplicaSet", "Service", "Namespace", "Node"])
def test_updates_keep_status_and_status_updates_keep_spec(kind):
    strategy = STRATEGIES[kind]
    old = {"kind": kind, "metadata": {"name": "x"}, "spec": {"a": 1}, "status": {"phase": "Old"}}
    new = {"kind": kind, "metadata": {"name": "x"}, "spec": {"a": 2}, "status": {"phase": "New"}}
    main = copy.deepcopy(new)
    strategy.prepare_for_update(main, old)
    assert main["status"] == {"phase": "Old"}
    assert strategy.has_status
    status = copy.deepcopy(new)
    strategy.prepare_for_status_update(status, old)
    assert status["spec"] == {"a": 1}
    assert status["status"] == {"phase": "New"}


def test_deployment_status_update_keeps_labels():
    old = stored(new_deployment())
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"sneaky": "yes"}
    new["status"] = {"replicas": 1}
    STRATEGIES["Deployment"].prepare_for_status_update(new, old)
    assert new["metadata"].get("labels") == old["metadata"].get("labels")
    assert new["status"] == {"replicas": 1}


def test_deployment_annotation_change_bumps_generation():
    old = stored(new_deployment())
    old["metadata"]["generation"] = 3
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {"note": "x"}
    STRATEGIES["Deployment"].prepare_for_update(new, old)
    assert new["metadata"]["generation"] == 4


def test_pod_status_update_is_checked_for_immutable_qos():
    old = stored(new_pod())
    new = with_path(old, "status.qosClass", "Guaranteed")
    assert STRATEGIES["Pod"].validate_status_update(new, old)[0].message() == (
        'status.qosClass: Invalid value: "Guaranteed": field is immutable'
    )


# ---------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    ("meta", "namespaced", "expected"),
    [
        pytest.param({"generateName": "web-", "namespace": "default"}, True, [], id="generate-name-only"),
        pytest.param({"namespace": "default"}, True, ["metadata.name: Required value: name or generateName is required"],
                     id="no-name"),
        pytest.param({"name": "n", "namespace": "default"}, False, ["metadata.namespace: Forbidden: not allowed on this type"],
                     id="namespace-on-cluster-scoped"),
        pytest.param({"name": "n", "namespace": "default", "labels": {"-bad": "x"}}, True,
                     ["metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' "
                      "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                      "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"], id="label-key"),
        pytest.param({"name": "n", "namespace": "default", "finalizers": ["cleanup"]}, True,
                     ['metadata.finalizers[0]: Invalid value: "cleanup": name is neither a standard finalizer name nor is '
                      "it fully qualified"], id="unqualified-finalizer"),
    ],
)
def test_validate_object_meta(meta, namespaced, expected):
    assert [error.message() for error in validate_object_meta(meta, namespaced=namespaced)] == expected


def test_default_strategy_checks_metadata_only():
    assert DEFAULT_STRATEGY.validate({"metadata": {"name": "ok", "namespace": "default"}, "anything": 1}) == []
    assert STRATEGIES["Deployment"].kind == "Deployment"
