"""Field ownership (metadata.managedFields) and server-side apply, as Kubernetes' fieldmanager does.

Called by rest.py on every write:

* `record_update(old, new, ...)` after an update/patch/status write: the fields this write changed
  become the writer's (operation Update, one entry per manager and subresource), and leave every
  other manager's set;
* `record_create(obj, ...)` when an object is created;
* `server_side_apply(current, applied, ...)` for `PATCH application/apply-patch+yaml`: merges the
  applied configuration by the schema's list types, removes what the manager applied before and
  no longer applies (unless someone else owns it too), and refuses with 409 FieldManagerConflict
  a change to a field another manager owns, unless `force`.

A field set is a frozenset of paths; a path is a tuple of fieldsV1 elements: `f:name` (a field),
`k:{"name":"nginx"}` (an element of a list keyed by a merge key), `v:"a"` (an element of a set
list) and `.` (the list element itself). `to_fields_v1`/`from_fields_v1` convert to and from the
nested wire form. List types come from the pydantic models' patch metadata (the same that
strategic merge patch reads, see patch.py): a merge key makes an associative list, a merge
strategy without a key a set, anything else is atomic (also every list of a kind without a model,
such as custom resources). Pure functions: no I/O, inputs are never mutated.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any

from orchestrator.api import errors
from orchestrator.apiserver.patch import _field_meta as _uncached_field_meta
from orchestrator.apiserver.patch import _FieldMeta, _ListOf

# Every write walks the object by the model: the patch metadata of a field is looked up once.
_field_meta = functools.lru_cache(maxsize=8192)(_uncached_field_meta)

Path = tuple[str, ...]
FieldSet = frozenset

# What no manager owns: identity and system metadata, and the type.
_IGNORED_TOP = {"apiVersion", "kind"}
_IGNORED_METADATA = {"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                     "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}
MAX_MANAGER_LENGTH = 128


# --- list types ---------------------------------------------------------------------------------


def _list_type(meta: _FieldMeta) -> tuple[str, str]:
    """("map", key) for an associative list, ("set", "") for a set of scalars, ("atomic", "")."""
    if meta.strategy == "merge" and meta.merge_key:
        return "map", meta.merge_key
    if meta.strategy == "merge":
        return "set", ""
    return "atomic", ""


def _key_element(merge_key: str, item: dict) -> str:
    return "k:" + json.dumps({merge_key: item.get(merge_key)}, separators=(",", ":"), sort_keys=True)


def _value_element(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"), sort_keys=True)


def _keyed(items: list, merge_key: str) -> dict[str, dict]:
    return {_key_element(merge_key, item): item for item in items if isinstance(item, dict)}


# --- the fields of an object --------------------------------------------------------------------


def _owned_view(obj: dict) -> dict:
    """The part of an object managers can own (no type, no identity or system metadata)."""
    view = {key: value for key, value in obj.items() if key not in _IGNORED_TOP}
    if isinstance(view.get("metadata"), dict):
        view["metadata"] = {k: v for k, v in view["metadata"].items() if k not in _IGNORED_METADATA}
        if not view["metadata"]:
            del view["metadata"]
    return view


def fields_of(obj: dict, model: Any) -> FieldSet:
    """Every field path set in `obj` (an applied configuration or a new object)."""
    paths: set[Path] = set()
    _collect_map(_owned_view(obj), model, (), paths)
    return frozenset(paths)


def _collect_map(value: dict, schema: Any, prefix: Path, paths: set[Path]) -> None:
    for key, member in value.items():
        _collect_value(member, _field_meta(schema, key), prefix + (f"f:{key}",), paths)


def _collect_value(value: Any, meta: _FieldMeta, path: Path, paths: set[Path]) -> None:
    if isinstance(value, dict) and value:
        _collect_map(value, meta.schema, path, paths)
    elif isinstance(value, list) and value and _list_type(meta)[0] != "atomic":
        _collect_list(value, meta, path, paths)
    else:
        paths.add(path)


def _collect_list(items: list, meta: _FieldMeta, path: Path, paths: set[Path]) -> None:
    kind, merge_key = _list_type(meta)
    element_schema = meta.element_schema
    for item in items:
        if kind == "map" and isinstance(item, dict):
            element = path + (_key_element(merge_key, item),)
            paths.add(element + (".",))
            _collect_map(item, element_schema, element, paths)
        else:
            paths.add(path + (_value_element(item),))


# --- what a write changed -----------------------------------------------------------------------


def changed_fields(old: dict, new: dict, model: Any) -> tuple[FieldSet, FieldSet]:
    """(paths set or changed in `new`, paths present in `old` and gone in `new`)."""
    changed: set[Path] = set()
    removed: set[Path] = set()
    _diff_map(_owned_view(old), _owned_view(new), model, (), changed, removed)
    return frozenset(changed), frozenset(removed)


def _diff_map(old: dict, new: dict, schema: Any, prefix: Path, changed: set, removed: set) -> None:
    for key, value in new.items():
        path = prefix + (f"f:{key}",)
        meta = _field_meta(schema, key)
        if key not in old:
            _collect_value(value, meta, path, changed)
        elif old[key] != value:
            _diff_value(old[key], value, meta, path, changed, removed)
    for key, value in old.items():
        if key not in new:
            _collect_value(value, _field_meta(schema, key), prefix + (f"f:{key}",), removed)


def _diff_value(old: Any, new: Any, meta: _FieldMeta, path: Path, changed: set, removed: set) -> None:
    if isinstance(old, dict) and isinstance(new, dict) and old and new:
        _diff_map(old, new, meta.schema, path, changed, removed)
        return
    kind, merge_key = _list_type(meta)
    if isinstance(old, list) and isinstance(new, list) and old and new and kind != "atomic":
        if kind == "map":
            before, after = _keyed(old, merge_key), _keyed(new, merge_key)
            for element, item in after.items():
                if element not in before:
                    _collect_list([item], meta, path, changed)
                elif before[element] != item:
                    _diff_map(before[element], item, meta.element_schema, path + (element,), changed, removed)
            for element, item in before.items():
                if element not in after:
                    _collect_list([item], meta, path, removed)
        else:
            before = {_value_element(v) for v in old}
            after = {_value_element(v) for v in new}
            changed.update(path + (e,) for e in after - before)
            removed.update(path + (e,) for e in before - after)
        return
    # A scalar, an atomic list, or a shape change: the old subtree goes, the new one comes.
    old_paths: set[Path] = set()
    _collect_value(old, meta, path, old_paths)
    new_paths: set[Path] = set()
    _collect_value(new, meta, path, new_paths)
    changed.update(new_paths)
    removed.update(old_paths - new_paths)


# --- the wire form ------------------------------------------------------------------------------


def to_fields_v1(paths: FieldSet) -> dict:
    """Paths -> the nested `fieldsV1` object (`.` marks an element that has fields of its own)."""
    root: dict = {}
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
    return _sorted_tree(root)


def _sorted_tree(node: dict) -> dict:
    return {key: _sorted_tree(node[key]) for key in sorted(node)}


def from_fields_v1(tree: dict, prefix: Path = ()) -> FieldSet:
    paths: set[Path] = set()
    _walk_tree(tree or {}, prefix, paths)
    return frozenset(paths)


def _walk_tree(tree: dict, prefix: Path, paths: set[Path]) -> None:
    for key, child in tree.items():
        if key == ".":
            paths.add(prefix + (".",))
        elif not child:
            paths.add(prefix + (key,))
        else:
            _walk_tree(child, prefix + (key,), paths)


# --- managedFields entries ----------------------------------------------------------------------


@dataclass(frozen=True)
class Manager:
    name: str
    operation: str  # "Apply" or "Update"
    subresource: str = ""

    def owns_entry(self, entry: dict) -> bool:
        return (entry.get("manager", "") == self.name and entry.get("operation") == self.operation
                and entry.get("subresource", "") == self.subresource)


def _entry(manager: Manager, paths: FieldSet, api_version: str, now: str) -> dict:
    entry = {"manager": manager.name, "operation": manager.operation, "apiVersion": api_version, "time": now,
             "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}
    if manager.subresource:
        entry["subresource"] = manager.subresource
    return entry


def _entry_paths(entry: dict) -> FieldSet:
    return from_fields_v1(entry.get("fieldsV1") or {})


def _rewrite(entries: list[dict], manager: Manager, mine: FieldSet | None, take: FieldSet,
             api_version: str, now: str) -> list[dict]:
    """Entries with `take` removed from every other manager and `mine` (None: unchanged) as the writer's."""
    result: list[dict] = []
    placed = False
    for entry in entries:
        if manager.owns_entry(entry):
            placed = True
            if mine is None:
                result.append(entry)
            elif mine:
                same = mine == _entry_paths(entry)
                result.append(entry if same else _entry(manager, mine, api_version, now))
            continue
        if take:
            paths = _entry_paths(entry)
            if paths & take:
                kept = paths - take
                if kept:
                    result.append({**entry, "fieldsV1": to_fields_v1(kept)})
                continue
        result.append(entry)
    if not placed and mine:
        result.append(_entry(manager, mine, api_version, now))
    return result


def record_create(obj: dict, *, model: Any, manager: Manager, now: str) -> list[dict]:
    paths = fields_of(obj, model)
    return [_entry(manager, paths, obj.get("apiVersion", ""), now)] if paths else []


def record_update(old: dict, new: dict, *, model: Any, manager: Manager, now: str) -> list[dict]:
    """managedFields of `new` after `manager` turned `old` into it (operation Update)."""
    entries = list((old.get("metadata") or {}).get("managedFields") or [])
    changed, removed = changed_fields(old, new, model)
    if not changed and not removed:
        return entries
    mine = next((_entry_paths(e) for e in entries if manager.owns_entry(e)), frozenset())
    mine = (mine | changed) - removed
    return _rewrite(entries, manager, mine, changed | removed, new.get("apiVersion", ""), now)


# --- server-side apply ----------------------------------------------------------------------------


class ApplyConflict(errors.APIError):
    code, reason = 409, "Conflict"


@dataclass
class ApplyResult:
    obj: dict
    managed_fields: list[dict]


def server_side_apply(current: dict, applied: dict, *, model: Any, manager: Manager, force: bool,
                      now: str) -> ApplyResult:
    """`current` (empty for a create) with `applied` merged in as `manager`'s configuration."""
    entries = list((current.get("metadata") or {}).get("managedFields") or [])
    applied_paths = fields_of(applied, model)
    previous = next((_entry_paths(e) for e in entries if manager.owns_entry(e)), frozenset())
    others = [(e, _entry_paths(e)) for e in entries if not manager.owns_entry(e)]
    owned_by_others = frozenset().union(*(paths for _, paths in others)) if others else frozenset()

    merged = copy.deepcopy(current)
    # Elements before their fields: an element's own path (`k:{...}`, `.`) is as long as its fields' paths,
    # so order by the node it names; a field removed first (its `name`) would hide the element's key.
    for path in sorted(previous - applied_paths - owned_by_others, key=lambda p: (len(_node(p)), p)):
        node = _node(path)
        # A list element someone else still has fields in stays (only our fields of it go).
        if not any(other[:len(node)] == node for other in owned_by_others):
            _remove_path(merged, node)
    _merge_map(merged, _owned_view(applied) | {k: applied[k] for k in _IGNORED_TOP if k in applied}, model)

    conflicts: list[tuple[dict, Path]] = []
    transferred: set[Path] = set()
    client_side = _client_side_applied(current, model)
    for entry, paths in others:
        for path in sorted(applied_paths & paths):
            if _value_at(current, path) != _value_at(merged, path):
                if entry.get("manager") == CLIENT_SIDE_APPLY and path in client_side:
                    transferred.add(path)  # moving from client-side to server-side apply is no conflict
                else:
                    conflicts.append((entry, path))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    taken = frozenset(path for _, path in conflicts) | transferred
    managed = _rewrite(entries, manager, applied_paths, taken, applied.get("apiVersion", ""), now)
    if not applied_paths:
        managed = [e for e in managed if not manager.owns_entry(e)]
    return ApplyResult(merged, managed)


CLIENT_SIDE_APPLY = "kubectl-client-side-apply"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _client_side_applied(current: dict, model: Any) -> FieldSet:
    """The fields of the last client-side applied configuration (what `kubectl apply` owned)."""
    annotation = ((current.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not annotation:
        return frozenset()
    try:
        last = json.loads(annotation)
    except ValueError:
        return frozenset()
    return fields_of(last, model) if isinstance(last, dict) else frozenset()


def _node(path: Path) -> Path:
    return path[:-1] if path and path[-1] == "." else path


_ABSENT = object()


def _value_at(obj: Any, path: Path) -> Any:
    node = obj
    for element in _node(path):
        if isinstance(node, dict) and element.startswith("f:"):
            node = node.get(element[2:], _ABSENT)
        elif isinstance(node, list) and element.startswith("k:"):
            wanted = json.loads(element[2:])
            node = next((i for i in node if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items())),
                        _ABSENT)
        elif isinstance(node, list) and element.startswith("v:"):
            wanted = json.loads(element[2:])
            node = wanted if wanted in node else _ABSENT
        else:
            return _ABSENT
        if node is _ABSENT:
            return _ABSENT
    if path and path[-1] == ".":
        return True  # an element's own path: only its presence counts
    return node


def _remove_path(obj: Any, path: Path) -> None:
    if not path:
        return
    parent = obj
    for element in path[:-1]:
        parent = _child(parent, element)
        if parent is None:
            return
    last = path[-1]
    if isinstance(parent, dict) and last.startswith("f:"):
        parent.pop(last[2:], None)
    elif isinstance(parent, list) and last.startswith(("k:", "v:")):
        keep = [item for item in parent if _child([item], last) is None]
        parent[:] = keep


def _child(node: Any, element: str) -> Any:
    if isinstance(node, dict) and element.startswith("f:"):
        return node.get(element[2:])
    if isinstance(node, list) and element.startswith("k:"):
        wanted = json.loads(element[2:])
        return next((i for i in node if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items())), None)
    if isinstance(node, list) and element.startswith("v:"):
        wanted = json.loads(element[2:])
        return wanted if wanted in node else None
    return None


def _merge_map(target: dict, applied: dict, schema: Any) -> None:
    for key, value in applied.items():
        meta = _field_meta(schema, key)
        target[key] = _merge_value(target.get(key), value, meta)


def _merge_value(current: Any, applied: Any, meta: _FieldMeta) -> Any:
    if isinstance(current, dict) and isinstance(applied, dict):
        _merge_map(current, applied, meta.schema)
        return current
    kind, merge_key = _list_type(meta)
    if isinstance(current, list) and isinstance(applied, list) and kind == "map":
        by_key = _keyed(current, merge_key)
        for item in applied:
            if not isinstance(item, dict):
                continue
            existing = by_key.get(_key_element(merge_key, item))
            if existing is None:
                current.append(copy.deepcopy(item))
            else:
                _merge_map(existing, item, meta.element_schema if isinstance(meta.schema, _ListOf) else None)
        return current
    if isinstance(current, list) and isinstance(applied, list) and kind == "set":
        return current + [v for v in applied if v not in current]
    return copy.deepcopy(applied)


def render_path(path: Path) -> str:
    """A field path as Kubernetes prints it in conflicts: .spec.containers[name="nginx"].image."""
    text = ""
    for element in _node(path):
        if element.startswith("f:"):
            text += "." + element[2:]
        elif element.startswith("k:"):
            pairs = json.loads(element[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in pairs.items()) + "]"
        elif element.startswith("v:"):
            text += f"[={element[2:]}]"
    return text


def _conflict_error(conflicts: list[tuple[dict, Path]]) -> ApplyConflict:
    by_manager: dict[str, list[str]] = {}
    for entry, path in conflicts:
        who = f'conflict with "{entry.get("manager", "")}"'
        if entry.get("subresource"):
            who += f' with subresource "{entry["subresource"]}"'
        who += f' using {entry.get("apiVersion", "")}'
        by_manager.setdefault(who, []).append(render_path(path))
    count = len(conflicts)
    if count == 1:
        (who, fields), = by_manager.items()
        message = f"Apply failed with 1 conflict: {who}: {fields[0]}"
    else:
        parts = []
        for who, fields in by_manager.items():
            if len(fields) == 1:
                parts.append(f"{who}: {fields[0]}")
            else:
                parts.append(who.replace("conflict with", "conflicts with", 1) + ":\n"
                             + "\n".join(f"- {field}" for field in fields))
        message = f"Apply failed with {count} conflicts: " + "\n".join(parts)
    causes = [{"reason": "FieldManagerConflict", "message": who, "field": field}
              for who, fields in by_manager.items() for field in fields]
    return ApplyConflict(message, details={"causes": causes})


# --- request options ----------------------------------------------------------------------------


def manager_name(params, user_agent: str) -> str:
    """The fieldManager parameter, else the user agent up to its first '/' (as Kubernetes)."""
    name = params.get("fieldManager")
    if name:
        return name
    return (user_agent or "unknown").split("/", 1)[0][:MAX_MANAGER_LENGTH] or "unknown"


def check_write_options(params, *, options_kind: str, applying: bool) -> None:
    """dryRun, fieldManager and force as ValidateCreateOptions/ValidatePatchOptions check them."""
    field_errors: list[errors.FieldError] = []
    for value in params.getlist("dryRun") if hasattr(params, "getlist") else []:
        if value != "All":
            field_errors.append(errors.not_supported("dryRun", value, ["All"]))
    manager = params.get("fieldManager")
    if manager is not None and len(manager) > MAX_MANAGER_LENGTH:
        field_errors.append(errors.invalid("fieldManager", manager, "must be less than 128 characters"))
    if applying and not manager:
        field_errors.append(errors.required("fieldManager", "is required for apply patch"))
    if "force" in params and not applying and options_kind == "PatchOptions":
        field_errors.append(errors.forbidden("force", "may not be specified for non-apply patch"))
    if field_errors:
        raise errors.Invalid(kind=options_kind, group="meta.k8s.io", name="", errors=field_errors)
