"""Which resource a user means: discovery-based kind resolution, like kubectl's RESTMapper.

`Discovery` reads the apiserver's discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<g>/<v>`)
once and keeps them in a small on-disk cache (`~/.cache/orc/discovery/`, cli/client/cache.py; six
hours, refreshed at once when a name is not found), so that `orc get pods` costs one request. `resolve("deploy")` accepts
what kubectl accepts: plural (`pods`), singular (`pod`), short name (`po`), kind (`Pod`),
group-qualified (`deployments.apps`, `deployments.v1.apps`); an unknown name is kubectl's
`the server doesn't have a resource type "x"`, with a "did you mean" when something is close.
`for_kind` maps a manifest's apiVersion/kind to its resource.

Used by every verb that names resources (get, delete, describe, apply, scale, ...).
"""

from __future__ import annotations

import json
import os
import time
from collections import namedtuple

from cli.client.cache import cache_dir, cache_file_name
from cli.client.errors import CliError
from orchestrator.client.resources import Resource

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs `orc get` start-up time
if TYPE_CHECKING:
    from cli.client.api import ApiClient

CACHE_TTL_SECONDS = 6 * 3600
CACHE_FORMAT = 1


_API_RESOURCE_FIELDS = ("group", "version", "name", "singular", "kind", "namespaced",
                        "verbs", "short_names", "categories", "subresources")


class ApiResource(namedtuple("ApiResource", _API_RESOURCE_FIELDS, defaults=((), (), (), ()))):
    """One resource as discovery describes it: group, version, name (the plural: `deployments`), singular,
    kind, namespaced, and tuples of verbs, short names, categories and subresources.

    A named tuple rather than a dataclass: every `orc` command imports this module at start-up, where
    importing dataclasses and building a frozen one cost milliseconds; a named tuple costs a fraction.
    """

    __slots__ = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> str:
        """How kubectl prefixes names: `deployment.apps`, `pod`."""
        kind = self.kind.lower()
        return f"{kind}.{self.group}" if self.group else kind

    @property
    def qualified_name(self) -> str:
        """How Kubernetes names the resource in messages: `deployments.apps`, `pods`."""
        return f"{self.name}.{self.group}" if self.group else self.name

    @property
    def kind_with_group(self) -> str:
        """`Deployment.apps`, `Pod`: how kubectl names a kind in `Warning:` lines."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The URL path of the collection or of one object (cluster-scoped resources ignore the namespace)."""
        resource = Resource(self.group, self.version, self.name, self.kind, self.namespaced)
        return resource.path(namespace if self.namespaced else None, name, subresource)

    def object_ref(self, name: str) -> str:
        """`deployment.apps/web`: how kubectl prints an object it acted on."""
        return f"{self.group_kind}/{name}"


def _cache_file(server: str) -> str:
    return os.path.join(cache_dir("discovery"), cache_file_name(server.split("://", 1)[-1]))


def _parse_resource_list(document: dict, *, group: str, version: str) -> list[ApiResource]:
    entries = document.get("resources") or []
    subresources: dict[str, list[str]] = {}
    for entry in entries:
        if "/" in entry.get("name", ""):
            parent, sub = entry["name"].split("/", 1)
            subresources.setdefault(parent, []).append(sub)
    resources = []
    for entry in entries:
        name = entry.get("name", "")
        if not name or "/" in name:
            continue
        resources.append(ApiResource(
            group=group, version=version, name=name, singular=entry.get("singularName") or entry.get("kind", "").lower(),
            kind=entry.get("kind", ""), namespaced=bool(entry.get("namespaced")), verbs=tuple(entry.get("verbs") or ()),
            short_names=tuple(entry.get("shortNames") or ()), categories=tuple(entry.get("categories") or ()),
            subresources=tuple(subresources.get(name, ())),
        ))
    return resources


class Discovery:
    """The resources the apiserver serves, in discovery order, and name resolution over them."""

    def __init__(self, client: ApiClient, *, use_cache: bool = True):
        self.client = client
        self.use_cache = use_cache
        self._resources: list[ApiResource] | None = None
        self._fresh = False  # fetched from the server during this command

    # --- loading ---------------------------------------------------------------------------

    def resources(self) -> list[ApiResource]:
        if self._resources is None:
            self._resources = (self._read_cache() if self.use_cache else None) or self._fetch()
        return self._resources

    def refresh(self) -> bool:
        """Fetch discovery again unless this command already did; True if it was refetched."""
        if self._fresh:
            return False
        self._resources = self._fetch()
        return True

    def _fetch(self) -> list[ApiResource]:
        resources: list[ApiResource] = []
        core = self.client.get("/api") or {}
        for version in core.get("versions") or []:
            resources += _parse_resource_list(self.client.get(f"/api/{version}") or {}, group="", version=version)
        groups = (self.client.get("/apis") or {}).get("groups") or []
        for group in groups:
            preferred = (group.get("preferredVersion") or {}).get("version")
            versions = [entry.get("version") for entry in group.get("versions") or [] if entry.get("version")]
            # The preferred version first: resolution picks the first match, as kubectl's mapper does.
            for version in sorted(versions, key=lambda v: v != preferred):
                document = self.client.get(f"/apis/{group['name']}/{version}") or {}
                resources += _parse_resource_list(document, group=group["name"], version=version)
        self._fresh = True
        if self.use_cache:
            self._write_cache(resources)
        return resources

    def _read_cache(self) -> list[ApiResource] | None:
        try:
            with open(_cache_file(self.client.config.server), "rb") as cache_file:
                document = json.loads(cache_file.read())
        except (OSError, ValueError):
            return None
        if document.get("format") != CACHE_FORMAT or time.time() - document.get("fetched", 0) > CACHE_TTL_SECONDS:
            return None
        try:
            return [ApiResource(**{key: tuple(value) if isinstance(value, list) else value
                                   for key, value in entry.items()}) for entry in document["resources"]]
        except (KeyError, TypeError):
            return None

    def _write_cache(self, resources: list[ApiResource]) -> None:
        path = _cache_file(self.client.config.server)
        document = {"format": CACHE_FORMAT, "fetched": time.time(), "server": self.client.config.server,
                    "resources": [resource._asdict() for resource in resources]}
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as temporary_file:
                temporary_file.write(json.dumps(document))
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only home only costs a few requests next time

    # --- resolution --------------------------------------------------------------------------

    def resolve(self, text: str) -> ApiResource:
        """The resource `text` names (`po`, `pods`, `Pod`, `deployments.apps`, `deploy.v1.apps`)."""
        found = self._match(text)
        if found is None and self.refresh():
            found = self._match(text)
        if found is None:
            raise CliError(f'the server doesn\'t have a resource type "{text}"' + self._suggestion(text))
        return found

    def _match(self, text: str) -> ApiResource | None:
        lowered = text.lower()
        candidates = [(lowered, None, None)]
        parts = lowered.split(".")
        if len(parts) >= 3:
            candidates.append((parts[0], ".".join(parts[2:]), parts[1]))
        if len(parts) >= 2:
            candidates.append((parts[0], ".".join(parts[1:]), None))
        for name, group, version in candidates:
            for resource in self.resources():
                if group is not None and resource.group != group:
                    continue
                if version is not None and resource.version != version:
                    continue
                if name in (resource.name, resource.singular, resource.kind.lower()) or name in resource.short_names:
                    return resource
        return None

    def _suggestion(self, text: str) -> str:
        import difflib

        names = sorted({name for resource in self.resources()
                        for name in (resource.name, resource.singular, *resource.short_names)})
        close = difflib.get_close_matches(text.lower(), names, n=1, cutoff=0.6)
        if not close:
            return ""
        # Suggest the plural, the name people read in `api-resources`.
        suggested = self._match(close[0])
        return f'; did you mean "{suggested.name if suggested else close[0]}"?'

    def for_kind(self, api_version: str, kind: str) -> ApiResource:
        """The resource of a manifest's apiVersion and kind; kubectl's `no matches for kind` when none."""
        group, _, version = api_version.rpartition("/")
        found = self._kind_match(group, version, kind)
        if found is None and self.refresh():
            found = self._kind_match(group, version, kind)
        if found is None:
            import difflib

            suggestion = ""
            kinds = sorted({resource.kind for resource in self.resources()})
            close = difflib.get_close_matches(kind, kinds, n=1, cutoff=0.6)
            if close:
                suggestion = f'; did you mean "{close[0]}"?'
            raise CliError(f'no matches for kind "{kind}" in version "{api_version}"{suggestion}')
        return found

    def _kind_match(self, group: str, version: str, kind: str) -> ApiResource | None:
        for resource in self.resources():
            if resource.group == group and resource.version == version and resource.kind == kind:
                return resource
        return None

    def in_category(self, category: str) -> list[ApiResource]:
        """The resources of a category (`all`), each once (the preferred version)."""
        seen: set[tuple[str, str]] = set()
        found = []
        for resource in self.resources():
            if category in resource.categories and (resource.group, resource.name) not in seen:
                seen.add((resource.group, resource.name))
                found.append(resource)
        return found

    def preferred(self) -> list[ApiResource]:
        """Every resource once, at its group's preferred version (what `api-resources` lists)."""
        seen: set[tuple[str, str]] = set()
        found = []
        for resource in self.resources():
            if (resource.group, resource.name) not in seen:
                seen.add((resource.group, resource.name))
                found.append(resource)
        return found
