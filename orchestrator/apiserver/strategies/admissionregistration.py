"""Strategies for admissionregistration.k8s.io/v1 webhook configurations and apiregistration.k8s.io/v1 APIService.

Defaults and validation follow Kubernetes 1.32 (pkg/apis/admissionregistration/v1/defaults.go and
validation; kube-aggregator's apiregistration validation): webhook names are DNS subdomains of at
least three segments and unique in their configuration; rules name operations, groups, versions and
resources; exactly one of `url` (https) and `service`; sideEffects and admissionReviewVersions are
required in v1; timeouts are 1-30 s.

APIService status: kube-aggregator's availability controller writes it. This apiserver does not
proxy to extension apiservers, so it writes the condition itself on every write: Available=True for
a local APIService (no `spec.service`), False with reason `ServiceNotProxied` otherwise — honest about
what a client will get, where Kubernetes would probe the Service.

Used by: orchestrator/apiserver/strategies/__init__.py (STRATEGIES).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from orchestrator.api.errors import FieldError, duplicate, invalid, not_supported, required
from orchestrator.api.names import is_dns1123_subdomain
from orchestrator.apiserver.strategies.base import Strategy
from orchestrator.apiserver.strategies.meta import validate_label_selector

OPERATIONS = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]
SCOPES = ["*", "Cluster", "Namespaced"]
FAILURE_POLICIES = ["Fail", "Ignore"]
MATCH_POLICIES = ["Equivalent", "Exact"]
SIDE_EFFECTS = ["None", "NoneOnDryRun"]
REINVOCATION_POLICIES = ["IfNeeded", "Never"]
REVIEW_VERSIONS = ["v1", "v1beta1"]


def default_webhook(webhook: dict, *, mutating: bool) -> None:
    webhook.setdefault("failurePolicy", "Fail")
    webhook.setdefault("matchPolicy", "Equivalent")
    webhook.setdefault("namespaceSelector", {})
    webhook.setdefault("objectSelector", {})
    webhook.setdefault("timeoutSeconds", 10)
    if mutating:
        webhook.setdefault("reinvocationPolicy", "Never")
    for rule in webhook.get("rules") or []:
        rule.setdefault("scope", "*")
    service = (webhook.get("clientConfig") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", 443)


def validate_rule(rule: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    operations = rule.get("operations") or []
    if not operations:
        errors.append(required(f"{path}.operations"))
    for index, operation in enumerate(operations):
        if operation not in OPERATIONS:
            errors.append(not_supported(f"{path}.operations[{index}]", operation, OPERATIONS))
    for key in ("apiGroups", "apiVersions", "resources"):
        if not rule.get(key):
            errors.append(required(f"{path}.{key}"))
    for index, version in enumerate(rule.get("apiVersions") or []):
        if version == "":
            errors.append(required(f"{path}.apiVersions[{index}]", "version must not be empty"))
    scope = rule.get("scope")
    if scope is not None and scope not in SCOPES:
        errors.append(not_supported(f"{path}.scope", scope, SCOPES))
    return errors


def validate_client_config(config: Mapping[str, Any] | None, path: str) -> list[FieldError]:
    config = config or {}
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        return [required(path, "exactly one of url or service is required")]
    errors: list[FieldError] = []
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https":
            errors.append(invalid(f"{path}.url", url, "'https' is the only allowed URL scheme"))
        if not parts.hostname:
            errors.append(invalid(f"{path}.url", url, "host must be specified"))
        if parts.fragment:
            errors.append(invalid(f"{path}.url", url, "fragments are not permitted"))
        if parts.query:
            errors.append(invalid(f"{path}.url", url, "query parameters are not permitted"))
    else:
        for key in ("name", "namespace"):
            if not service.get(key):
                errors.append(required(f"{path}.service.{key}", f"service {key} is required"))
        port = service.get("port")
        if port is not None and not 1 <= port <= 65535:
            errors.append(invalid(f"{path}.service.port", port, "port is not valid: must be between 1 and 65535"))
        service_path = service.get("path")
        if service_path is not None and not service_path.startswith("/"):
            errors.append(invalid(f"{path}.service.path", service_path, "must start with a '/'"))
    return errors


def validate_webhook(webhook: Mapping[str, Any], path: str, *, mutating: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    name = webhook.get("name") or ""
    if not name:
        errors.append(required(f"{path}.name"))
    else:
        errors += [invalid(f"{path}.name", name, message) for message in is_dns1123_subdomain(name)]
        if len(name.split(".")) < 3:
            errors.append(invalid(f"{path}.name", name, "should be a domain with at least three segments separated by dots"))
    for index, rule in enumerate(webhook.get("rules") or []):
        errors += validate_rule(rule, f"{path}.rules[{index}]")
    choices = [("failurePolicy", FAILURE_POLICIES), ("matchPolicy", MATCH_POLICIES)]
    if mutating:
        choices.append(("reinvocationPolicy", REINVOCATION_POLICIES))
    for key, supported in choices:
        value = webhook.get(key)
        if value is not None and value not in supported:
            errors.append(not_supported(f"{path}.{key}", value, supported))
    side_effects = webhook.get("sideEffects")
    if side_effects is None:
        errors.append(required(f"{path}.sideEffects", "must specify one of " + ", ".join(SIDE_EFFECTS)))
    elif side_effects not in SIDE_EFFECTS:
        errors.append(not_supported(f"{path}.sideEffects", side_effects, SIDE_EFFECTS))
    timeout = webhook.get("timeoutSeconds")
    if timeout is not None and not 1 <= timeout <= 30:
        errors.append(invalid(f"{path}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"))
    versions = webhook.get("admissionReviewVersions") or []
    if not any(version in REVIEW_VERSIONS for version in versions):
        errors.append(required(f"{path}.admissionReviewVersions",
                               "must specify one of " + ", ".join(REVIEW_VERSIONS)))
    for key in ("namespaceSelector", "objectSelector"):
        if webhook.get(key) is not None:
            errors += validate_label_selector(webhook[key], f"{path}.{key}")
    errors += validate_client_config(webhook.get("clientConfig"), f"{path}.clientConfig")
    return errors


class _WebhookConfigurationStrategy(Strategy):
    namespaced = False
    mutating = False

    def default(self, configuration: dict) -> None:
        for webhook in configuration.get("webhooks") or []:
            if isinstance(webhook, dict):
                default_webhook(webhook, mutating=self.mutating)

    def validate(self, configuration: dict) -> list[FieldError]:
        errors = self.validate_metadata(configuration)
        seen: set[str] = set()
        for index, webhook in enumerate(configuration.get("webhooks") or []):
            path = f"webhooks[{index}]"
            errors += validate_webhook(webhook, path, mutating=self.mutating)
            name = webhook.get("name")
            if name and name in seen:
                errors.append(duplicate(f"{path}.name", name))
            seen.add(name)
        return errors


class ValidatingWebhookConfigurationStrategy(_WebhookConfigurationStrategy):
    kind = "ValidatingWebhookConfiguration"


class MutatingWebhookConfigurationStrategy(_WebhookConfigurationStrategy):
    kind = "MutatingWebhookConfiguration"
    mutating = True


# ----- APIService ----------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def availability(api_service: Mapping[str, Any]) -> dict:
    """The Available condition this apiserver can truthfully report for an APIService."""
    service = (api_service.get("spec") or {}).get("service")
    if service is None:
        return {"type": "Available", "status": "True", "reason": "Local", "message": "Local APIServices are always available"}
    return {"type": "Available", "status": "False", "reason": "ServiceNotProxied",
            "message": f'service/{service.get("name", "")} in "{service.get("namespace", "")}" is not proxied: '
                       "this cluster does not aggregate extension apiservers yet"}


class APIServiceStrategy(Strategy):
    kind = "APIService"
    namespaced = False
    has_status = True

    def default(self, api_service: dict) -> None:
        service = (api_service.get("spec") or {}).get("service")
        if isinstance(service, dict):
            service.setdefault("port", 443)

    def _set_available(self, api_service: dict, old: Mapping[str, Any] | None) -> None:
        condition = availability(api_service)
        previous = next((c for c in ((old or {}).get("status") or {}).get("conditions") or []
                         if c.get("type") == "Available"), None)
        if previous and previous.get("status") == condition["status"]:
            condition["lastTransitionTime"] = previous.get("lastTransitionTime") or _now()
        else:
            condition["lastTransitionTime"] = _now()
        api_service["status"] = {"conditions": [condition]}

    def prepare_for_create(self, api_service: dict) -> None:
        self._set_available(api_service, None)

    def prepare_for_update(self, new: dict, old: dict) -> None:
        self._set_available(new, old)

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        super().prepare_for_status_update(new, old)
        self._set_available(new, old)

    def validate(self, api_service: dict) -> list[FieldError]:
        errors = self.validate_metadata(api_service)
        spec = api_service.get("spec") or {}
        name = (api_service.get("metadata") or {}).get("name") or ""
        version, group = spec.get("version") or "", spec.get("group") or ""
        expected = f"{version}.{group}" if group else f"{version}."
        if name and name != expected:
            errors.append(invalid("metadata.name", name, f'must be `spec.version+"."+spec.group`: "{expected}"'))
        if not version:
            errors.append(required("spec.version"))
        minimum, priority = spec.get("groupPriorityMinimum"), spec.get("versionPriority")
        if minimum is None or not 1 <= minimum <= 20000:
            errors.append(invalid("spec.groupPriorityMinimum", minimum, "must be positive and less than 20000"))
        if priority is None or not 1 <= priority <= 1000:
            errors.append(invalid("spec.versionPriority", priority, "must be positive and less than 1000"))
        service = spec.get("service")
        if service is None:
            if spec.get("caBundle"):
                errors.append(invalid("spec.caBundle", spec["caBundle"], "local APIServices may not have a caBundle"))
            if spec.get("insecureSkipTLSVerify"):
                errors.append(invalid("spec.insecureSkipTLSVerify", True,
                                      "local APIServices may not have insecureSkipTLSVerify"))
        else:
            for key in ("namespace", "name"):
                if not service.get(key):
                    errors.append(required(f"spec.service.{key}"))
            port = service.get("port")
            if port is not None and not 1 <= port <= 65535:
                errors.append(invalid("spec.service.port", port, "port is not valid: must be between 1 and 65535"))
            if spec.get("insecureSkipTLSVerify") and spec.get("caBundle"):
                errors.append(invalid("spec.insecureSkipTLSVerify", True,
                                      "may not be true if caBundle is present"))
        return errors
