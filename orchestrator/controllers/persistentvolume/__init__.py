"""The persistent-volume controller (binding, local-path provisioning, reclaim, protection finalizers)."""

from orchestrator.controllers.persistentvolume.controller import PersistentVolumeController

__all__ = ["PersistentVolumeController"]
