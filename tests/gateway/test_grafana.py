"""The shipped Grafana dashboard and provisioning example: every PromQL query parses (with
promql-parser, the Python binding of the Rust PromQL parser GreptimeDB uses) and names only
metrics that a RUNNING gateway exports (read from its /metrics with prometheus-client's parser)."""

import json
import os
import re
import urllib.request

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from support.broker import free_port
from support.gateway import make_config, running

promql_parser = pytest.importorskip("promql_parser", reason="promql-parser (dev extra) not installed")

GRAFANA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "gateway", "grafana")
# Grafana's own variables, replaced as Grafana would before the query reaches Prometheus
VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$gateway": ".*"}


def dashboard():
    with open(os.path.join(GRAFANA, "lpwa-gateway.json")) as f:
        return json.load(f)


def queries(dash):
    """Every PromQL expression: panel targets and query variables (label_values(metric, label))."""
    out = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q or ""
        m = re.fullmatch(r"label_values\((.+),\s*\w+\)", q.strip())
        if m:
            out.append(m.group(1))
    return out


def metric_names(expr):
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    names = []

    def visit(node, *_):
        if isinstance(node, promql_parser.VectorSelector):
            names.append(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def exported(text):
    """Series names as Prometheus stores them: a counter family X is queried as X_total."""
    out = set()
    for fam in text_string_to_metric_families(text):
        out.add(fam.name + "_total" if fam.type == "counter" else fam.name)
    return out


def test_every_dashboard_query_names_a_metric_the_gateway_exports(tmp_path):
    cfg = make_config(tmp_path / "state", sources={"udp": {"listen": "127.0.0.1:0"}},
                      metrics={"listen": "127.0.0.1:%d" % free_port()})
    with running(cfg) as gw:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % gw.metrics.port, timeout=10) as resp:
            names = exported(resp.read().decode())
    dash = dashboard()
    used = set()
    for expr in queries(dash):
        found = metric_names(expr)
        assert found, "query names no metric: %s" % expr
        missing = [n for n in found if n not in names]
        assert not missing, "%s: not exported by the gateway: %s" % (expr, missing)
        used.update(found)
    # the dashboard shows the figures issue #16 asked for
    for wanted in ("lpwa_device_last_seen_timestamp_seconds", "lpwa_device_rssi_dbm", "lpwa_device_snr_db",
                   "lpwa_device_battery_volts", "lpwa_device_frames_lost_total", "lpwa_source_queue_depth",
                   "lpwa_duty_cycle_used_seconds"):
        assert wanted in used
    assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])


def test_provisioning_example_points_the_dashboard_at_its_datasource():
    with open(os.path.join(GRAFANA, "datasource.yaml")) as f:
        ds = yaml.safe_load(f)
    with open(os.path.join(GRAFANA, "dashboards.yaml")) as f:
        prov = yaml.safe_load(f)
    assert ds["apiVersion"] == 1 and prov["apiVersion"] == 1
    uids = {d["uid"] for d in ds["datasources"] if d["type"] == "prometheus"}
    assert prov["providers"][0]["type"] == "file" and prov["providers"][0]["options"]["path"]
    dash = dashboard()
    refs = {p["datasource"]["uid"] for p in dash["panels"]}
    refs |= {t["datasource"]["uid"] for p in dash["panels"] for t in p["targets"]}
    assert refs == uids
