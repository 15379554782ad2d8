"""A stand-in for `systemctl` where no systemd runs: it starts the installed units' commands.

Enough of systemd for deploy.sh: start, stop, restart, reload-or-restart, is-active,
daemon-reload, show. A unit's ExecStart, Environment=, EnvironmentFile= (which wins, as in
systemd), WorkingDirectory, RuntimeDirectory and Requires= are honoured, with /opt/imperio,
/etc/imperio/ (the directory of FAKE_SYSTEMD_ENV_FILE) and %t mapped to the test's directories;
a oneshot runs each ExecStart in turn, with ${VAR} replaced from the unit's environment. Services run detached in
their own process groups; their pids and output live in FAKE_SYSTEMD_STATE.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

STATE = Path(os.environ["FAKE_SYSTEMD_STATE"])
UNITS = Path(os.environ["SYSTEMD_DIR"])
ROOT = os.environ["FAKE_SYSTEMD_ROOT"]
ENV_FILE = os.environ["FAKE_SYSTEMD_ENV_FILE"]
RUNTIME = STATE / "run"


def unit_file(name):
    """(path, instance) of a unit name such as imperio-socketio@5012.service."""
    match = re.fullmatch(r"([^@]+)@([^.]*)(\.\w+)", name)
    if match:
        return UNITS / f"{match.group(1)}@{match.group(3)}", match.group(2)
    return UNITS / name, ""


def parse(name):
    path, instance = unit_file(name)
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    text = text.replace("%i", instance).replace("%t", str(RUNTIME))
    text = text.replace("/etc/imperio/imperio.env", ENV_FILE).replace("/opt/imperio", ROOT)
    text = text.replace("/etc/imperio/", f"{Path(ENV_FILE).parent}/")
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def environment(settings):
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    for assignment in settings.get("Environment", []):
        for item in shlex.split(assignment):
            key, value = item.split("=", 1)
            env[key] = value
    for path in settings.get("EnvironmentFile", []):
        for line in Path(path.lstrip("-")).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key] = value.strip().strip('"')
    return env


def pid_of(name):
    """The unit's main pid while it runs (an exited, unreaped process does not count)."""
    try:
        pid = int((STATE / f"{name}.pid").read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return None if state in ("Z", "X") else pid


def start(name):
    if pid_of(name):
        return 0
    settings = parse(name)
    for required in " ".join(settings.get("Requires", [])).split():
        if start(required) != 0:
            print(f"dependency {required} of {name} failed", file=sys.stderr)
            return 1
    for directory in settings.get("RuntimeDirectory", []):
        (RUNTIME / directory).mkdir(parents=True, exist_ok=True)
    env = environment(settings)
    commands = [shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), line)) for line in settings["ExecStart"]]
    command = commands[0]
    cwd = settings.get("WorkingDirectory", [ROOT])[0]
    log = open(STATE / f"{name}.log", "ab")
    if settings.get("Type", ["simple"])[0] == "oneshot":
        for command in commands:
            status = subprocess.run(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
            if status != 0:
                return status
        return 0
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (STATE / f"{name}.pid").write_text(str(process.pid))
    return 0


def stop(name):
    pid = pid_of(name)
    if pid is None:
        return 0
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_of(name) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_of(name):
        os.killpg(pid, signal.SIGKILL)
    (STATE / f"{name}.pid").unlink(missing_ok=True)
    return 0


def main(args):
    args = [arg for arg in args if arg not in ("--quiet", "-q")]
    command, names = args[0], args[1:]
    if command in ("daemon-reload", "show"):
        return 0
    if command == "is-active":
        return 0 if pid_of(names[0]) else 3
    status = 0
    for name in names:
        if command == "start":
            status |= start(name)
        elif command == "stop":
            status |= stop(name)
        elif command == "restart":
            stop(name)
            status |= start(name)
        elif command == "reload-or-restart":
            pid = pid_of(name)
            if pid:
                os.kill(pid, signal.SIGHUP)
            else:
                status |= start(name)
        else:
            print(f"fake systemctl: {command} is not supported", file=sys.stderr)
            return 2
    return status


if __name__ == "__main__":
    STATE.mkdir(parents=True, exist_ok=True)
    sys.exit(main(sys.argv[1:]))
