"""The lock files match their inputs: every pin of requirements*.txt is locked at its version, with hashes."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
ENTRY = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+?)(?: ;.*?)? \\$")


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path):
    """{name: version} of an input file, following its `-r` includes."""
    found = {}
    for line in (ROOT / path).read_text().splitlines():
        if line.startswith("-r "):
            found |= pins(line[3:].strip())
        elif match := PIN.match(line):
            found[normalise(match.group(1))] = match.group(2)
    return found


def locked(path):
    """{name: {versions}} of a lock file (a package may have one version per Python), each checked for hashes."""
    lines = (ROOT / path).read_text().splitlines()
    entries = {}
    for number, line in enumerate(lines):
        if match := ENTRY.match(line):
            assert lines[number + 1].strip().startswith("--hash=sha256:"), f"{path}: {line} has no hash"
            entries.setdefault(normalise(match.group(1)), set()).add(match.group(2))
    return entries


@pytest.mark.parametrize(
    ("inputs", "lock"), [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
)
def test_every_pin_is_locked_at_its_version(inputs, lock):
    entries = locked(lock)
    stale = {name: version for name, version in pins(inputs).items() if entries.get(name) != {version}}
    assert not stale, f"{lock} is out of date for {stale}: run `make lock`"


def test_the_development_lock_installs_the_runtime_lock_versions():
    runtime, development = locked("requirements.lock"), locked("requirements-dev.lock")
    different = {
        name: (versions, development.get(name)) for name, versions in runtime.items() if development.get(name) != versions
    }
    assert not different, different
