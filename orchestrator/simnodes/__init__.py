"""Simulated nodes (`orc sim-nodes`): N fake kubelets in one process, like KWOK.

They register Nodes, keep their Leases fresh, run the pods bound to them "on paper" (status
Running/Ready, no containers) and confirm deletions, so the control plane can be exercised at
scale without Docker. `SimulatedNodes` (simulator.py) is the engine; objects.py builds what a
kubelet writes; main.py is the command.
"""

from orchestrator.simnodes.simulator import SimulatedNodes

__all__ = ["SimulatedNodes"]
