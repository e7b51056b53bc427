"""The controllers of `orc controller-manager`, each a work-queue loop over shared informers.

`replicaset.py`, `deployment/`, `daemonset/`, `job/`, `cronjob/`, `ttlafterfinished.py`,
`endpoints.py`, `nodelifecycle.py`, `garbagecollector.py`, `namespace.py` and
`serviceaccounts.py` are the controllers; `base.py` (informers, queue, helpers),
`refmanager.py` (adoption), `expectations.py` and `podutil.py` are what they share;
`manager.py` runs them all and `main.py` is the command's entry point.
"""
