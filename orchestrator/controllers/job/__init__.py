"""The Job controller (batch/v1), split as the Deployment controller is.

`plan.py` holds the decisions as pure functions (which pods to create or delete, how
finished pods are counted, the status and conditions); `controller.py` holds the I/O
(watch handlers, `sync(key)`, applying a plan, removing pod finalizers).
"""

from orchestrator.controllers.job.controller import JobController

__all__ = ["JobController"]
