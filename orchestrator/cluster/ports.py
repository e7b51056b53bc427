"""Free TCP ports on this machine, for `orc up` and tests that start servers (etcd, the apiserver).

The port is found by binding to port 0 and letting the kernel choose; the socket is closed before
returning, so another process could take the port in between. Callers that start a child process on
it should retry with a fresh port if the child reports the address in use (EtcdProcess does).
"""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
