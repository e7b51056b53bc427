"""Acceptance for authorization and identity (issue 10) through real kubectl and real etcd.

A ServiceAccount bound to a Role that allows get/list/watch pods in one namespace can do exactly
that with a token from `kubectl create token`, gets Kubernetes' 403 message elsewhere, loses the
access when the binding goes; 401 without or with a bad token; `kubectl auth can-i --as`,
`kubectl auth whoami`; escalation prevention; default ClusterRoles with aggregation.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request

import pytest

ROLE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: crew}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lookout-reads-pods, namespace: crew}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: lookout, namespace: crew}
"""


@pytest.fixture(scope="module")
def lookout_token(apiserver):
    import subprocess

    def run(*args, input=None):
        return subprocess.run(["kubectl", "--kubeconfig", str(apiserver.kubeconfig), *args], input=input,
                              capture_output=True, text=True, timeout=60, check=True).stdout

    run("create", "namespace", "crew")
    run("create", "serviceaccount", "lookout", "-n", "crew")
    run("apply", "-f", "-", input=ROLE)
    return run("create", "token", "lookout", "-n", "crew", "--duration", "1h").strip()


def _wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_service_account_token_can_read_pods_in_its_namespace_only(kubectl, lookout_token):
    allowed = kubectl("get", "pods", "-n", "crew", "--token", lookout_token)
    assert "No resources found" in allowed.stderr + allowed.stdout
    kubectl("get", "pods", "-n", "crew", "-w", "--request-timeout", "1s", "--token", lookout_token, check=False)
    denied = kubectl("get", "pods", "-n", "default", "--token", lookout_token, check=False)
    assert denied.returncode != 0
    assert ('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:crew:lookout" cannot list '
            'resource "pods" in API group "" in the namespace "default"') in denied.stderr
    create = kubectl("run", "x", "--image=busybox", "-n", "crew", "--token", lookout_token, check=False)
    assert 'cannot create resource "pods" in API group "" in the namespace "crew"' in create.stderr
    nodes = kubectl("get", "nodes", "--token", lookout_token, check=False)
    assert 'cannot list resource "nodes" in API group "" at the cluster scope' in nodes.stderr
    logs = kubectl("logs", "nope", "-n", "crew", "--token", lookout_token, check=False)
    assert "NotFound" in logs.stderr or "not found" in logs.stderr  # get pods is allowed; the pod is missing


def test_forbidden_status_body(apiserver, lookout_token):
    context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    request = urllib.request.Request(f"{apiserver.url}/api/v1/namespaces/default/pods/p",
                                     headers={"Authorization": f"Bearer {lookout_token}"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, context=context, timeout=10)
    status = json.loads(raised.value.read())
    assert raised.value.code == 403
    assert status["reason"] == "Forbidden"
    assert status["details"] == {"name": "p", "kind": "pods"}
    assert status["message"] == ('pods "p" is forbidden: User "system:serviceaccount:crew:lookout" cannot get '
                                 'resource "pods" in API group "" in the namespace "default"')


@pytest.mark.parametrize("token", [None, "not-a-token", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"], ids=["none", "bad", "bad-jwt"])
def test_unauthorized_without_or_with_a_bad_token(apiserver, token):
    context = ssl.create_default_context(cadata=apiserver.pki.ca_pem.decode())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{apiserver.url}/api/v1/pods", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert raised.value.code == 401
    assert json.loads(raised.value.read())["reason"] == "Unauthorized"


def test_auth_can_i_as_and_whoami(kubectl, lookout_token):
    subject = "system:serviceaccount:crew:lookout"
    assert kubectl("auth", "can-i", "list", "pods", "-n", "crew", "--as", subject).stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "delete", "pods", "-n", "crew", "--as", subject, check=False).stdout.strip() == "no"
    assert kubectl("auth", "can-i", "list", "pods", "-n", "default", "--as", subject,
                   check=False).stdout.strip() == "no"
    assert kubectl("auth", "can-i", "create", "deployments").stdout.strip() == "yes"  # admin: system:masters
    whoami = kubectl("auth", "whoami", "--token", lookout_token).stdout
    assert subject in whoami and "system:serviceaccounts:crew" in whoami
    listing = kubectl("auth", "can-i", "--list", "-n", "crew", "--token", lookout_token).stdout
    assert any(line.split()[0] == "pods" and "[get list watch]" in line for line in listing.splitlines() if line.strip())


def test_impersonation_needs_the_impersonate_verb(kubectl, lookout_token):
    result = kubectl("get", "pods", "-n", "crew", "--as", "alice", "--token", lookout_token, check=False)
    assert ('users "alice" is forbidden: User "system:serviceaccount:crew:lookout" cannot impersonate resource '
            '"users" in API group "" at the cluster scope') in result.stderr


def test_escalation_is_forbidden(kubectl, lookout_token, apiserver):
    # Give the account the right to write roles and bindings in crew, but nothing beyond pods reading.
    kubectl("create", "role", "rbac-writer", "-n", "crew", "--verb=create,get,list",
            "--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io")
    kubectl("create", "rolebinding", "lookout-writes-rbac", "-n", "crew", "--role=rbac-writer",
            "--serviceaccount=crew:lookout")
    held = _wait_for(lambda: kubectl("create", "role", "readers", "-n", "crew", "--verb=get", "--resource=pods",
                                     "--token", lookout_token, check=False).returncode == 0)
    assert held  # rules the user holds may be granted
    escalation = kubectl("create", "role", "deleters", "-n", "crew", "--verb=delete", "--resource=pods",
                         "--token", lookout_token, check=False)
    assert ('roles.rbac.authorization.k8s.io "deleters" is forbidden: user "system:serviceaccount:crew:lookout" '
            '(groups=["system:serviceaccounts" "system:serviceaccounts:crew" "system:authenticated"]) is attempting '
            'to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}'
            ) in escalation.stderr
    binding = kubectl("create", "rolebinding", "to-admin", "-n", "crew", "--clusterrole=admin",
                      "--serviceaccount=crew:lookout", "--token", lookout_token, check=False)
    assert "is attempting to grant RBAC permissions not currently held" in binding.stderr


def test_deleting_the_binding_revokes_access(kubectl, lookout_token):
    kubectl("create", "rolebinding", "temporary", "-n", "crew", "--clusterrole=view", "--serviceaccount=crew:lookout")
    assert _wait_for(lambda: kubectl("get", "deployments", "-n", "crew", "--token", lookout_token,
                                     check=False).returncode == 0)
    kubectl("delete", "rolebinding", "temporary", "-n", "crew")
    assert _wait_for(lambda: "Forbidden" in kubectl("get", "deployments", "-n", "crew", "--token", lookout_token,
                                                    check=False).stderr)


def test_default_cluster_roles_and_aggregation(kubectl):
    names = kubectl("get", "clusterroles", "-o", "name").stdout.split()
    for name in ("cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
                 "system:public-info-viewer", "system:kube-scheduler", "system:kube-controller-manager",
                 "system:node", "system:node-proxier"):
        assert f"clusterrole.rbac.authorization.k8s.io/{name}" in names
    kubectl("create", "clusterrole", "widgets-view", "--verb=get", "--resource=pods/log")
    kubectl("label", "clusterrole", "widgets-view", "rbac.authorization.k8s.io/aggregate-to-view=true")

    def view_has_it():
        rules = json.loads(kubectl("get", "clusterrole", "view", "-o", "json").stdout)["rules"]
        return {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]} in rules

    assert _wait_for(view_has_it)
    table = kubectl("get", "rolebindings", "-n", "crew", "-o", "wide").stdout
    assert "lookout-reads-pods" in table and "Role/pod-reader" in table and "crew/lookout" in table


def test_orc_auth_verbs_and_create_token(apiserver, kubectl, lookout_token):
    import subprocess
    import sys

    def orc(*args):
        return subprocess.run([sys.executable, "-m", "cli.main", *args, "--kubeconfig", str(apiserver.kubeconfig)],
                              capture_output=True, text=True, timeout=60)

    token = orc("create", "token", "lookout", "-n", "crew", "--duration", "20m").stdout.strip()
    assert kubectl("get", "pods", "-n", "crew", "--token", token).returncode == 0
    allowed = orc("auth", "can-i", "list", "pods", "-n", "crew", "--token", token)
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "yes")
    denied = orc("auth", "can-i", "list", "pods", "-n", "default", "--token", token)
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    assert "system:serviceaccount:crew:lookout" in orc("auth", "whoami", "--token", token).stdout
