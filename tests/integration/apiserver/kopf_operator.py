"""A small kopf operator of Widgets (example.com/v1), run by test_kopf.py as `python -m kopf run --standalone`.

On create and update it writes `status.phase` and `status.observedSize` (kopf merge-patches
`/status`); on delete (kopf's finalizer holds the object) it appends a line to the file named by
$WIDGET_EVENTS, so the test can see the handler ran before the object went away.
"""

from __future__ import annotations

import os

import kopf


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.watching.server_timeout = 30
    settings.posting.level = 100  # no Events: the test watches status, not kopf's diagnostics


@kopf.on.create("example.com", "v1", "widgets")
def created(spec, patch, **_):
    patch.status["phase"] = "Created"
    patch.status["observedSize"] = spec.get("size")


@kopf.on.update("example.com", "v1", "widgets")
def updated(spec, patch, **_):
    patch.status["phase"] = "Updated"
    patch.status["observedSize"] = spec.get("size")


@kopf.on.delete("example.com", "v1", "widgets")
def deleted(name, namespace, **_):
    with open(os.environ["WIDGET_EVENTS"], "a") as events:
        events.write(f"deleted {namespace}/{name}\n")
