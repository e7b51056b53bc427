"""kube-scheduler's in-tree plugins that this scheduler runs, one module each.

Each module defines a plugin class with `NAME`, and `filter`/`filter_nodes`/`reason_counts`
(filters) and/or `score`/`score_nodes`/`normalize` plus `WEIGHT` (scores); reasons are the
module's named constants, worded as Kubernetes words them. `algorithm.default_profile` puts
them in kube-scheduler's default order and weights.
"""
