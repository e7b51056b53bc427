"""Bad input gives one line that says what is wrong, and exit code 1 (issue 6, acceptance 4)."""

from __future__ import annotations

import textwrap

import pytest

DEPLOYMENT = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 1
      selector:
        matchLabels: {app: {app}}
      template:
        metadata:
          labels: {app: {app}}
        spec:
          containers:
          - name: web
            image: echo:v1
    """)


def one_line_error(result) -> str:
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("text, line, problem", [
    pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n data: x\n", 5, "did not find expected key",
                 id="bad-indent"),
    pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\n"
                 "metadata:\n  name: b\n  labels: [\n", 11, "did not find expected node content", id="second-document"),
    pytest.param("apiVersion: v1\nkind: ConfigMap\n\tmetadata: {}\n", 3, "tab", id="tab"),
])
def test_yaml_syntax_error_names_file_and_line(orc, namespace, tmp_path, text, line, problem):
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(text)
    for verb in (["apply"], ["create", "--dry-run=client"]):
        message = one_line_error(orc(*verb, "-f", str(manifest), "-n", namespace))
        assert message.startswith(f"error: error parsing {manifest}: error converting YAML to JSON: yaml: line {line}: ")
        assert problem in message


def test_unknown_kind_and_unknown_type(orc, namespace, tmp_path):
    manifest = tmp_path / "typo.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deploymnt\nmetadata: {name: web}\n")
    assert one_line_error(orc("apply", "-f", str(manifest), "-n", namespace)) == (
        f'error: resource mapping not found for name: "web" namespace: "" from "{manifest}": no matches for kind '
        '"Deploymnt" in version "apps/v1"; did you mean "Deployment"?')
    assert one_line_error(orc("get", "deploymnt")) == (
        'error: the server doesn\'t have a resource type "deploymnt"; did you mean "deployments"?')
    assert one_line_error(orc("describe", "pdos", "x")) == (
        'error: the server doesn\'t have a resource type "pdos"; did you mean "pods"?')


def test_missing_namespace(orc, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: no-such-namespace}\n")
    assert one_line_error(orc("apply", "-f", str(manifest))) == (
        f'Error from server (NotFound): error when creating "{manifest}": namespaces "no-such-namespace" not found')
    assert one_line_error(orc("create", "configmap", "a", "-n", "no-such-namespace")) == (
        'Error from server (NotFound): namespaces "no-such-namespace" not found')


def test_forbidden_selector_change(orc, kubectl_env, namespace, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT.replace("{app}", "web"))
    assert orc("apply", "-f", str(manifest), "-n", namespace).returncode == 0
    manifest.write_text(DEPLOYMENT.replace("{app}", "web2"))
    ours = one_line_error(orc("apply", "-f", str(manifest), "-n", namespace))
    theirs = kubectl_env("apply", "-f", str(manifest), "-n", namespace).stderr.strip()
    assert ours == theirs
    assert ours.startswith('The Deployment "web" is invalid: spec.selector: Invalid value: ')
    assert ours.endswith("field is immutable")


def test_invalid_field_lists_the_causes(orc, kubectl_env, namespace, tmp_path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec:\n  replicas: -1\n"
                        "  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n"
                        "    spec: {containers: [{name: c, image: busybox}]}\n")
    ours = orc("apply", "-f", str(manifest), "-n", namespace)
    theirs = kubectl_env("apply", "-f", str(manifest), "-n", namespace)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)


def test_unreachable_server(orc, tmp_path):
    from orchestrator.cluster.ports import free_port

    result = orc("get", "pods", "--server", f"http://127.0.0.1:{free_port()}",
                 env={"KUBECONFIG": str(tmp_path / "none")})
    assert result.returncode == 1
    assert "was refused - did you specify the right host or port?" in result.stderr
