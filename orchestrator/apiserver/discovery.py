"""Discovery documents: /api, /apis, /api/v1, /apis/<group>/<version>, /version.

kubectl reads these to map `deploy`, `po`, `svc` to resources, to know the verbs and
to find the subresources (`deployments/scale`). They are legacy (non-aggregated)
discovery documents; kubectl 1.32 asks for aggregated discovery first and falls back
to these when the server answers with plain `application/json`.

Built from the registry; used by `app.py`.
"""

from __future__ import annotations

from orchestrator.apiserver.registry import GROUP_VERSIONS, Registry

GIT_VERSION = "v1.32.0-orc"


def version_info() -> dict:
    import platform

    return {
        "major": "1",
        "minor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-25T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"{platform.system().lower()}/{platform.machine()}",
    }


def api_versions(server_address: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(group_version: str) -> dict:
    group, version = group_version.split("/")
    gv = {"groupVersion": group_version, "version": version}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def _groups(group_versions) -> list[dict]:
    """One entry per group; a group served in several versions (autoscaling v2 and v1) lists them all,
    the first one listed being the preferred one."""
    groups: dict[str, dict] = {}
    for gv in group_versions:
        if "/" not in gv:
            continue
        entry = _group(gv)
        if entry["name"] in groups:
            groups[entry["name"]]["versions"] += entry["versions"]
        else:
            groups[entry["name"]] = entry
    return list(groups.values())


def api_group_list(registry: Registry | None = None) -> dict:
    group_versions = registry.group_versions() if registry is not None else GROUP_VERSIONS
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": _groups(group_versions)}


def api_group(group: str, registry: Registry | None = None) -> dict | None:
    for entry in _groups(registry.group_versions() if registry is not None else GROUP_VERSIONS):
        if entry["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **entry}
    return None


_SUBRESOURCE_VERBS = {
    "status": (["get", "patch", "update"], None),
    "scale": (["get", "patch", "update"], ("autoscaling", "v1", "Scale")),
    "binding": (["create"], ("", "v1", "Binding")),
    "log": (["get"], ("", "v1", "Pod")),
    "exec": (["create", "get"], ("", "v1", "PodExecOptions")),
    "portforward": (["create", "get"], ("", "v1", "PodPortForwardOptions")),
    "eviction": (["create"], ("policy", "v1", "Eviction")),
    "proxy": (["create", "delete", "get", "patch", "update"], None),
    "finalize": (["update"], None),
    "token": (["create"], ("authentication.k8s.io", "v1", "TokenRequest")),
}


def api_resource_list(registry: Registry, group_version: str) -> dict | None:
    resources = registry.in_group_version(group_version)
    if not resources:
        return None
    entries = []
    for info in resources:
        entry = {
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": list(info.verbs),
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.categories:
            entry["categories"] = list(info.categories)
        entries.append(entry)
        for sub in info.subresources:
            verbs, gvk = _SUBRESOURCE_VERBS[sub]
            sub_entry = {"name": f"{info.plural}/{sub}", "singularName": "", "namespaced": info.namespaced,
                         "kind": gvk[2] if gvk else info.kind, "verbs": verbs}
            if gvk and gvk[0] != info.group:
                sub_entry["group"], sub_entry["version"] = gvk[0], gvk[1]
            entries.append(sub_entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}
