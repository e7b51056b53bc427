"""The HorizontalPodAutoscaler controller: `controller.py` (sync and I/O) over `replicas.py` (pure arithmetic)."""

from orchestrator.controllers.hpa.controller import DEFAULT_SYNC_PERIOD, HorizontalPodAutoscalerController

__all__ = ["DEFAULT_SYNC_PERIOD", "HorizontalPodAutoscalerController"]
