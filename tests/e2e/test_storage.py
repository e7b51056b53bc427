"""PersistentVolumeClaims on a real `orc up` cluster, through real kubectl and real Docker.

A claim of the default class `local-path` (WaitForFirstConsumer) is provisioned on the node the
scheduler picks for its first pod; a file written into it survives the pod's deletion and is read
by a new pod; a claim deleted while a pod uses it stays Terminating until the pod goes; reclaim
policy Delete removes the volume object and its directory, Retain keeps both (Released); a pod
naming a missing claim is not scheduled, with kube-scheduler's message.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.e2e.helpers import wait_for

NAMESPACE = "storage-e2e"


def claim(name: str, *, storage_class: str | None = None) -> dict:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": spec}


def pod(name: str, claim_name: str, command: str, *, read_only: bool = False) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": {
        "terminationGracePeriodSeconds": 0, "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", command],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name, "readOnly": read_only}}]}}


def apply(kubectl, *objects: dict) -> None:
    path = Path(kubectl.tmp) / f"objects-{len(list(Path(kubectl.tmp).iterdir()))}.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    kubectl("apply", "-f", str(path))


def get(kubectl, kind: str, name: str, *, namespaced: bool = True) -> dict | None:
    args = ["get", kind, name, "-o", "json"] + (["-n", NAMESPACE] if namespaced else [])
    result = kubectl(*args, check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def phase(kubectl, kind: str, name: str, **kwargs) -> str | None:
    obj = get(kubectl, kind, name, **kwargs)
    return (obj or {}).get("status", {}).get("phase")


def logs(kubectl, name: str) -> str:
    return kubectl("logs", "-n", NAMESPACE, name, check=False).stdout


def test_claim_data_outlives_its_pods_and_reclaim_policies(kubectl, tmp_path):
    kubectl.tmp = tmp_path
    kubectl("create", "namespace", NAMESPACE, check=False)
    retain_class = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "keep"},
                    "provisioner": "orchestrator.io/local-path", "reclaimPolicy": "Retain",
                    "volumeBindingMode": "Immediate"}
    try:
        apply(kubectl, claim("data"), retain_class, claim("kept", storage_class="keep"),
              pod("writer", "data", "echo persisted > /data/file && cat /data/file"))
        # Immediate: bound before any pod uses it.
        wait_for(lambda: phase(kubectl, "pvc", "kept") == "Bound", timeout=60, message="the Immediate claim bound")
        wait_for(lambda: phase(kubectl, "pod", "writer") == "Succeeded", timeout=90, message="the writer pod done")
        data = get(kubectl, "pvc", "data")
        assert data["status"]["phase"] == "Bound"
        assert data["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
        volume_name = data["spec"]["volumeName"]
        volume = get(kubectl, "pv", volume_name, namespaced=False)
        directory = Path(volume["spec"]["local"]["path"])
        assert volume["spec"]["claimRef"]["name"] == "data"
        assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
        assert (directory / "file").read_text() == "persisted\n"

        table = kubectl("get", "pvc", "data", "-n", NAMESPACE).stdout.split("\n")
        assert table[1].split()[:6] == ["data", "Bound", volume_name, "64Mi", "RWO", "local-path"]
        volumes = kubectl("get", "pv", volume_name).stdout.split("\n")
        assert volumes[1].split()[:7] == [volume_name, "64Mi", "RWO", "Delete", "Bound", f"{NAMESPACE}/data",
                                          "local-path"]

        # A new pod with the same claim reads what the first one wrote; meanwhile the claim is deleted.
        kubectl("delete", "pod", "writer", "-n", NAMESPACE, "--wait=false")
        apply(kubectl, pod("reader", "data", "cat /data/file; sleep 3600", read_only=True))
        wait_for(lambda: "persisted" in logs(kubectl, "reader"), timeout=90, message="the reader sees the file")
        kubectl("delete", "pvc", "data", "-n", NAMESPACE, "--wait=false")
        terminating = kubectl("get", "pvc", "data", "-n", NAMESPACE).stdout.split("\n")[1].split()
        assert terminating[1] == "Terminating"  # kubernetes.io/pvc-protection: the reader still uses it
        assert phase(kubectl, "pv", volume_name, namespaced=False) == "Bound"
        readonly = kubectl("exec", "-n", NAMESPACE, "reader", "--", "sh", "-c", "echo x > /data/other", check=False)
        assert readonly.returncode != 0  # readOnly: true is honoured

        # The reader goes: the claim goes, then (Delete) its volume and the volume's directory.
        kubectl("delete", "pod", "reader", "-n", NAMESPACE, "--wait=false")
        wait_for(lambda: get(kubectl, "pvc", "data") is None, timeout=60, message="the claim deleted")
        wait_for(lambda: get(kubectl, "pv", volume_name, namespaced=False) is None, timeout=60,
                 message="the Delete volume removed")
        assert not directory.exists()

        # Retain: the volume stays, Released, with its directory.
        kept = get(kubectl, "pvc", "kept")["spec"]["volumeName"]
        kubectl("delete", "pvc", "kept", "-n", NAMESPACE)
        wait_for(lambda: phase(kubectl, "pv", kept, namespaced=False) == "Released", timeout=60,
                 message="the Retain volume Released")
        assert get(kubectl, "pv", kept, namespaced=False)["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    finally:
        kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
        kubectl("delete", "storageclass", "keep", check=False)
        for item in json.loads(kubectl("get", "pv", "-o", "json").stdout)["items"]:
            if (item["spec"].get("claimRef") or {}).get("namespace") == NAMESPACE:
                kubectl("delete", "pv", item["metadata"]["name"], "--wait=false", check=False)


def test_a_pod_with_a_missing_claim_is_not_scheduled(kubectl, tmp_path):
    kubectl.tmp = tmp_path
    kubectl("create", "namespace", NAMESPACE + "-missing", check=False)
    body = pod("lost", "nowhere", "sleep 1")
    body["metadata"]["namespace"] = NAMESPACE + "-missing"
    path = tmp_path / "lost.yaml"
    path.write_text(yaml.safe_dump(body))
    try:
        kubectl("apply", "-f", str(path))

        def message():
            events = json.loads(kubectl("get", "events", "-n", NAMESPACE + "-missing", "-o", "json").stdout)
            return next((e["message"] for e in events["items"] if e.get("reason") == "FailedScheduling"), None)

        text = wait_for(message, timeout=30, message="a FailedScheduling event")
        assert text.startswith("0/1 nodes are available: persistentvolumeclaim \"nowhere\" not found. preemption:")
    finally:
        kubectl("delete", "namespace", NAMESPACE + "-missing", "--wait=false", check=False)


def test_a_claim_binds_to_a_matching_static_volume_both_ways(kubectl, tmp_path):
    kubectl.tmp = tmp_path
    namespace = NAMESPACE + "-static"
    kubectl("create", "namespace", namespace, check=False)
    small = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "storage-e2e-small"},
             "spec": {"capacity": {"storage": "100Mi"}, "accessModes": ["ReadWriteOnce"],
                      "storageClassName": "manual", "hostPath": {"path": str(tmp_path / "small")}}}
    big = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "storage-e2e-big"},
           "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                    "storageClassName": "manual", "hostPath": {"path": str(tmp_path / "big")}}}
    wanted = claim("static", storage_class="manual")
    wanted["metadata"]["namespace"] = namespace
    wanted["spec"]["resources"]["requests"]["storage"] = "200Mi"
    try:
        apply(kubectl, small, big)
        wait_for(lambda: phase(kubectl, "pv", "storage-e2e-small", namespaced=False) == "Available", timeout=30,
                 message="static volumes Available")
        apply(kubectl, wanted)

        def bound():
            result = kubectl("get", "pvc", "static", "-n", namespace, "-o", "json", check=False)
            return result.returncode == 0 and json.loads(result.stdout)["status"].get("phase") == "Bound"

        wait_for(bound, timeout=30, message="the claim Bound")
        volume = get(kubectl, "pv", "storage-e2e-big", namespaced=False)
        assert volume["spec"]["claimRef"]["name"] == "static" and volume["status"]["phase"] == "Bound"
        assert phase(kubectl, "pv", "storage-e2e-small", namespaced=False) == "Available"  # too small
        kubectl("delete", "namespace", namespace, "--wait=false")
        wait_for(lambda: phase(kubectl, "pv", "storage-e2e-big", namespaced=False) == "Released", timeout=60,
                 message="namespace deletion removed the claim; the Retain volume is Released")
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        kubectl("delete", "pv", "storage-e2e-small", "storage-e2e-big", "--wait=false", check=False)
