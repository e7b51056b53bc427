"""Helpers of the end-to-end tests: bounded waits, plain HTTP to loopback, pod queries through kubectl."""

from __future__ import annotations

import json
import time
import urllib.request


def wait_for(condition, *, timeout: float = 90, interval: float = 1.0, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting: {message}")


def http_get(url: str, timeout: float = 3.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode()
    except OSError:
        return None


def is_running(pod: dict) -> bool:
    """Running with every container ready, and not being deleted."""
    return pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp") \
        and all(c.get("ready") for c in pod["status"].get("containerStatuses", []))


def running_pods(kubectl, selector: str) -> list[dict]:
    pods = json.loads(kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]
    return [pod for pod in pods if is_running(pod)]
