"""PersistentVolumeClaim, PersistentVolume and StorageClass through real kubectl, without controllers:
the default class `local-path` exists at start-up and is given to claims without a class, the
objects print with kubectl 1.32's columns, and bad claims are refused with Kubernetes' messages.
"""

from __future__ import annotations

import json

MANIFEST = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: manual}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  storageClassName: manual
  hostPath: {path: /tmp/orc-manual-volume}
"""


def test_default_class_columns_and_defaulting(kubectl):
    kubectl("apply", "-f", "-", input=MANIFEST)

    classes = kubectl("get", "sc").stdout.split("\n")
    claims = kubectl("get", "pvc", "data").stdout.split("\n")
    volumes = kubectl("get", "pv", "manual").stdout.split("\n")

    assert classes[0].split() == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION",
                                  "AGE"]
    assert classes[1].split()[:6] == ["local-path", "(default)", "orchestrator.io/local-path", "Delete",
                                      "WaitForFirstConsumer", "false"]
    assert claims[0].split() == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS",
                                 "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert claims[1].split()[:4] == ["data", "Pending", "local-path", "<unset>"]
    assert volumes[0].split() == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY", "STATUS", "CLAIM",
                                  "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"]
    assert volumes[1].split()[:6] == ["manual", "2Gi", "RWO,ROX", "Retain", "Pending", "manual"]
    claim = json.loads(kubectl("get", "pvc", "data", "-o", "json").stdout)
    assert claim["spec"]["storageClassName"] == "local-path"
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert claim["spec"]["volumeMode"] == "Filesystem"
    volume = json.loads(kubectl("get", "pv", "manual", "-o", "json").stdout)
    assert volume["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]


def test_bad_claims_and_volumes_are_refused_with_kubernetes_messages(kubectl):
    no_modes = kubectl("create", "-f", "-", check=False, input="""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: no-modes}
spec: {resources: {requests: {storage: 1Gi}}}
""")
    no_storage = kubectl("create", "-f", "-", check=False, input="""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: no-storage}
spec: {accessModes: [ReadWriteOnce]}
""")
    local_without_affinity = kubectl("create", "-f", "-", check=False, input="""
apiVersion: v1
kind: PersistentVolume
metadata: {name: lonely}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], local: {path: /tmp/x}}
""")
    bad_class = kubectl("create", "-f", "-", check=False, input="""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: odd}
provisioner: example.com/x
reclaimPolicy: Recycle
""")

    assert no_modes.returncode != 0
    assert ('PersistentVolumeClaim "no-modes" is invalid: spec.accessModes: Required value: '
            'at least 1 access mode is required') in no_modes.stderr
    assert 'PersistentVolumeClaim "no-storage" is invalid: spec.resources[storage]: Required value' in no_storage.stderr
    assert "spec.nodeAffinity: Required value: Local volumes require node affinity" in local_without_affinity.stderr
    assert 'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"' in bad_class.stderr
    assert kubectl("get", "pvc", "no-modes", check=False).returncode != 0  # nothing half-written


def test_claim_spec_is_immutable_but_the_request_is_not_yet_bound(kubectl):
    kubectl("apply", "-f", "-", input=MANIFEST)
    changed = kubectl("patch", "pvc", "data", "-p", '{"spec":{"accessModes":["ReadWriteMany"]}}', check=False)

    assert changed.returncode != 0
    assert "spec: Forbidden: spec is immutable after creation" in changed.stderr
