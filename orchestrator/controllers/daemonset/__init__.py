"""The DaemonSet controller (apps/v1), split as the Job controller is.

`plan.py` holds the decisions as pure functions (which nodes should run the daemon, which
pods to create and delete, the rolling update, the status); `controller.py` holds the I/O.
"""

from orchestrator.controllers.daemonset.controller import DaemonSetController

__all__ = ["DaemonSetController"]
