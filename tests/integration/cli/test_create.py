"""`orc create deployment|namespace|configmap|secret generic` build the objects kubectl builds."""

from __future__ import annotations

import json

import pytest

VOLATILE_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "name")


def comparable(document: dict) -> dict:
    """An object without what differs between two creations (identity, times, the name)."""
    document = json.loads(json.dumps(document))
    for field in VOLATILE_METADATA:
        document.get("metadata", {}).pop(field, None)
    return document


@pytest.mark.parametrize("verb_args", [
    pytest.param(["deployment", "{name}", "--image=busybox"], id="deployment"),
    pytest.param(["deployment", "{name}", "--image=busybox", "--replicas=3", "--port=8080", "--", "ping", "127.0.0.1"],
                 id="deployment-command"),
    pytest.param(["deployment", "{name}", "--image=registry.local/team/echo:v2", "--image=busybox"],
                 id="deployment-two-images"),
    pytest.param(["configmap", "{name}", "--from-literal=a=1", "--from-literal=b=two words"], id="configmap"),
    pytest.param(["secret", "generic", "{name}", "--from-literal=password=s3cret", "--type=Opaque"], id="secret"),
])
def test_generators_make_the_same_objects(orc, kubectl, namespace, verb_args):
    ours_args = [argument.format(name="from-orc") for argument in verb_args]
    theirs_args = [argument.format(name="from-kubectl") for argument in verb_args]
    # -n goes before the arguments: what follows `--` is the container's command.
    created = orc("create", "-n", namespace, *ours_args, check=True).stdout
    kubectl("create", "-n", namespace, *theirs_args)
    kind = {"deployment": "deployment.apps", "configmap": "configmap", "secret": "secret"}[verb_args[0]]
    assert created == f"{kind}/from-orc created\n"
    ours = json.loads(kubectl("get", kind, "from-orc", "-n", namespace, "-o", "json").stdout)
    theirs = json.loads(kubectl("get", kind, "from-kubectl", "-n", namespace, "-o", "json").stdout)
    text_ours, text_theirs = json.dumps(comparable(ours)), json.dumps(comparable(theirs))
    assert text_ours.replace("from-orc", "X") == text_theirs.replace("from-kubectl", "X")


def test_configmap_from_files(orc, kubectl, namespace, tmp_path):
    (tmp_path / "app.properties").write_text("color=blue\n")
    (tmp_path / "settings.env").write_text("# comment\nMODE=fast\nLEVEL=3\n")
    orc("create", "configmap", "files", f"--from-file={tmp_path / 'app.properties'}",
        f"--from-file=renamed={tmp_path / 'app.properties'}", f"--from-env-file={tmp_path / 'settings.env'}",
        "-n", namespace, check=True)
    data = json.loads(kubectl("get", "cm", "files", "-n", namespace, "-o", "json").stdout)["data"]
    assert data == {"app.properties": "color=blue\n", "renamed": "color=blue\n", "MODE": "fast", "LEVEL": "3"}


def test_namespace_and_dry_run_output(both, kubectl):
    ours, theirs = both("create", "namespace", "made-here", "--dry-run=client", "-o", "yaml")
    assert ours.stdout == theirs.stdout
    ours, theirs = both("create", "deployment", "web", "--image=echo:v1", "--port=8080", "--dry-run=client",
                        "-o", "yaml")
    assert ours.stdout == theirs.stdout
    assert kubectl("get", "ns", "made-here", check=False).returncode == 1


@pytest.mark.parametrize("args", [
    pytest.param(["deployment", "x"], id="missing-image"),
    pytest.param(["deployment", "x", "--image=a", "--image=b", "--", "sleep", "1"], id="images-and-command"),
    pytest.param(["configmap", "x", "--from-literal=novalue"], id="bad-literal"),
    pytest.param(["configmap", "x", "--from-literal=a=1", "--from-literal=a=2"], id="duplicate-key"),
])
def test_generator_errors_read_like_kubectl(both, namespace, args):
    ours, theirs = both("create", "-n", namespace, "--dry-run=client", *args)
    assert ours.returncode == 1 and theirs.returncode != 0
    # kubectl reports a missing flag through klog; the message itself is the same.
    assert ours.stderr.strip().removeprefix("error: ") in theirs.stderr.replace('\\"', '"')


def test_create_existing_object_fails(both, namespace):
    both("create", "configmap", "twice", "--from-literal=a=b", "-n", namespace)
    ours, theirs = both("create", "configmap", "twice", "--from-literal=a=b", "-n", namespace)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr == 'error: failed to create configmap: configmaps "twice" already exists\n' \
        or ours.stderr.endswith('configmaps "twice" already exists\n')
