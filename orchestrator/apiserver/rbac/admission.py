"""Write checks the apiserver runs with the requesting user, after validation and before storing
(RestHandler.write_checks): RBAC escalation prevention for the four RBAC kinds.

Used by app.py, which registers `RBACAdmission(authorization).check` on the REST handler.
"""

from __future__ import annotations

from orchestrator.apiserver.rbac.escalation import check_write

RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def request_user(request):
    return (request.scope.get("state") or {}).get("user")


class RBACAdmission:
    def __init__(self, authorization):
        self.authorization = authorization

    async def check(self, request, target, obj: dict, old: dict | None) -> None:
        kind = target.info.kind
        if kind not in RBAC_KINDS or not self.authorization.enabled:
            return
        user = request_user(request)
        if user is None:
            return
        check_write(self.authorization.authorizer, user, kind=kind, obj=obj, old=old)
