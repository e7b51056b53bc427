"""The Deployment controller, split by concern as pkg/controller/deployment is.

`controller.py` (watch handlers, sync, applying plans), `sync.py` (one sync as a pure
plan: new ReplicaSet, proportional scaling, status), `rolling.py` and `recreate.py`
(the strategies), `progress.py` (Progressing condition, deadline), `rollback.py`
(revisions), `util.py` (fenceposts, hash, annotations, conditions).
"""

from orchestrator.controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
