"""Story 6 on the one-machine cluster: two Deployments behind one Ingress, served by
`orc ingress-controller` on a real nginx (tests/ingress_story.py). The e2e cluster gives nginx free
loopback ports (tests/e2e/conftest.py); `orc up` itself uses 80/443.
"""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT
from tests.ingress_story import IngressEntry, story_6_ingress

pytestmark = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")


def test_story_6_ingress(kubectl, tmp_path):
    story_6_ingress(kubectl, tmp_path, [IngressEntry("127.0.0.1", INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT)],
                    published_ip="127.0.0.1")
