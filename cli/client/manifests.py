"""Reading manifests for `-f FILE|DIR|-` (apply, create, replace, delete, get, describe).

`iter_manifests` expands the `-f` arguments like kubectl (a directory gives its `.json`, `.yaml`
and `.yml` files in name order, its subdirectories too with `-R`; `-` is stdin) and yields one
`Manifest` per YAML document (a `kind: List` gives its items), or a `CliError` for a document that
cannot be read, so that callers go on with the others. A YAML syntax error names the file and the
line: `error parsing deploy.yaml: error converting YAML to JSON: yaml: line 4: did not find expected key`.
YAML is read as sigs.k8s.io/yaml reads it: timestamps stay strings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.client.errors import CliError

MANIFEST_EXTENSIONS = (".json", ".yaml", ".yml")
STDIN_SOURCE = "STDIN"


@dataclass
class Manifest:
    source: str  # the file as the user named it, or STDIN
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.document.get("kind", "")

    @property
    def api_version(self) -> str:
        return self.document.get("apiVersion", "")

    @property
    def name(self) -> str:
        return (self.document.get("metadata") or {}).get("name", "")

    @property
    def namespace(self) -> str:
        return (self.document.get("metadata") or {}).get("namespace", "")


_LOADER: type | None = None


def manifest_loader() -> type:
    """A safe YAML loader (libyaml when available) that keeps timestamps and `=` as plain strings."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class ManifestLoader(base):  # type: ignore[misc, valid-type]
            pass

        dropped = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
        ManifestLoader.yaml_implicit_resolvers = {
            first: [(tag, pattern) for tag, pattern in resolvers if tag not in dropped]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
        _LOADER = ManifestLoader
    return _LOADER


def expand_paths(filenames: list[str], *, recursive: bool) -> list[str]:
    """The files `-f` names: files as given, directories expanded to their manifest files."""
    paths: list[str] = []
    for filename in filenames:
        if filename == "-":
            paths.append(filename)
            continue
        if filename.startswith(("http://", "https://")):
            raise CliError(f"reading manifests from URLs is not supported by orc: {filename}")
        path = Path(filename)
        if not path.exists():
            raise CliError(f'the path "{filename}" does not exist')
        if path.is_dir():
            found = _directory_files(path, recursive=recursive)
            paths.extend(str(file) for file in found)
        else:
            paths.append(filename)
    return paths


def _directory_files(directory: Path, *, recursive: bool) -> list[Path]:
    files: list[Path] = []
    for entry in sorted(directory.iterdir(), key=lambda entry: entry.name):
        if entry.is_dir():
            if recursive:
                files.extend(_directory_files(entry, recursive=True))
        elif entry.suffix in MANIFEST_EXTENSIONS:
            files.append(entry)
    return files


def parse_documents(text: str, *, source: str) -> Iterator[Manifest | CliError]:
    """The manifests of one file's text, in order; a syntax error ends the file with a CliError."""
    import yaml

    try:
        for document in yaml.load_all(text, Loader=manifest_loader()):
            if document is None:
                continue
            yield from _manifests_of(document, source=source)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        yield CliError(f"error parsing {source}: error converting YAML to JSON: yaml: {where}{problem}")
    except yaml.YAMLError as error:
        yield CliError(f"error parsing {source}: error converting YAML to JSON: yaml: {error}")


def _manifests_of(document: Any, *, source: str) -> Iterator[Manifest | CliError]:
    if not isinstance(document, dict):
        go_type = {str: "string", list: "array", int: "number", float: "number", bool: "bool"}.get(
            type(document), "value")
        yield CliError(f'unable to decode "{source}": json: cannot unmarshal {go_type} into Go value of type '
                       "map[string]interface {}")
        return
    document = _jsonable(document)
    if not document.get("kind"):
        yield CliError(f"unable to decode \"{source}\": Object 'Kind' is missing in '{_compact(document)}'")
        return
    if not document.get("apiVersion"):
        yield CliError(f"unable to decode \"{source}\": Object 'apiVersion' is missing in '{_compact(document)}'")
        return
    if document["kind"] == "List" or (document["kind"].endswith("List") and isinstance(document.get("items"), list)):
        for item in document.get("items") or []:
            yield from _manifests_of(item, source=source)
        return
    yield Manifest(source=source, document=document)


def _compact(document: dict) -> str:
    from cli.client.printers import go_json

    return go_json(document)


def _jsonable(value: Any) -> Any:
    """YAML to JSON as sigs.k8s.io/yaml does it: map keys become strings."""
    if isinstance(value, dict):
        return {(key if isinstance(key, str) else _key_text(key)): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def iter_manifests(filenames: list[str], *, recursive: bool = False) -> Iterator[Manifest | CliError]:
    """Every manifest of every `-f` argument, with a CliError in place of each unreadable document or file."""
    for path in expand_paths(filenames, recursive=recursive):
        if path == "-":
            source, text = STDIN_SOURCE, sys.stdin.read()
        else:
            source = path
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                yield CliError(f"error reading {path}: {getattr(error, 'strerror', None) or error}")
                continue
        yield from parse_documents(text, source=source)


def require_filenames(filenames: list[str] | None, *, verb: str) -> list[str]:
    if not filenames:
        raise CliError(f"must specify one of -f and -k\n\nSee 'orc {verb} -h' for help and examples")
    return filenames
