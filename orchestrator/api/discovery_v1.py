"""The discovery.k8s.io/v1 EndpointSlice kind: a Service's endpoints, in the shape kubectl reads.

kubectl 1.32 (`describe service`) and modern clients read EndpointSlices rather than
Endpoints; the endpointslice controller mirrors every Endpoints object into one.

Used by: the apiserver (validation, OpenAPI) and controllers/endpointslice.py.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictInt, StrictStr

from orchestrator.api.base import K8sModel
from orchestrator.api.core_v1 import ObjectReference
from orchestrator.api.meta import ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.discovery.v1"


class EndpointConditions(K8sModel):
    ready: StrictBool | None = None
    serving: StrictBool | None = None
    terminating: StrictBool | None = None


class Endpoint(K8sModel):
    addresses: list[StrictStr]
    conditions: EndpointConditions | None = None
    hostname: StrictStr | None = None
    target_ref: ObjectReference | None = None
    node_name: StrictStr | None = None
    zone: StrictStr | None = None
    deprecated_topology: dict[str, str] | None = None
    hints: dict | None = None


class EndpointPort(K8sModel):
    name: StrictStr | None = None
    protocol: StrictStr | None = None
    port: StrictInt | None = None
    app_protocol: StrictStr | None = None


class EndpointSlice(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    address_type: StrictStr
    endpoints: list[Endpoint] | None = None
    ports: list[EndpointPort] | None = None


MODELS: dict[str, type[K8sModel]] = {"EndpointSlice": EndpointSlice}
