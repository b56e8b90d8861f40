"""The Grafana provisioning and dashboard in packaging/grafana: provisioned from files,
every panel on the provisioned Prometheus, the panels the issue asks for, and only
metrics the server exports (or listed as a pending server change)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.ops.conftest import (
    CADVISOR_PREFIX,
    GRAFANA_DIR,
    PENDING_SERVER_CHANGES,
    exported_sample_names,
    kasir_metrics_in,
)

DASHBOARD = GRAFANA_DIR / "dashboards" / "kasir.json"


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def _panels() -> list[dict[str, Any]]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def test_the_datasource_and_the_dashboards_are_provisioned() -> None:
    sources = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = sources["datasources"]
    assert (source["type"], source["url"], source["uid"]) == (
        "prometheus",
        "http://prometheus:9090",
        "kasir-prometheus",
    )
    providers = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "dashboards" / "kasir.yml").read_text()
    )
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"


def test_the_dashboard_has_the_panels_the_shop_needs() -> None:
    titles = {p["title"] for p in _panels()}
    assert {
        "Sales per minute (synced)",
        "Request rate by route",
        "Error share by route",
        "Duration p50 by route",
        "Duration p99 by route",
        "Events ingested by type and outcome",
        "Sync lag per terminal",
        "Events waiting per terminal",
        "Payments by status",
        "Flagged claims by kind",
        "Container CPU",
        "Container memory (working set)",
    } <= titles


def test_panels_have_unique_ids_a_query_and_the_dashboard_datasource() -> None:
    panels = _dashboard()["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for panel in _panels():
        assert panel["targets"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]


def test_latency_panels_use_histogram_quantile_by_route_template() -> None:
    by_title = {p["title"]: p for p in _panels()}
    for title, quantile in (("Duration p50 by route", "0.5"), ("Duration p99 by route", "0.99")):
        (target,) = by_title[title]["targets"]
        assert target["expr"].startswith(f"histogram_quantile({quantile}, sum by (le, route)")
    # The route label is the template; a raw path would explode the series.
    assert '"path"' not in DASHBOARD.read_text()


def test_panels_read_only_exported_or_announced_metrics() -> None:
    exported = exported_sample_names()
    for panel in _panels():
        for target in panel["targets"]:
            unknown = kasir_metrics_in(target["expr"]) - exported - set(PENDING_SERVER_CHANGES)
            assert not unknown, f"{panel['title']} reads {unknown}, which the server lacks"


def test_container_panels_read_cadvisor_for_the_compose_project() -> None:
    container = [p for p in _panels() if any(CADVISOR_PREFIX in t["expr"] for t in p["targets"])]
    assert len(container) == 2
    for panel in container:
        for target in panel["targets"]:
            assert 'container_label_com_docker_compose_project="kasir"' in target["expr"]
