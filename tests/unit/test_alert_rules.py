"""The shipped alert rules, checked and unit-tested by Debian's promtool.

`promtool check rules` parses them as Prometheus would; `promtool test rules`
runs tests/unit/alerts/bondd-alerts.test.yml, which must hold, for every
alert, a case that fires it and one that keeps it silent. Each rule names
the bondctl command to run.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bondd.metrics.view import NAMES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "packaging" / "examples" / "bondd-alerts.yml"
TESTS = REPO / "tests" / "unit" / "alerts" / "bondd-alerts.test.yml"


def rules() -> list[dict[str, object]]:
    return list(yaml.safe_load(RULES.read_text())["groups"][0]["rules"])


def promtool(*args: str) -> str:
    proc = subprocess.run(["promtool", *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_promtool_accepts_the_rules() -> None:
    assert "SUCCESS" in promtool("check", "rules", str(RULES))


def test_every_alert_passes_its_promtool_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", str(TESTS))


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    cases = [
        check
        for group in yaml.safe_load(TESTS.read_text())["tests"]
        for check in group["alert_rule_test"]
    ]
    for rule in rules():
        mine = [c for c in cases if c["alertname"] == rule["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"nothing fires {rule['alert']}"
        assert any(not c["exp_alerts"] for c in mine), f"nothing keeps {rule['alert']} silent"


def test_every_alert_has_a_summary_and_a_runbook_naming_bondctl() -> None:
    for rule in rules():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["summary"], rule["alert"]
        assert re.search(r"`bondctl [a-z-]+", annotations["runbook"]), rule["alert"]


def test_the_rules_use_only_metrics_bondd_or_node_exporter_exports() -> None:
    used = set(re.findall(r"\b(bondd_[a-z_]+)", RULES.read_text()))
    assert used <= set(NAMES)
