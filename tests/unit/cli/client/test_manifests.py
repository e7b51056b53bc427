"""Reading -f manifests (cli/client/manifests.py)."""

from __future__ import annotations

import pytest

from cli.client.errors import CliError
from cli.client.manifests import Manifest, expand_paths, parse_documents


def documents(text: str) -> list:
    return list(parse_documents(text, source="m.yaml"))


def test_multiple_documents_and_lists():
    found = documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# empty\n---\n"
                      "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n")
    assert [(item.kind, item.name) for item in found] == [("ConfigMap", "a"), ("Secret", "b")]


def test_timestamps_and_keys_stay_as_json_has_them():
    [manifest] = documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  when: 2026-01-01\n"
                           "  80: port\n")
    assert isinstance(manifest, Manifest)
    assert manifest.document["data"] == {"when": "2026-01-01", "80": "port"}


@pytest.mark.parametrize("text, expected", [
    pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n data: x\n",
                 "error parsing m.yaml: error converting YAML to JSON: yaml: line 5: did not find expected key",
                 id="syntax"),
    pytest.param("just a string\n", 'unable to decode "m.yaml": json: cannot unmarshal string into Go value of type '
                 "map[string]interface {}", id="not-an-object"),
    pytest.param("apiVersion: v1\nmetadata: {name: a}\n",
                 'unable to decode "m.yaml": Object \'Kind\' is missing in \'{"apiVersion":"v1","metadata":{"name":"a"}}\'',
                 id="no-kind"),
])
def test_errors_name_the_file(text, expected):
    found = documents(text)
    assert isinstance(found[-1], CliError)
    assert found[-1].message == expected


def test_a_syntax_error_keeps_the_documents_before_it():
    found = documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n")
    assert isinstance(found[0], Manifest) and isinstance(found[1], CliError)


def test_directories_expand_to_manifest_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.yaml", "a.json", "notes.txt", "sub/c.yml"):
        (tmp_path / name).write_text("{}")
    assert expand_paths([str(tmp_path)], recursive=False) == [str(tmp_path / "a.json"), str(tmp_path / "b.yaml")]
    assert expand_paths([str(tmp_path)], recursive=True)[-1] == str(tmp_path / "sub" / "c.yml")
    with pytest.raises(CliError, match='the path "nope.yaml" does not exist'):
        expand_paths(["nope.yaml"], recursive=False)
