"""The identity and access endpoints: TokenRequest, SelfSubjectReview, (Self|Local)SubjectAccessReview,
SelfSubjectRulesReview. They are not stored: each POST answers from the request's user and the
RBAC index, as kube-apiserver's virtual resources do.

`add_routes(app, context)` adds them to the app ahead of the generic resource routes; `context`
gives the Authorization service (service.py), the token issuer (tokens.py) and the watch cache.
Each route is authorised by the middleware like any request (create on the review resource, or on
serviceaccounts/token). Used by app.py; `kubectl create token`, `kubectl auth whoami`,
`kubectl auth can-i [--list] [--as]` and `orc auth ...` call them.
"""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.api import errors
from orchestrator.apiserver.auth import UserInfo
from orchestrator.apiserver.rbac.attributes import Attributes
from orchestrator.apiserver.rbac.authorizer import MASTERS_GROUP
from orchestrator.apiserver.rbac.tokens import MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS

AUTHORIZATION_V1 = "authorization.k8s.io/v1"
AUTHENTICATION_V1 = "authentication.k8s.io/v1"


def _json(body: dict, status: int = 201) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict:
    raw = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if not raw:
        return {}
    if content_type == "application/vnd.kubernetes.protobuf":
        from orchestrator.apiserver.protobuf import decode_protobuf

        body = decode_protobuf(raw)
    else:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise errors.BadRequest(f"error decoding request body: {error}") from error
    if not isinstance(body, dict):
        raise errors.BadRequest("the body of the request must be an object")
    return body


def _user(request: Request) -> UserInfo:
    user = (request.scope.get("state") or {}).get("user")
    return user or UserInfo(name="system:anonymous", groups=("system:unauthenticated",))


def _attributes(spec: dict) -> Attributes:
    resource = spec.get("resourceAttributes")
    if resource:
        return Attributes(verb=resource.get("verb") or "", path="", resource_request=True,
                          api_group=resource.get("group") or "", api_version=resource.get("version") or "",
                          namespace=resource.get("namespace") or "", resource=resource.get("resource") or "",
                          subresource=resource.get("subresource") or "", name=resource.get("name") or "")
    non_resource = spec.get("nonResourceAttributes") or {}
    return Attributes(verb=non_resource.get("verb") or "", path=non_resource.get("path") or "")


def _access_review(kind: str, body: dict, user: UserInfo, authorization) -> Response:
    spec = body.get("spec") or {}
    if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
        raise errors.Invalid(kind=kind, group="authorization.k8s.io", name="", errors=[errors.required(
            "spec.resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
    allowed = authorization.authorizer.allowed(user, _attributes(spec)) if authorization.enabled else True
    status = {"allowed": allowed}
    if allowed and MASTERS_GROUP not in user.groups:
        status["reason"] = "RBAC: allowed"
    return _json({"kind": kind, "apiVersion": AUTHORIZATION_V1,
                  "metadata": {**(body.get("metadata") or {}), "creationTimestamp": None},
                  "spec": spec, "status": status})


def add_routes(app, context) -> None:
    """`context`: service.Authorization (.authorizer, .enabled, .issuer, .lookup(resource, namespace, name))."""

    async def self_subject_review(request: Request):
        user = _user(request)
        user_info = {"username": user.name, "groups": list(user.groups)}
        if user.uid:
            user_info["uid"] = user.uid
        return _json({"kind": "SelfSubjectReview", "apiVersion": AUTHENTICATION_V1,
                      "metadata": {"creationTimestamp": None}, "status": {"userInfo": user_info}})

    async def self_subject_access_review(request: Request):
        return _access_review("SelfSubjectAccessReview", await _body(request), _user(request), context)

    async def subject_access_review(request: Request):
        body = await _body(request)
        spec = body.get("spec") or {}
        if not spec.get("user") and not spec.get("groups"):
            raise errors.Invalid(kind="SubjectAccessReview", group="authorization.k8s.io", name="", errors=[
                errors.required("spec.user", "at least one of user or group must be specified")])
        subject = UserInfo(name=spec.get("user") or "", uid=spec.get("uid") or "", groups=tuple(spec.get("groups") or ()))
        kind = "LocalSubjectAccessReview" if "namespace" in request.path_params else "SubjectAccessReview"
        if kind == "LocalSubjectAccessReview":
            namespace = request.path_params["namespace"]
            attributes = spec.get("resourceAttributes") or {}
            if attributes.get("namespace", namespace) != namespace:
                raise errors.BadRequest(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
            if spec.get("resourceAttributes"):
                spec["resourceAttributes"] = {**attributes, "namespace": namespace}
            body["metadata"] = {**(body.get("metadata") or {}), "namespace": namespace}
        return _access_review(kind, body, subject, context)

    async def self_subject_rules_review(request: Request):
        body = await _body(request)
        namespace = (body.get("spec") or {}).get("namespace") or ""
        rules = context.authorizer.rules_for(_user(request), namespace or None)
        resource_rules, non_resource_rules = [], []
        for rule in rules:
            if rule.get("nonResourceURLs"):
                non_resource_rules.append({"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]})
            else:
                entry = {"verbs": rule.get("verbs") or [], "apiGroups": rule.get("apiGroups") or [],
                         "resources": rule.get("resources") or []}
                if rule.get("resourceNames"):
                    entry["resourceNames"] = rule["resourceNames"]
                resource_rules.append(entry)
        return _json({"kind": "SelfSubjectRulesReview", "apiVersion": AUTHORIZATION_V1,
                      "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {},
                      "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
                                 "incomplete": False}})

    async def token_request(request: Request):
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        body = await _body(request)
        spec = dict(body.get("spec") or {})
        account = context.lookup("serviceaccounts", namespace, name)
        if account is None:
            raise errors.NotFound.for_object(resource="serviceaccounts", group="", name=name)
        expiration = spec.get("expirationSeconds") or 3600
        if not isinstance(expiration, int) or expiration < MIN_EXPIRATION_SECONDS:
            raise errors.Invalid(kind="TokenRequest", group="authentication.k8s.io", name=name, errors=[errors.invalid(
                "spec.expirationSeconds", expiration, "may not specify a duration less than 10 minutes")])
        expiration = min(expiration, MAX_EXPIRATION_SECONDS)
        pod = None
        reference = spec.get("boundObjectRef")
        if reference:
            if reference.get("kind") != "Pod":
                raise errors.BadRequest(f"cannot bind token to object of type {reference.get('kind')}")
            pod = context.lookup("pods", namespace, reference.get("name") or "")
            if pod is None:
                raise errors.NotFound.for_object(resource="pods", group="", name=reference.get("name") or "")
            if reference.get("uid") and reference["uid"] != pod["metadata"].get("uid"):
                raise errors.Conflict(f"the UID in the bound object reference ({reference['uid']}) does not match "
                                      f"the UID in record. The object might have been deleted and then recreated")
            spec["boundObjectRef"] = {**reference, "uid": pod["metadata"].get("uid")}
        token, expiry = context.issuer.issue(namespace=namespace, account=name,
                                             account_uid=account["metadata"].get("uid", ""),
                                             audiences=spec.get("audiences"), expiration_seconds=expiration, pod=pod)
        spec["expirationSeconds"] = expiration
        spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
        return _json({"kind": "TokenRequest", "apiVersion": AUTHENTICATION_V1,
                      "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
                      "spec": spec,
                      "status": {"token": token,
                                 "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))}})

    routes = [
        ("/apis/authentication.k8s.io/v1/selfsubjectreviews", self_subject_review),
        ("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", self_subject_access_review),
        ("/apis/authorization.k8s.io/v1/subjectaccessreviews", subject_access_review),
        ("/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews", subject_access_review),
        ("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", self_subject_rules_review),
        ("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", token_request),
    ]
    for path, endpoint in routes:
        app.add_route(path, endpoint, methods=["POST"])
