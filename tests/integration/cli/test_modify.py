"""`orc scale`, `set image`, `label`, `annotate` and `patch` next to kubectl (issue 6, acceptance 1)."""

from __future__ import annotations

import json

import pytest


def spec_of(kubectl, kind: str, name: str, namespace: str) -> dict:
    return json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)


@pytest.fixture
def deployments(kubectl, namespace) -> str:
    for name in ("ours", "theirs"):
        kubectl("create", "deployment", name, "--image=echo:v1", "--image=busybox", "-n", namespace)
    return namespace


@pytest.mark.parametrize("args, expected_word", [
    pytest.param(["scale", "deployment", "{name}", "--replicas=4"], "scaled", id="scale"),
    pytest.param(["scale", "deployments/{name}", "--replicas", "3"], "scaled", id="scale-slash"),
    pytest.param(["set", "image", "deployment/{name}", "echo=echo:v2"], "image updated", id="set-image"),
    pytest.param(["set", "image", "deployment/{name}", "*=echo:v3"], "image updated", id="set-image-all"),
    pytest.param(["label", "deployment", "{name}", "tier=web", "team=a"], "labeled", id="label"),
    pytest.param(["annotate", "deployment", "{name}", "owner=me"], "annotated", id="annotate"),
    pytest.param(["patch", "deployment", "{name}", "-p", '{"spec":{"replicas":5}}'], "patched", id="patch-strategic"),
    pytest.param(["patch", "deployment", "{name}", "--type=merge", "-p", '{"metadata":{"labels":{"x":"y"}}}'],
                 "patched", id="patch-merge"),
    pytest.param(["patch", "deployment", "{name}", "--type=json", "-p",
                  '[{"op":"replace","path":"/spec/replicas","value":2}]'], "patched", id="patch-json"),
])
def test_changes_match_kubectl(orc, kubectl_env, kubectl, deployments, args, expected_word):
    namespace = deployments
    ours = orc(*[argument.replace("{name}", "ours") for argument in args], "-n", namespace)
    theirs = kubectl_env(*[argument.replace("{name}", "theirs") for argument in args], "-n", namespace)
    assert ours.stdout == theirs.stdout.replace("theirs", "ours") == f"deployment.apps/ours {expected_word}\n"
    ours_object = spec_of(kubectl, "deployment", "ours", namespace)
    theirs_object = spec_of(kubectl, "deployment", "theirs", namespace)

    def comparable(document: dict) -> str:
        return json.dumps([document["spec"], document["metadata"].get("labels"),
                           document["metadata"].get("annotations")], sort_keys=True)

    assert comparable(ours_object) == comparable(theirs_object).replace("theirs", "ours")


def test_label_sequence_matches_kubectl(orc, kubectl_env, kubectl, namespace):
    for name in ("a", "b"):
        kubectl("create", "configmap", name, "-n", namespace)
    steps = [
        ["label", "cm", "{name}", "x=1"],
        ["label", "cm", "{name}", "x=2"],
        ["label", "cm", "{name}", "x=2", "--overwrite"],
        ["label", "cm", "{name}", "x=2", "--overwrite"],
        ["label", "cm", "{name}", "x-"],
        ["label", "cm", "{name}", "x-"],
        ["annotate", "cm", "{name}", "note=hello"],
        ["annotate", "cm", "{name}", "note=bye"],
        ["annotate", "cm", "{name}", "note=bye", "--overwrite"],
        ["annotate", "cm", "{name}", "note-"],
    ]
    for step in steps:
        ours = orc(*[part.format(name="a") for part in step], "-n", namespace)
        theirs = kubectl_env(*[part.format(name="b") for part in step], "-n", namespace)
        assert (ours.returncode, ours.stdout.replace("/a ", "/X "), ours.stderr) == \
            (theirs.returncode, theirs.stdout.replace("/b ", "/X "), theirs.stderr), step


def test_set_image_without_change_says_nothing(both, kubectl, deployments):
    ours, theirs = both("set", "image", "deployment/ours", "echo=echo:v1", "-n", deployments)
    assert ours.stdout == theirs.stdout == ""
    ours, theirs = both("set", "image", "deployment/ours", "nope=x", "-n", deployments)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr == 'error: unable to find container named "nope"\n'


def test_patch_without_change(both, deployments):
    ours, theirs = both("patch", "deployment", "ours", "-p", '{"spec":{"replicas":1}}', "-n", deployments)
    assert ours.stdout == theirs.stdout == "deployment.apps/ours patched (no change)\n"


def test_scale_needs_replicas(both, deployments):
    ours, theirs = both("scale", "deployment", "ours", "-n", deployments)
    assert ours.returncode == 1 and theirs.returncode != 0
