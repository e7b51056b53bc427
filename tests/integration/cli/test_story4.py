"""Story 4 of the user scenarios ("ping-pong and httpenv", imperative commands) with `orc` in place of
kubectl (issue 6, acceptance 3).

This cluster runs the apiserver only (no scheduler, controllers or kubelet), so the test plays the
Deployment controller's part where the story needs pods, and every command is checked against what
real kubectl prints on the same cluster.
"""

from __future__ import annotations

import json

from tests.support import mask_ages


def pod_of(deployment: dict, suffix: str) -> dict:
    name = deployment["metadata"]["name"]
    template = deployment["spec"]["template"]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{name}-{suffix}", "labels": template["metadata"]["labels"],
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                              "uid": deployment["metadata"]["uid"], "controller": True}]},
            "spec": template["spec"]}


def test_story_4_with_orc(orc, kubectl_env, kubectl, namespace):
    def both(*args: str):
        return orc(*args, "-n", namespace), kubectl_env(*args, "-n", namespace)

    created = orc("create", "deployment", "pingpong", "--image=busybox", "-n", namespace, "--", "ping", "127.0.0.1")
    assert created.stdout == "deployment.apps/pingpong created\n"
    deployment = json.loads(kubectl("get", "deploy", "pingpong", "-n", namespace, "-o", "json").stdout)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["command"] == ["ping", "127.0.0.1"]
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(pod_of(deployment, "abcde")))

    # No kubelet here: the log request fails the same way for both, with the same message.
    for args in (["logs", "deploy/pingpong", "--tail", "20"], ["logs", "-l", "app=pingpong"]):
        ours, theirs = both(*args)
        assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)

    assert orc("scale", "deployments/pingpong", "--replicas", "3", "-n", namespace).stdout == \
        "deployment.apps/pingpong scaled\n"
    assert json.loads(kubectl("get", "deploy", "pingpong", "-n", namespace, "-o", "json").stdout)[
        "spec"]["replicas"] == 3

    for args in (["get", "pods", "-o", "wide"], ["get", "pods", "-o", "jsonpath={.items[0].status.podIP}"]):
        ours, theirs = both(*args)
        # The pod's AGE can tick between the two commands.
        assert mask_ages(ours.stdout) == mask_ages(theirs.stdout)

    orc("create", "deployment", "httpenv", "--image=jpetazzo/httpenv", "-n", namespace, check=True)
    assert orc("expose", "deployment", "httpenv", "--port=8888", "-n", namespace).stdout == \
        "service/httpenv exposed\n"
    service = json.loads(kubectl("get", "svc", "httpenv", "-n", namespace, "-o", "json").stdout)
    assert service["spec"]["selector"] == {"app": "httpenv"}
    assert [(port["port"], port["targetPort"]) for port in service["spec"]["ports"]] == [(8888, 8888)]

    ours, theirs = both("get", "all")
    assert ours.stdout.splitlines()[0] == theirs.stdout.splitlines()[0]
    assert [line.split()[:1] for line in ours.stdout.splitlines()] == \
        [line.split()[:1] for line in theirs.stdout.splitlines()]

    assert orc("delete", "deploy/httpenv", "-n", namespace).stdout == 'deployment.apps "httpenv" deleted\n'
    assert kubectl_env("get", "deploy", "httpenv", "-n", namespace).returncode == 1
