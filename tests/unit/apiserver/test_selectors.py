"""Tests for orchestrator.apiserver.selectors: label and field selectors as Kubernetes parses and matches them."""

import pytest

from orchestrator.api.errors import BadRequest
from orchestrator.apiserver.selectors import (
    FieldSelector,
    Operator,
    Requirement,
    check_field_selector,
    field_set,
    parse_field_selector,
    parse_label_selector,
    selector_from_object,
    selector_from_set,
)

NAME_PART_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def new_pod(**overrides) -> dict:
    pod = {
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {"nodeName": "node-a", "restartPolicy": "Always", "schedulerName": "default-scheduler"},
        "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]},
    }
    pod.update(overrides)
    return pod


# --- label selectors: parsing and canonical form ---------------------------------------------------


@pytest.mark.parametrize(
    "text, requirements, canonical",
    [
        pytest.param("a=b", [("a", Operator.EQUALS, ("b",))], "a=b", id="equals"),
        pytest.param("a==b", [("a", Operator.DOUBLE_EQUALS, ("b",))], "a==b", id="double-equals"),
        pytest.param("a!=b", [("a", Operator.NOT_EQUALS, ("b",))], "a!=b", id="not-equals"),
        pytest.param("a in (y,x,y)", [("a", Operator.IN, ("x", "y"))], "a in (x,y)", id="in-sorted-deduped"),
        pytest.param("a notin (x)", [("a", Operator.NOT_IN, ("x",))], "a notin (x)", id="notin"),
        pytest.param("a", [("a", Operator.EXISTS, ())], "a", id="exists"),
        pytest.param("!a", [("a", Operator.DOES_NOT_EXIST, ())], "!a", id="does-not-exist"),
        pytest.param("a>1", [("a", Operator.GREATER_THAN, ("1",))], "a>1", id="gt"),
        pytest.param("a<10", [("a", Operator.LESS_THAN, ("10",))], "a<10", id="lt"),
        pytest.param("a=", [("a", Operator.EQUALS, ("",))], "a=", id="empty-value"),
        pytest.param("a in ()", [("a", Operator.IN, ("",))], "a in ()", id="empty-set-is-empty-value"),
        pytest.param("a in (,x)", [("a", Operator.IN, ("", "x"))], "a in (,x)", id="leading-empty-value"),
        pytest.param(
            " z = 1 ,\tb notin( x , y ) , !c ,example.com/d",
            [
                ("b", Operator.NOT_IN, ("x", "y")),
                ("c", Operator.DOES_NOT_EXIST, ()),
                ("example.com/d", Operator.EXISTS, ()),
                ("z", Operator.EQUALS, ("1",)),
            ],
            "b notin (x,y),!c,example.com/d,z=1",
            id="whitespace-and-sorted-by-key",
        ),
        pytest.param("in in (in,notin)", [("in", Operator.IN, ("in", "notin"))], "in in (in,notin)", id="keywords"),
        pytest.param("", [], "", id="empty"),
    ],
)
def test_parse_label_selector(text, requirements, canonical):
    selector = parse_label_selector(text)
    assert selector.requirements == tuple(Requirement(*requirement) for requirement in requirements)
    assert str(selector) == canonical
    assert selector.empty is (not requirements)
    assert parse_label_selector(canonical) == selector


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param(
            "a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt", id="no-op"
        ),
        pytest.param("a=b c", "found 'c', expected: ',' or 'end of string'", id="trailing-word"),
        pytest.param("a=b,", "found '', expected: identifier after ','", id="trailing-comma"),
        pytest.param(",a", "found ',', expected: !, identifier, or 'end of string'", id="leading-comma"),
        pytest.param("!a=b", "found '=', expected: ',' or 'end of string'", id="not-with-value"),
        pytest.param("a in x", "unable to parse requirement: found 'x' expected: '('", id="in-without-parens"),
        pytest.param("a in (b", "unable to parse requirement: found '', expected: ',' or ')'", id="unclosed"),
        pytest.param("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'", id="space-in-set"),
        pytest.param("a=(b)", "unable to parse requirement: found '(', expected: identifier", id="paren-value"),
        pytest.param("!", "unable to parse requirement: found '', expected: identifier", id="bare-not"),
        pytest.param(
            "a>x",
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
            id="gt-not-integer",
        ),
        pytest.param(
            "-a=b", f'unable to parse requirement: <nil>: Invalid value: "-a": {NAME_PART_RULE}', id="bad-key"
        ),
        pytest.param(
            "/a",
            'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty',
            id="empty-prefix",
        ),
        pytest.param(
            "a=" + "v" * 64,
            f'unable to parse requirement: values[0][a]: Invalid value: "{"v" * 64}": must be no more than 63 characters',
            id="value-too-long",
        ),
        pytest.param(
            "a in (x,-y)",
            f'unable to parse requirement: values[0][a]: Invalid value: "-y": {LABEL_VALUE_RULE}',
            id="bad-value",
        ),
    ],
)
def test_parse_label_selector_refuses(text, message):
    with pytest.raises(BadRequest) as caught:
        parse_label_selector(text)
    assert caught.value.message == message
    assert caught.value.code == 400


# --- label selectors: matching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, labels, expected",
    [
        pytest.param("app=web", {"app": "web", "tier": "x"}, True, id="equals-hit"),
        pytest.param("app=web", {"app": "db"}, False, id="equals-miss"),
        pytest.param("app!=web", {}, True, id="not-equals-absent"),
        pytest.param("app!=web", {"app": "web"}, False, id="not-equals-hit"),
        pytest.param("app in (a,b)", {"app": "b"}, True, id="in-hit"),
        pytest.param("app in (a,b)", {}, False, id="in-absent"),
        pytest.param("app notin (a)", {}, True, id="notin-absent"),
        pytest.param("app notin (a)", {"app": "a"}, False, id="notin-hit"),
        pytest.param("app", {"app": ""}, True, id="exists"),
        pytest.param("!app", {"app": ""}, False, id="does-not-exist"),
        pytest.param("n>5", {"n": "6"}, True, id="gt-hit"),
        pytest.param("n>5", {"n": "5"}, False, id="gt-equal"),
        pytest.param("n<5", {"n": "x"}, False, id="lt-non-integer-label"),
        pytest.param("a=1,b=2", {"a": "1", "b": "3"}, False, id="and"),
        pytest.param("", None, True, id="empty-selects-all"),
    ],
)
def test_label_selector_matches(text, labels, expected):
    assert parse_label_selector(text).matches(labels) is expected


# --- metav1.LabelSelector objects --------------------------------------------------------------------


@pytest.mark.parametrize(
    "selector, labels, expected, canonical, empty",
    [
        pytest.param(None, {"app": "web"}, False, "", False, id="none-selects-nothing"),
        pytest.param(None, {}, False, "", False, id="none-selects-nothing-even-unlabelled"),
        pytest.param({}, {}, True, "", True, id="empty-selects-everything"),
        pytest.param({"matchLabels": {}, "matchExpressions": []}, {"a": "b"}, True, "", True, id="empty-lists"),
        pytest.param({"matchLabels": {"app": "web"}}, {"app": "web"}, True, "app=web", False, id="match-labels"),
        pytest.param(
            {
                "matchLabels": {"tier": "fe"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "app", "operator": "Exists"},
                    {"key": "zone", "operator": "NotIn", "values": ["z1"]},
                ],
            },
            {"tier": "fe", "env": "dev", "app": "x"},
            True,
            "app,!canary,env in (dev,prod),tier=fe,zone notin (z1)",
            False,
            id="expressions",
        ),
    ],
)
def test_selector_from_object(selector, labels, expected, canonical, empty):
    label_selector = selector_from_object(selector)
    assert label_selector.matches(labels) is expected
    assert str(label_selector) == canonical
    assert label_selector.empty is empty


@pytest.mark.parametrize(
    "selector, message",
    [
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            '"Gt" is not a valid label selector operator',
            id="bad-operator",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
            id="in-without-values",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
            id="exists-with-values",
        ),
        pytest.param({"matchLabels": {"-a": "b"}}, f'key: Invalid value: "-a": {NAME_PART_RULE}', id="bad-key"),
        pytest.param(
            {"matchLabels": {"a": "b c"}}, f'values[0][a]: Invalid value: "b c": {LABEL_VALUE_RULE}', id="bad-value"
        ),
    ],
)
def test_selector_from_object_refuses(selector, message):
    with pytest.raises(ValueError) as caught:
        selector_from_object(selector)
    assert str(caught.value) == message


def test_selector_from_set():
    assert str(selector_from_set({"b": "2", "a": "1"})) == "a=1,b=2"
    assert selector_from_set({}).empty and selector_from_set(None).matches({"x": "y"})


# --- field selectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical, fields, expected",
    [
        pytest.param("spec.nodeName=n1", "spec.nodeName=n1", {"spec.nodeName": "n1"}, True, id="equals"),
        pytest.param("spec.nodeName==n1", "spec.nodeName=n1", {"spec.nodeName": "n2"}, False, id="double-equals"),
        pytest.param("status.phase!=Running", "status.phase!=Running", {}, True, id="not-equals-missing-is-empty"),
        pytest.param("spec.nodeName=", "spec.nodeName=", {}, True, id="empty-value-matches-missing"),
        pytest.param("b=2,a=1", "a=1,b=2", {"a": "1", "b": "2"}, True, id="sorted-and"),
        pytest.param(r"a=x\,y\=z\\", r"a=x\,y\=z\\", {"a": "x,y=z\\"}, True, id="escapes"),
        pytest.param("a=1,,", "a=1", {"a": "1"}, True, id="empty-terms-skipped"),
        pytest.param("", "", {}, True, id="empty"),
    ],
)
def test_parse_field_selector(text, canonical, fields, expected):
    selector = parse_field_selector(text)
    assert str(selector) == canonical
    assert selector.matches(fields) is expected
    assert parse_field_selector(canonical) == selector


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("a", "invalid selector: 'a'; can't understand 'a'", id="no-operator"),
        pytest.param("a=1,b", "invalid selector: 'a=1,b'; can't understand 'b'", id="second-term"),
        pytest.param("a=b=c", "invalid field selector: unescaped character in value: 61", id="unescaped-equals"),
        pytest.param(r"a=b\x", r"invalid field selector: invalid escape sequence: \x", id="bad-escape"),
        pytest.param("a=b\\", "invalid field selector: invalid escape sequence: \\", id="trailing-backslash"),
    ],
)
def test_parse_field_selector_refuses(text, message):
    with pytest.raises(BadRequest) as caught:
        parse_field_selector(text)
    assert caught.value.message == message


def test_field_selector_value_for():
    selector = parse_field_selector("spec.nodeName=n1,status.phase!=Failed")
    assert selector.value_for("spec.nodeName") == "n1"
    assert selector.value_for("status.phase") is None
    assert FieldSelector().empty and FieldSelector().value_for("spec.nodeName") is None


@pytest.mark.parametrize(
    "resource, obj, expected",
    [
        pytest.param(
            "pods",
            new_pod(),
            {
                "metadata.name": "web-1",
                "metadata.namespace": "default",
                "spec.nodeName": "node-a",
                "spec.restartPolicy": "Always",
                "spec.schedulerName": "default-scheduler",
                "spec.serviceAccountName": "",
                "spec.hostNetwork": "false",
                "status.phase": "Running",
                "status.podIP": "10.0.0.5",
                "status.nominatedNodeName": "",
            },
            id="pod",
        ),
        pytest.param(
            "pods",
            {"metadata": {"name": "p"}, "spec": {"hostNetwork": True}},
            {
                "metadata.name": "p",
                "metadata.namespace": "",
                "spec.nodeName": "",
                "spec.restartPolicy": "",
                "spec.schedulerName": "",
                "spec.serviceAccountName": "",
                "spec.hostNetwork": "true",
                "status.phase": "",
                "status.podIP": "",
                "status.nominatedNodeName": "",
            },
            id="bare-pod",
        ),
        pytest.param(
            "events",
            {
                "metadata": {"name": "e", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default", "uid": "u1"},
                "reason": "Scheduled",
                "type": "Normal",
                "reportingComponent": "default-scheduler",
            },
            {
                "metadata.name": "e",
                "metadata.namespace": "default",
                "involvedObject.kind": "Pod",
                "involvedObject.namespace": "default",
                "involvedObject.name": "web-1",
                "involvedObject.uid": "u1",
                "involvedObject.apiVersion": "",
                "involvedObject.resourceVersion": "",
                "involvedObject.fieldPath": "",
                "reason": "Scheduled",
                "reportingComponent": "default-scheduler",
                "source": "default-scheduler",
                "type": "Normal",
            },
            id="event-source-falls-back-to-reporting-component",
        ),
        pytest.param(
            "nodes",
            {"metadata": {"name": "n"}, "spec": {"unschedulable": True}},
            {"metadata.name": "n", "metadata.namespace": "", "spec.unschedulable": "true"},
            id="node",
        ),
        pytest.param(
            "replicasets",
            {"metadata": {"name": "r", "namespace": "d"}},
            {"metadata.name": "r", "metadata.namespace": "d", "status.replicas": "0"},
            id="replicaset",
        ),
        pytest.param(
            "configmaps", {"metadata": {"name": "c"}}, {"metadata.name": "c", "metadata.namespace": ""}, id="other"
        ),
    ],
)
def test_field_set(resource, obj, expected):
    assert field_set(resource, obj) == expected


def test_field_selector_on_pods():
    pods = [new_pod(), new_pod(spec={"nodeName": "node-b"}, status={"phase": "Pending"})]
    selector = parse_field_selector("spec.nodeName=node-b,status.phase!=Running")
    assert [field_set("pods", pod)["spec.nodeName"] for pod in pods if selector.matches(field_set("pods", pod))] == [
        "node-b"
    ]


@pytest.mark.parametrize(
    "resource, text, message",
    [
        pytest.param("pods", "spec.nodeName=a,status.podIP=1", None, id="pod-fields"),
        pytest.param("events", "involvedObject.name=x,type=Normal", None, id="event-fields"),
        pytest.param("pods", "status.hostIP=1", "field label not supported: status.hostIP", id="pod-unsupported"),
        pytest.param(
            "nodes", "metadata.namespace=x", "field label not supported: metadata.namespace", id="node-namespace"
        ),
        pytest.param("configmaps", "metadata.name=x", None, id="default-meta"),
        pytest.param(
            "configmaps",
            "foo.bar=baz",
            '"foo.bar" is not a known field selector: only "metadata.name", "metadata.namespace"',
            id="default-unsupported",
        ),
    ],
)
def test_check_field_selector(resource, text, message):
    selector = parse_field_selector(text)
    if message is None:
        check_field_selector(resource, selector)
        return
    with pytest.raises(BadRequest) as caught:
        check_field_selector(resource, selector)
    assert caught.value.message == message
