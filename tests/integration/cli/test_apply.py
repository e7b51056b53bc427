"""`orc apply`, `orc create -f` and `orc replace` next to kubectl (issue 6, acceptance 1 and 2)."""

from __future__ import annotations

import json
import textwrap

import pytest


def deployment(*, replicas: int, image: str = "echo:v1", env: dict[str, str] | None = None,
               labels: dict[str, str] | None = None) -> str:
    """A Deployment manifest as a person writes it (block YAML)."""
    import yaml

    container: dict = {"name": "web", "image": image, "ports": [{"containerPort": 8080}]}
    if env:
        container["env"] = [{"name": key, "value": value} for key, value in env.items()]
    document = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", **(labels or {})}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}},
    }
    return yaml.safe_dump(document, sort_keys=False)


def live(kubectl, kind: str, name: str, namespace: str) -> dict:
    return json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)


def test_orc_then_kubectl_then_orc_on_one_deployment(orc, kubectl, namespace, tmp_path):
    """Acceptance 2: each apply reports the right verb and the object ends equal to the last file."""
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment(replicas=2, env={"A": "1", "B": "x<y"}))
    assert orc("apply", "-f", str(manifest), "-n", namespace, check=True).stdout == "deployment.apps/web created\n"
    # kubectl reads orc's last-applied annotation byte for byte: nothing to do.
    assert kubectl("apply", "-f", str(manifest), "-n", namespace).stdout == "deployment.apps/web unchanged\n"

    manifest.write_text(deployment(replicas=3, env={"A": "1", "B": "x<y"}, labels={"tier": "front"}))
    assert kubectl("apply", "-f", str(manifest), "-n", namespace).stdout == "deployment.apps/web configured\n"
    assert orc("apply", "-f", str(manifest), "-n", namespace).stdout == "deployment.apps/web unchanged\n"

    manifest.write_text(deployment(replicas=1, image="echo:v2", env={"A": "2"}))
    assert orc("apply", "-f", str(manifest), "-n", namespace).stdout == "deployment.apps/web configured\n"
    assert kubectl("apply", "-f", str(manifest), "-n", namespace).stdout == "deployment.apps/web unchanged\n"
    assert orc("apply", "-f", str(manifest), "-n", namespace).stdout == "deployment.apps/web unchanged\n"

    result = live(kubectl, "deployment", "web", namespace)
    assert result["metadata"]["labels"] == {"app": "web"}  # the removed label is gone
    assert result["spec"]["replicas"] == 1
    container = result["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "echo:v2"
    assert container["env"] == [{"name": "A", "value": "2"}]  # B removed from the file, so from the object


def test_the_annotation_is_the_one_kubectl_writes(orc, kubectl, namespace, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment(replicas=2, env={"A": "<&>"}))
    orc("apply", "-f", str(manifest), "-n", namespace, check=True)
    ours = live(kubectl, "deployment", "web", namespace)["metadata"]["annotations"]
    kubectl("delete", "deployment", "web", "-n", namespace)
    kubectl("apply", "-f", str(manifest), "-n", namespace)
    theirs = live(kubectl, "deployment", "web", namespace)["metadata"]["annotations"]
    assert ours == theirs


def test_apply_goes_on_after_a_failing_document(orc, kubectl, namespace, tmp_path):
    manifest = tmp_path / "mixed.yaml"
    manifest.write_text(textwrap.dedent(f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: first, namespace: {namespace}}}
        data: {{a: "1"}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: elsewhere, namespace: no-such-namespace-{namespace}}}
        ---
        apiVersion: v1
        kind: Deployment
        metadata: {{name: wrong-group, namespace: {namespace}}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: last, namespace: {namespace}}}
        """))
    result = orc("apply", "-f", str(manifest))
    assert result.returncode == 1
    assert result.stdout == "configmap/first created\nconfigmap/last created\n"
    errors = result.stderr.splitlines()
    assert errors[0] == (f'Error from server (NotFound): error when creating "{manifest}": namespaces '
                         f'"no-such-namespace-{namespace}" not found')
    assert 'no matches for kind "Deployment" in version "v1"' in errors[1]


def test_apply_a_directory_recursively_and_stdin(orc, kubectl, namespace, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "sub" / "b.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert orc("apply", "-f", str(tmp_path), "-n", namespace).stdout == "configmap/a created\n"
    assert orc("apply", "-R", "-f", str(tmp_path), "-n", namespace).stdout == \
        "configmap/a unchanged\nconfigmap/b created\n"
    document = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    assert orc("apply", "-f", "-", "-n", namespace, input=document).stdout == "configmap/c created\n"


@pytest.mark.parametrize("mode, suffix", [pytest.param("client", "(dry run)", id="client"),
                                          pytest.param("server", "(server dry run)", id="server")])
def test_dry_runs_change_nothing(both, kubectl, namespace, tmp_path, mode, suffix):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: '1'}\n")
    ours, theirs = both("apply", "-f", str(manifest), "-n", namespace, f"--dry-run={mode}")
    assert ours.stdout == theirs.stdout == f"configmap/dry created {suffix}\n"
    assert kubectl("get", "cm", "dry", "-n", namespace, check=False).returncode == 1


def test_apply_output_formats(both, namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shown}\ndata: {a: '1'}\n")
    ours, theirs = both("apply", "-f", str(manifest), "-n", namespace, "-o", "name")
    assert ours.stdout == "configmap/shown\n" and theirs.stdout == "configmap/shown\n"


def test_create_from_files_like_kubectl(both, kubectl, namespace, tmp_path):
    manifest = tmp_path / "objects.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}\ndata: {a: '1'}\n")
    first, _ = both("create", "-f", str(manifest), "-n", namespace)
    assert first.stdout == "configmap/made created\n"
    again_orc, again_kubectl = both("create", "-f", str(manifest), "-n", namespace)
    assert again_orc.returncode == again_kubectl.returncode == 1
    assert again_orc.stderr == again_kubectl.stderr


def test_create_save_config_then_apply_is_unchanged(orc, kubectl, namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: saved}\ndata: {a: '1'}\n")
    assert orc("create", "-f", str(manifest), "--save-config", "-n", namespace).stdout == "configmap/saved created\n"
    assert kubectl("apply", "-f", str(manifest), "-n", namespace).stdout == "configmap/saved unchanged\n"


def test_replace_puts_the_whole_object(both, kubectl, namespace, tmp_path):
    kubectl("create", "configmap", "swap", "--from-literal=a=1", "--from-literal=b=2", "-n", namespace)
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: swap}\ndata: {c: '3'}\n")
    ours, theirs = both("replace", "-f", str(manifest), "-n", namespace)
    assert ours.stdout == theirs.stdout == "configmap/swap replaced\n"
    assert live(kubectl, "configmap", "swap", namespace)["data"] == {"c": "3"}


def test_namespace_mismatch_is_refused(both, namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n")
    ours, theirs = both("apply", "-f", str(manifest), "-n", namespace)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr


def test_prune_deletes_what_the_files_no_longer_declare(orc, kubectl, namespace, tmp_path):
    def config_map(name: str, labels: dict[str, str]) -> str:
        return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels},
                           "data": {"k": name}})

    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "a.json").write_text(config_map("a", {"app": "p"}))
    (folder / "b.json").write_text(config_map("b", {"app": "p"}))
    (folder / "other.json").write_text(config_map("other", {"app": "q"}))
    orc("apply", "-f", str(folder), "-n", namespace, check=True)
    # Made without apply (no last-applied annotation): never pruned.
    kubectl("create", "configmap", "made", "-n", namespace)
    kubectl("label", "configmap", "made", "app=p", "-n", namespace)

    refused = orc("apply", "--prune", "-f", str(folder), "-n", namespace)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: all resources selected for prune without explicitly passing --all")

    (folder / "b.json").unlink()
    (folder / "other.json").unlink()
    dry = orc("apply", "--prune", "-l", "app=p", "-f", str(folder), "-n", namespace, "--dry-run=server", check=True)
    assert dry.stdout == "configmap/a unchanged (server dry run)\nconfigmap/b pruned (server dry run)\n"
    pruned = orc("apply", "--prune", "-l", "app=p", "-f", str(folder), "-n", namespace, check=True)
    assert pruned.stdout == "configmap/a unchanged\nconfigmap/b pruned\n"
    names = kubectl("get", "configmaps", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    assert {"a", "made", "other"} <= set(names) and "b" not in names
