"""Per-kind defaulting, validation and status/spec separation for the apiserver's write path.

`STRATEGIES` maps a Kind to its `Strategy` (see base.py for the hooks and the order the
REST layer calls them in); kinds without rules of their own use `DEFAULT_STRATEGY`.
`validate_object_meta` / `validate_object_meta_update` are the metadata checks every
kind shares. Messages and field paths are Kubernetes v1.32's, so kubectl users see
the errors they know.

Used by: orchestrator/apiserver/registry.py (ResourceInfo.strategy) and rest.py.
"""

from __future__ import annotations

from orchestrator.apiserver.strategies.admissionregistration import (
    APIServiceStrategy,
    MutatingWebhookConfigurationStrategy,
    ValidatingWebhookConfigurationStrategy,
)
from orchestrator.apiserver.strategies.apiextensions import CustomResourceDefinitionStrategy
from orchestrator.apiserver.strategies.apps import DaemonSetStrategy, DeploymentStrategy, ReplicaSetStrategy
from orchestrator.apiserver.strategies.autoscaling import HorizontalPodAutoscalerStrategy
from orchestrator.apiserver.strategies.base import DefaultStrategy, Strategy
from orchestrator.apiserver.strategies.batch import CronJobStrategy, JobStrategy
from orchestrator.apiserver.strategies.coordination import LeaseStrategy
from orchestrator.apiserver.strategies.core import (
    BindingStrategy,
    ConfigMapStrategy,
    EndpointsStrategy,
    EventStrategy,
    NamespaceStrategy,
    NodeStrategy,
    PodStrategy,
    SecretStrategy,
    ServiceStrategy,
)
from orchestrator.apiserver.strategies.meta import validate_object_meta, validate_object_meta_update
from orchestrator.apiserver.strategies.networking import IngressClassStrategy, IngressStrategy, NetworkPolicyStrategy
from orchestrator.apiserver.strategies.policy import PodDisruptionBudgetStrategy, PriorityClassStrategy
from orchestrator.apiserver.strategies.rbac import RBAC_STRATEGIES
from orchestrator.apiserver.strategies.storage import STORAGE_STRATEGIES

STRATEGIES: dict[str, Strategy] = {
    strategy.kind: strategy
    for strategy in (
        PodStrategy(),
        ServiceStrategy(),
        NamespaceStrategy(),
        NodeStrategy(),
        ConfigMapStrategy(),
        SecretStrategy(),
        EndpointsStrategy(),
        EventStrategy(),
        BindingStrategy(),
        DeploymentStrategy(),
        ReplicaSetStrategy(),
        DaemonSetStrategy(),
        JobStrategy(),
        CronJobStrategy(),
        LeaseStrategy(),
        *RBAC_STRATEGIES,
        IngressStrategy(),
        IngressClassStrategy(),
        NetworkPolicyStrategy(),
        ValidatingWebhookConfigurationStrategy(),
        MutatingWebhookConfigurationStrategy(),
        APIServiceStrategy(),
        CustomResourceDefinitionStrategy(),
        HorizontalPodAutoscalerStrategy(),
        PodDisruptionBudgetStrategy(),
        PriorityClassStrategy(),
        *STORAGE_STRATEGIES,
    )
}

DEFAULT_STRATEGY = DefaultStrategy()

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "DefaultStrategy",
    "Strategy",
    "validate_object_meta",
    "validate_object_meta_update",
]
