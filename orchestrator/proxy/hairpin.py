"""Hairpin mode on the cluster's bridge ports, so a pod can reach itself through its own Service.

When a pod connects to a ClusterIP and the random pick is that same pod, the
bridge netfilter code sends the DNATed frame back out of the port it came in on,
which a Linux bridge only does for ports in hairpin mode (measured here: without
it the connection hangs; with it and the SEP chain's masquerade, it answers).
Docker turns hairpin on only when its userland proxy is disabled, so the proxy
turns it on for every port of the bridges of its cluster's Docker networks
(label `orc.cluster=<name>`), as the kubelet's `--hairpin-mode=hairpin-veth` does.

Best effort: without a Docker engine or sysfs it logs once and does nothing.
Called by the proxy after each sync (main.py), in a worker thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

SYS_CLASS_NET = Path("/sys/class/net")
LABEL_CLUSTER = "orc.cluster"  # the kubelet's label on the networks it creates (kubelet/runtime.py)


class HairpinKeeper:
    """Finds the cluster's bridges through the Docker engine and keeps hairpin mode on their ports."""

    def __init__(self, cluster_name: str, *, sys_class_net: Path = SYS_CLASS_NET):
        self.cluster_name = cluster_name
        self.sys_class_net = sys_class_net
        self._client = None
        self._warned = False

    def bridges(self) -> list[str]:
        """The Linux bridge devices of the cluster's Docker networks."""
        try:
            if self._client is None:
                import docker

                self._client = docker.from_env(timeout=10)
            networks = self._client.api.networks(filters={"label": [f"{LABEL_CLUSTER}={self.cluster_name}"]})
        except Exception as error:  # no engine here: nothing to do, say it once
            if not self._warned:
                log.warning("cannot list the Docker networks of cluster %s, hairpin mode not set: %s",
                            self.cluster_name, error)
                self._warned = True
            self._client = None
            return []
        bridges = []
        for network in networks:
            if network.get("Driver") != "bridge":
                continue
            options = network.get("Options") or {}
            bridges.append(options.get("com.docker.network.bridge.name") or f"br-{network['Id'][:12]}")
        return bridges

    def ensure(self) -> int:
        """Turn hairpin mode on where it is off; returns how many ports were changed."""
        changed = 0
        for bridge in self.bridges():
            for port in sorted((self.sys_class_net / bridge / "brif").glob("*")):
                mode_file = port / "hairpin_mode"
                try:
                    if mode_file.read_text().strip() != "1":
                        mode_file.write_text("1")
                        changed += 1
                except OSError as error:  # a port that went away meanwhile, or a read-only sysfs
                    log.debug("hairpin mode on %s: %s", port.name, error)
        return changed

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
