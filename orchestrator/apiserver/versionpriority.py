"""Kubernetes' version priority (apimachinery's CompareKubeAwareVersionStrings), for ordering served versions.

GA versions (`v2`, `v1`) come first, newest first; then betas (`v2beta1`, `v1beta2`, `v1beta1`), then alphas,
then anything else in name order. Discovery lists a group's versions in this order and the first is the
preferred one, so `kubectl get shapes` uses v1 when a CRD serves v1beta1 and v1.

Used by registry.py (the order of custom resources' group-versions).
"""

from __future__ import annotations

import re

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STABILITY = {None: 0, "beta": 1, "alpha": 2}


def version_order(version: str) -> tuple:
    """A sort key: lower sorts first (higher priority)."""
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (3, 0, 0, version)
    major, stability, minor = match.groups()
    return (_STABILITY[stability], -int(major), -int(minor or 0), "")


def group_version_order(group_version: str) -> tuple:
    group, _, version = group_version.rpartition("/")
    return (group, version_order(version))
