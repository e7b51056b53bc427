"""The admissionregistration.k8s.io/v1 kinds: Validating- and MutatingWebhookConfiguration.

A configuration lists webhooks: where to call (a URL or a Service), which requests (rules on
operations, groups, versions, resources and scope, plus namespace and object selectors) and what
to do when the call fails. Install manifests (ingress-nginx, cert-manager, ...) ship them.

This cluster stores and validates them; it does not call webhooks yet (see the README).

Used by: the apiserver (validation, OpenAPI) through registry.py.
"""

from __future__ import annotations

from pydantic import StrictInt, StrictStr

from orchestrator.api.base import K8sModel, merge_list
from orchestrator.api.meta import LabelSelector, ObjectMeta

OPENAPI_PACKAGE = "io.k8s.api.admissionregistration.v1"


class ServiceReference(K8sModel):
    """The Service a webhook is reached through (port 443 by default)."""

    namespace: StrictStr | None = None
    name: StrictStr | None = None
    path: StrictStr | None = None
    port: StrictInt | None = None


class WebhookClientConfig(K8sModel):
    """Exactly one of `url` and `service`; `caBundle` verifies the webhook's serving certificate."""

    url: StrictStr | None = None
    service: ServiceReference | None = None
    ca_bundle: StrictStr | None = None  # base64, as []byte is in JSON


class RuleWithOperations(K8sModel):
    operations: list[StrictStr] | None = None
    api_groups: list[StrictStr] | None = None
    api_versions: list[StrictStr] | None = None
    resources: list[StrictStr] | None = None
    scope: StrictStr | None = None


class MatchCondition(K8sModel):
    name: StrictStr | None = None
    expression: StrictStr | None = None


class ValidatingWebhook(K8sModel):
    name: StrictStr | None = None
    client_config: WebhookClientConfig | None = None
    rules: list[RuleWithOperations] | None = None
    failure_policy: StrictStr | None = None
    match_policy: StrictStr | None = None
    namespace_selector: LabelSelector | None = None
    object_selector: LabelSelector | None = None
    side_effects: StrictStr | None = None
    timeout_seconds: StrictInt | None = None
    admission_review_versions: list[StrictStr] | None = None
    match_conditions: list[MatchCondition] | None = None


class MutatingWebhook(ValidatingWebhook):
    reinvocation_policy: StrictStr | None = None


class ValidatingWebhookConfiguration(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    webhooks: list[ValidatingWebhook] | None = merge_list("name")


class MutatingWebhookConfiguration(K8sModel):
    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    webhooks: list[MutatingWebhook] | None = merge_list("name")


MODELS: dict[str, type[K8sModel]] = {
    "ValidatingWebhookConfiguration": ValidatingWebhookConfiguration,
    "MutatingWebhookConfiguration": MutatingWebhookConfiguration,
}
