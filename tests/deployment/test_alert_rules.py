"""The Prometheus alert rules: promtool checks and unit-tests them, and they watch only metrics the app exports."""

import re
import subprocess
from pathlib import Path

import yaml

from imperioApp import metrics
from tests.deployment.tools import require_tools

RULES_DIR = Path(__file__).resolve().parents[2] / "deployment" / "prometheus"


def rules():
    return [rule for group in yaml.safe_load((RULES_DIR / "alerts.yml").read_text())["groups"] for rule in group["rules"]]


def test_promtool_checks_the_rules_and_passes_their_tests():
    require_tools("promtool")
    for command in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        result = subprocess.run(["promtool", *command], cwd=RULES_DIR, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_watch_only_metrics_the_app_exports():
    used = {name for rule in rules() for name in re.findall(r"\bimperio_\w+", rule["expr"])}
    assert used and used <= metrics.metric_names(), sorted(used - metrics.metric_names())


def test_every_alert_is_seen_firing_in_the_rules_tests():
    tests = yaml.safe_load((RULES_DIR / "alerts.test.yml").read_text())["tests"]
    fired = {check["alertname"] for test in tests for check in test["alert_rule_test"] if check["exp_alerts"]}
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts == fired, sorted(alerts ^ fired)
