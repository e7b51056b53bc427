"""`orc` with custom resources: get (printer columns, -o wide), scale, explain and delete, as kubectl does them."""

from __future__ import annotations

import json

from tests.integration.apiserver.test_customresources import WIDGET_CRD, widget


def test_orc_gets_scales_explains_and_deletes_custom_resources(orc, kubectl, namespace):
    kubectl("apply", "-f", "-", input=json.dumps(WIDGET_CRD))
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com")
    orc("apply", "-n", namespace, "-f", "-", input=json.dumps(widget("w1", size=2)), check=True)
    assert orc("get", "widgets", "-n", namespace, check=True).stdout.splitlines()[0].split() == ["NAME", "SIZE", "AGE"]
    wide = orc("get", "wd", "-n", namespace, "-o", "wide", check=True).stdout.splitlines()
    assert wide[1].split()[:3] == ["w1", "2", "blue"]
    assert orc("scale", "widget", "w1", "-n", namespace, "--replicas=2", check=True).stdout.strip() == \
        "widget.example.com/w1 scaled"
    assert "size\t<integer> -required-" in orc("explain", "widgets.spec", check=True).stdout
    orc("delete", "wd", "w1", "-n", namespace, check=True)
    assert orc("get", "widgets", "-n", namespace).stderr.strip() == f"No resources found in {namespace} namespace."
