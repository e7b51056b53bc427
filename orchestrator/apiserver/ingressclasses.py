"""The default IngressClass and Kubernetes' DefaultIngressClass admission plugin.

`ensure_default_ingress_class` runs once at apiserver start-up (app.py lifespan) and creates the
IngressClass `orc-nginx` (controller `orchestrator.io/ingress-nginx`, marked default by the
`ingressclass.kubernetes.io/is-default-class` annotation) unless one of that name exists. Not
`nginx`: that is the class the ingress-nginx install manifest creates (with its own, immutable
controller name), and it must apply here as on Kubernetes. Deleting or un-defaulting it is respected
until the next start-up only if the object is gone, as Kubernetes' own bootstrap objects.

`DefaultIngressClassAdmission.check` is one of RestHandler.write_checks: an Ingress created
without spec.ingressClassName (and without the deprecated kubernetes.io/ingress.class annotation)
gets the name of the default class; with several defaults, the newest wins (Kubernetes >= 1.30).
"""

from __future__ import annotations

import time
import uuid

from orchestrator.apiserver.storage import KeyExists

DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_NAME = "orc-nginx"  # not "nginx": the ingress-nginx install manifest brings that one
CONTROLLER_NAME = "orchestrator.io/ingress-nginx"


def default_ingress_class() -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": DEFAULT_CLASS_NAME, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
                     "labels": {"app.kubernetes.io/component": "controller"}},
        "spec": {"controller": CONTROLLER_NAME},
    }


async def ensure_default_ingress_class(storage, clock=time.time) -> None:
    body = default_ingress_class()
    body["metadata"]["uid"] = str(uuid.uuid4())
    body["metadata"]["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock()))
    try:
        await storage.create(storage.key("ingressclasses", None, DEFAULT_CLASS_NAME), body)
    except KeyExists:
        pass


def is_default_class(ingress_class: dict) -> bool:
    annotations = (ingress_class.get("metadata") or {}).get("annotations") or {}
    return annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"


def pick_default_class(ingress_classes: list[dict]) -> str | None:
    """The name an Ingress without a class gets: the newest default class (name breaks ties)."""
    defaults = [c for c in ingress_classes if is_default_class(c)]
    if not defaults:
        return None
    newest = max(defaults, key=lambda c: ((c["metadata"].get("creationTimestamp") or ""), c["metadata"]["name"]))
    return newest["metadata"]["name"]


class DefaultIngressClassAdmission:
    def __init__(self, cache):
        self.cache = cache

    async def check(self, request, target, obj: dict, old: dict | None) -> None:
        if target.info.kind != "Ingress" or target.info.group != "networking.k8s.io" or old is not None:
            return
        spec = obj.setdefault("spec", {})
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if spec.get("ingressClassName") or LEGACY_CLASS_ANNOTATION in annotations:
            return
        classes, _ = self.cache.snapshot("ingressclasses")
        name = pick_default_class(classes)
        if name:
            spec["ingressClassName"] = name
