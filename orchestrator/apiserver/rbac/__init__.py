"""Authorization and identity for the apiserver: RBAC, ServiceAccount tokens, reviews, impersonation.

- attributes.py: a request -> Kubernetes' authorizer attributes (verb, group, resource, ...).
- authorizer.py: the RBAC authorizer over an in-memory index built from the watch cache.
- policy.py: the default ClusterRoles/bindings (one table per role) and their start-up reconcile,
  plus ClusterRole aggregation.
- escalation.py: a user may only grant what they hold (unless `escalate`/`bind`).
- tokens.py: ServiceAccount JWTs (TokenRequest) and their verification.
- reviews.py: SelfSubjectReview, (Self|Local)SubjectAccessReview, SelfSubjectRulesReview.
- middleware.py: impersonation and authorization on every request, after authentication.
"""
