"""The CronJob controller (batch/v1), split as the Job controller is.

`plan.py` holds the decisions as pure functions (which Job to create, which to delete, the
status) over the cron schedules of orchestrator/api/cron.py; `controller.py` holds the I/O.
"""

from orchestrator.controllers.cronjob.controller import CronJobController

__all__ = ["CronJobController"]
