"""The Prometheus configuration and alert rules in packaging/prometheus, checked by
promtool: the config and rules load, every alert fires and stays quiet in its unit tests,
and the rules read only metrics the server exports."""

from __future__ import annotations

from typing import Any

import yaml

from tests.ops.conftest import (
    PROMETHEUS_DIR,
    exported_sample_names,
    kasir_metrics_in,
    run_tool,
)

REQUIRED_ALERTS = {
    "KasirServerDown",
    "KasirHigh5xxRate",
    "KasirPushLatencyP99High",
    "KasirSyncLagHigh",
    "KasirEventsWaitingGrowing",
    "KasirQrisCallbacksFailing",
    "KasirContainerMemoryHigh",
    "KasirContainerDiskHigh",
}


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_config_and_its_rule_file(promtool: str) -> None:
    out = run_tool([promtool, "check", "config", "prometheus.yml"], cwd=PROMETHEUS_DIR)
    assert "SUCCESS: 1 rule files found" in out


def test_promtool_accepts_the_rules(promtool: str) -> None:
    out = run_tool([promtool, "check", "rules", "alerts.yml"], cwd=PROMETHEUS_DIR)
    assert f"SUCCESS: {len(_rules())} rules found" in out


def test_every_alert_fires_and_stays_quiet_in_the_unit_tests(promtool: str) -> None:
    out = run_tool([promtool, "test", "rules", "alerts_test.yml"], cwd=PROMETHEUS_DIR)
    assert "SUCCESS" in out and "FAILED" not in out


def test_each_alert_has_a_firing_and_a_quiet_case() -> None:
    alerts = {rule["alert"] for rule in _rules()}
    assert alerts >= REQUIRED_ALERTS
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text())["tests"]
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    assert alerts == fires, f"alerts never seen firing: {alerts - fires}"
    assert alerts == quiet, f"alerts never seen quiet: {alerts - quiet}"


def test_the_rules_read_only_metrics_the_server_exports() -> None:
    exported = exported_sample_names()
    for rule in _rules():
        unknown = kasir_metrics_in(rule["expr"]) - exported
        assert not unknown, f"{rule['alert']} reads metrics the server lacks: {unknown}"


def test_the_servers_are_scraped_directly_with_the_rules_loaded() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    roles = {
        target: sc.get("labels", {}).get("role")
        for sc in jobs["kasir"]["static_configs"]
        for target in sc["targets"]
    }
    # Every server process of the compose stack, each with its role (the back office
    # apart from the tills' sync servers), in the one job the alerts and dashboards read.
    assert roles == {
        "server-1:8000": "sync",
        "server-2:8000": "sync",
        "backoffice:8000": "backoffice",
    }
    assert jobs["kasir"].get("metrics_path", "/metrics") == "/metrics"
    assert "cadvisor" in jobs
    assert config["rule_files"] == ["alerts.yml"]
