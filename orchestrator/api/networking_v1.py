"""The networking.k8s.io/v1 kinds: Ingress, IngressClass and NetworkPolicy.

An Ingress maps HTTP hosts and paths to Services; the ingress controller of its
IngressClass (orchestrator/ingress/) turns them into proxy configuration and writes
`status.loadBalancer`. NetworkPolicy is stored and validated only: no component
enforces it yet (pods on a Docker bridge reach each other freely).

Used by: the apiserver (validation, OpenAPI, tables) and orchestrator/ingress/.
"""

from __future__ import annotations

from pydantic import Field, StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import Condition, IntOrString, LabelSelector, ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.networking.v1"

DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
# The annotation Kubernetes read before spec.ingressClassName existed; still honoured.
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


class TypedLocalObjectReference(K8sModel):
    """A reference to an object in the same namespace, by API group, kind and name."""

    api_group: StrictStr | None = None
    kind: StrictStr
    name: StrictStr


class ServiceBackendPort(K8sModel):
    """A Service port, by name or by number (exactly one)."""

    name: StrictStr | None = None
    number: StrictInt | None = None


class IngressServiceBackend(K8sModel):
    name: StrictStr
    port: ServiceBackendPort | None = None


class IngressBackend(K8sModel):
    """Where matching requests go: a Service port, or another object (resource)."""

    service: IngressServiceBackend | None = None
    resource: TypedLocalObjectReference | None = None


class HTTPIngressPath(K8sModel):
    path: StrictStr | None = None
    path_type: StrictStr | None = None
    backend: IngressBackend


class HTTPIngressRuleValue(K8sModel):
    paths: list[HTTPIngressPath]


class IngressRule(K8sModel):
    host: StrictStr | None = None
    http: HTTPIngressRuleValue | None = None


class IngressTLS(K8sModel):
    hosts: list[StrictStr] | None = None
    secret_name: StrictStr | None = None


class IngressSpec(K8sModel):
    ingress_class_name: StrictStr | None = None
    default_backend: IngressBackend | None = None
    tls: list[IngressTLS] | None = None
    rules: list[IngressRule] | None = None


class IngressPortStatus(K8sModel):
    port: StrictInt
    protocol: StrictStr
    error: StrictStr | None = None


class IngressLoadBalancerIngress(K8sModel):
    ip: StrictStr | None = None
    hostname: StrictStr | None = None
    ports: list[IngressPortStatus] | None = None


class IngressLoadBalancerStatus(K8sModel):
    ingress: list[IngressLoadBalancerIngress] | None = None


class IngressStatus(K8sModel):
    load_balancer: IngressLoadBalancerStatus | None = None


class Ingress(K8sModel):
    """HTTP(S) routes from hosts and paths to Services, served by an ingress controller."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: IngressSpec | None = None
    status: IngressStatus | None = None


class IngressClassParametersReference(K8sModel):
    api_group: StrictStr | None = None
    kind: StrictStr
    name: StrictStr
    scope: StrictStr | None = None
    namespace: StrictStr | None = None


class IngressClassSpec(K8sModel):
    controller: StrictStr | None = None
    parameters: IngressClassParametersReference | None = None


class IngressClass(K8sModel):
    """Names the controller that serves the Ingresses of this class (cluster-scoped)."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: IngressClassSpec | None = None


class IPBlock(K8sModel):
    cidr: StrictStr
    except_: list[StrictStr] | None = Field(None, alias="except")


class NetworkPolicyPeer(K8sModel):
    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


class NetworkPolicyPort(K8sModel):
    protocol: StrictStr | None = None
    port: IntOrString | None = None
    end_port: StrictInt | None = None


class NetworkPolicyIngressRule(K8sModel):
    ports: list[NetworkPolicyPort] | None = None
    from_: list[NetworkPolicyPeer] | None = Field(None, alias="from")


class NetworkPolicyEgressRule(K8sModel):
    ports: list[NetworkPolicyPort] | None = None
    to: list[NetworkPolicyPeer] | None = None


class NetworkPolicySpec(K8sModel):
    pod_selector: LabelSelector | None = None
    ingress: list[NetworkPolicyIngressRule] | None = None
    egress: list[NetworkPolicyEgressRule] | None = None
    policy_types: list[StrictStr] | None = None


class NetworkPolicyStatus(K8sModel):
    conditions: list[Condition] | None = None


class NetworkPolicy(K8sModel):
    """Which traffic pods may receive and send; stored and validated, not enforced here."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: NetworkPolicySpec | None = None


MODELS: dict[str, type[K8sModel]] = {"Ingress": Ingress, "IngressClass": IngressClass, "NetworkPolicy": NetworkPolicy}
