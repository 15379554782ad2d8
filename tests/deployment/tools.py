"""Programs the deployment tests need: skipped where absent, except in the services run."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def require_tools(*names):
    """Skip unless these programs are installed; fail instead when REQUIRE_SERVICES=1 (.ci/run installs them)."""
    missing = [name for name in names if not shutil.which(name)]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (.ci/run installs it for the services run)"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


class Process:
    """One service in its own process group, its output in a log file."""

    def __init__(self, name, args, env, log_dir, *, user=None, stop_signal=signal.SIGTERM):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.stop_signal = stop_signal
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=user
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def running(self):
        return self.process.poll() is None

    def wait_until(self, ready, deadline, starting=(requests.RequestException, OSError)):
        """Poll `ready()` until it holds; `starting` are the errors of a service still starting up."""
        last = None
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            try:
                if ready():
                    return
            except starting as exc:
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready ({last}):\n{self.log()[-3000:]}")

    def kill(self):
        """SIGKILL the whole group: the master and its workers die at once, as in a crash."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if not self.running():
            return
        os.killpg(self.process.pid, self.stop_signal)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
