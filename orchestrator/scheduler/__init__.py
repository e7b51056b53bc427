"""The scheduler (`orc scheduler`): binds pending pods to nodes with kube-scheduler's plugins.

framework.py (plugin protocol, pod and node facts), nodetable.py (nodes as numpy arrays),
plugins/ (one module per plugin), algorithm.py (choosing a node, the FailedScheduling text),
cache.py (nodes and assumed pods), queue.py (active/backoff/unschedulable), scheduler.py (the
loop and the bindings), main.py (the command).
"""
