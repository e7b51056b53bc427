"""The apiregistration.k8s.io/v1 APIService kind: an API group version served by another server.

`metadata.name` is `VERSION.GROUP`; `spec.service` names the Service of the extension apiserver
(metrics-server registers `v1beta1.metrics.k8s.io` this way); `status.conditions[Available]` says
whether the aggregator can reach it.

This cluster stores and validates APIServices; it does not proxy to extension apiservers yet, so a
Service-backed one is reported Available=False (see strategies/apiregistration.py).

Used by: the apiserver (validation, OpenAPI) through registry.py.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.meta import ObjectMeta, Time

OPENAPI_PACKAGE = "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1"


class ServiceReference(K8sModel):
    namespace: StrictStr | None = None
    name: StrictStr | None = None
    port: StrictInt | None = None


class APIServiceSpec(K8sModel):
    service: ServiceReference | None = None
    group: StrictStr | None = None
    version: StrictStr | None = None
    insecure_skip_tls_verify: StrictBool | None = None
    ca_bundle: StrictStr | None = None
    group_priority_minimum: StrictInt | None = None
    version_priority: StrictInt | None = None


class APIServiceCondition(K8sModel):
    type: StrictStr | None = None
    status: StrictStr | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class APIServiceStatus(K8sModel):
    conditions: list[APIServiceCondition] | None = None


class APIService(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: APIServiceSpec | None = None
    status: APIServiceStatus | None = None


MODELS: dict[str, type[K8sModel]] = {"APIService": APIService}
