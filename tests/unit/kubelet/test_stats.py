"""Locating a container's cgroups and reading its counters, from the text of /proc and cgroup files."""

from __future__ import annotations

import pytest

from orchestrator.kubelet import stats

MOUNTINFO_V1 = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
36 31 0:33 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
MOUNTINFO_V2_NESTED = "50 40 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"


def test_v1_hierarchies_are_preferred_when_cpuacct_and_memory_are_mounted():
    mounts = stats.parse_cgroup_mounts(MOUNTINFO_V1)
    proc = stats.parse_proc_cgroup("4:memory:/docker/c1\n2:cpuacct:/docker/c1\n0::/docker/c1\n")
    assert stats.locate(mounts, proc) == stats.ContainerCgroups(
        cpu_dir="/sys/fs/cgroup/cpuacct/docker/c1", memory_dir="/sys/fs/cgroup/memory/docker/c1", v2=False)


def test_a_v2_mount_of_a_subtree_strips_its_root():
    mounts = stats.parse_cgroup_mounts(MOUNTINFO_V2_NESTED)
    proc = stats.parse_proc_cgroup("0::/docker/abc/docker/c2\n")
    assert stats.locate(mounts, proc) == stats.ContainerCgroups(
        cpu_dir="/sys/fs/cgroup/docker/c2", memory_dir="/sys/fs/cgroup/docker/c2", v2=True)


@pytest.mark.parametrize(("usage", "stat", "v2", "expected"), [
    pytest.param(1000, {"total_inactive_file": 300}, False, 700, id="v1"),
    pytest.param(1000, {"inactive_file": 400}, True, 600, id="v2"),
    pytest.param(100, {"inactive_file": 400}, True, 0, id="never-negative"),
])
def test_working_set(usage, stat, v2, expected):
    assert stats.working_set(usage, stat, v2=v2) == expected


def test_node_cpu_counts_every_state_but_idle_and_iowait():
    text = "cpu  100 0 50 1000 30 5 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    assert stats.node_cpu_nanoseconds(text) == 160 * 1_000_000_000 // stats.USER_HZ


def test_node_memory_is_total_minus_available():
    assert stats.node_memory("MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\n") == (1024000, 614400)


@pytest.mark.parametrize(("older", "newer", "expected"), [
    pytest.param(stats.Sample(10.0, 1_000_000_000), stats.Sample(12.0, 2_000_000_000), 500_000_000, id="half-a-core"),
    pytest.param(None, stats.Sample(12.0, 5), None, id="no-previous"),
    pytest.param(stats.Sample(10.0, 9), stats.Sample(12.0, 5), None, id="counter-reset"),
])
def test_rate_nano_cores(older, newer, expected):
    assert stats.rate_nano_cores(older, newer) == expected


def test_prometheus_text_names_the_container():
    summary = {"node": {}, "pods": [{"podRef": {"name": "web", "namespace": "default", "uid": "u"},
                                     "cpu": {"time": "2026-01-01T00:00:00Z", "usageCoreNanoSeconds": 2_000_000_000},
                                     "memory": {"time": "2026-01-01T00:00:00Z", "workingSetBytes": 42},
                                     "containers": [{"name": "c", "cpu": {"time": "2026-01-01T00:00:00Z",
                                                                          "usageCoreNanoSeconds": 2_000_000_000},
                                                     "memory": {"time": "2026-01-01T00:00:00Z",
                                                                "workingSetBytes": 42}}]}]}
    text = stats.prometheus_resource_metrics(summary)
    assert 'container_cpu_usage_seconds_total{container="c",namespace="default",pod="web"} 2.0 1767225600000' in text
    assert 'pod_memory_working_set_bytes{namespace="default",pod="web"} 42' in text
