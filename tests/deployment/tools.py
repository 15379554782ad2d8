"""Programs the deployment tests need: skipped where absent, except in the services run."""

import os
import shutil

import pytest


def require_tools(*names):
    """Skip unless these programs are installed; fail instead when REQUIRE_SERVICES=1 (.ci/run installs them)."""
    missing = [name for name in names if not shutil.which(name)]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (.ci/run installs it for the services run)"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)
