"""Where the `orc` client keeps what it may reuse between commands: discovery, parsed kubeconfigs.

`$ORC_CACHE_DIR`, else `$XDG_CACHE_HOME/orc`, else `~/.cache/orc`, one subdirectory per purpose.
Plain os.path rather than pathlib, because the `get` fast path (cli/client/fastpath.py) imports it
and start-up time is what it is for. Used by cli/client/resources.py (discovery documents) and
cli/client/connection.py (the kubeconfig, parsed).
"""

from __future__ import annotations

import os
import re


def cache_dir(purpose: str) -> str:
    """The directory for one kind of cached data (it may not exist yet)."""
    root = os.environ.get("ORC_CACHE_DIR")
    if root:
        return os.path.join(root, purpose)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "orc", purpose)


def cache_file_name(key: str) -> str:
    """A file name for `key` (a server address, a path): its runs of other characters become `_`."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", key).strip("_") + ".json"
