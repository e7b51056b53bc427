"""`orc delete` by name, file, selector and --all, waiting like kubectl (issue 6, acceptance 1)."""

from __future__ import annotations

import json
import subprocess
import sys


def names(kubectl, kind: str, namespace: str) -> list[str]:
    return kubectl("get", kind, "-n", namespace, "-o", "name").stdout.split()


def test_delete_by_name_prints_and_removes(both, kubectl, namespace):
    for name in ("a", "b"):
        kubectl("create", "configmap", name, "-n", namespace)
    ours, theirs = both("delete", "configmap", "a", "b", "-n", namespace)
    assert ours.stdout == 'configmap "a" deleted\nconfigmap "b" deleted\n'
    assert theirs.returncode == 1 and 'configmaps "a" not found' in theirs.stderr  # orc got there first
    assert names(kubectl, "configmap", namespace) == []


def test_delete_not_found_and_ignore(orc, kubectl_env, namespace):
    ours = orc("delete", "pod", "ghost", "-n", namespace)
    theirs = kubectl_env("delete", "pod", "ghost", "-n", namespace)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert orc("delete", "pod", "ghost", "--ignore-not-found", "-n", namespace).returncode == 0


def test_delete_by_selector_and_all(orc, kubectl, namespace):
    for name, tier in (("one", "front"), ("two", "front"), ("three", "back")):
        kubectl("create", "configmap", name, "-n", namespace)
        kubectl("label", "configmap", name, f"tier={tier}", "-n", namespace)
    result = orc("delete", "configmaps", "-l", "tier=front", "-n", namespace, check=True)
    assert sorted(result.stdout.splitlines()) == ['configmap "one" deleted', 'configmap "two" deleted']
    assert names(kubectl, "configmap", namespace) == ["configmap/three"]
    assert orc("delete", "configmaps", "--all", "-n", namespace, "-o", "name").stdout == "configmap/three\n"
    nothing = orc("delete", "configmaps", "-l", "tier=none", "-n", namespace)
    assert nothing.returncode == 0 and nothing.stderr == "No resources found\n"


def test_delete_from_a_file_and_type_slash_name(orc, kubectl, namespace, tmp_path):
    kubectl("create", "deployment", "httpenv", "--image=echo:v1", "-n", namespace)
    assert orc("delete", "deploy/httpenv", "-n", namespace).stdout == 'deployment.apps "httpenv" deleted\n'
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: filed, namespace: {namespace}}}\n")
    kubectl("apply", "-f", str(manifest))
    assert orc("delete", "-f", str(manifest)).stdout == 'configmap "filed" deleted\n'


def test_delete_sends_the_cascade_policy(orc, kubectl, namespace):
    kubectl("create", "deployment", "kept", "--image=echo:v1", "-n", namespace)
    # Orphaning waits for the garbage collector, which this test cluster does not run: do not wait.
    result = orc("delete", "deployment", "kept", "--cascade=orphan", "--wait=false", "-n", namespace, check=True)
    assert result.stdout == 'deployment.apps "kept" deleted\n'
    bad = orc("delete", "deployment", "kept", "--cascade=sideways", "-n", namespace)
    assert bad.returncode == 1
    assert bad.stderr == 'error: invalid cascade value (sideways). Must be "background", "foreground", or "orphan".\n'


def test_delete_waits_until_the_object_is_gone(orc, kubectl, cli_env, namespace):
    """A finalizer keeps the object; delete waits (as kubectl does) until it is removed, --wait=false does not."""
    kubectl("create", "configmap", "held", "-n", namespace)
    kubectl("patch", "configmap", "held", "-n", namespace, "--type=merge", "-p",
            '{"metadata":{"finalizers":["example.com/hold"]}}')
    assert orc("delete", "configmap", "held", "--wait=false", "-n", namespace).returncode == 0
    waiting = subprocess.Popen([sys.executable, "-m", "cli.main", "delete", "configmap", "held", "-n", namespace,
                                "--ignore-not-found"], stdout=subprocess.PIPE, text=True, env=cli_env)
    try:
        try:
            waiting.wait(timeout=2)
            raise AssertionError("delete returned while the object still existed")
        except subprocess.TimeoutExpired:
            pass
        kubectl("patch", "configmap", "held", "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        assert waiting.wait(timeout=20) == 0
    finally:
        waiting.kill()
    assert json.loads(kubectl("get", "cm", "-n", namespace, "-o", "json").stdout)["items"] == []


def test_delete_needs_a_name_or_selector(both, namespace):
    ours, theirs = both("delete", "pods", "-n", namespace)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr
