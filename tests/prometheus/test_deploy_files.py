"""The shipped monitoring files hold what the secrets-management guide says, and agree:

- deploy/prometheus/coffer-alerts.yaml holds exactly the guide's two alerts;
- deploy/prometheus/prometheus-rule.yaml (a prometheus-operator PrometheusRule) has the same
  groups;
- deploy/kubernetes/audit-policy.yaml is the guide's audit policy.

The guide's YAML is copied below verbatim (from its "Prometheus Alerts" and "Kubernetes Audit"
sections), so this test does not need the guide itself.
"""

import os

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ALERTS = os.path.join(REPO, "deploy", "prometheus", "coffer-alerts.yaml")
PROMETHEUS_RULE = os.path.join(REPO, "deploy", "prometheus", "prometheus-rule.yaml")
AUDIT_POLICY = os.path.join(REPO, "deploy", "kubernetes", "audit-policy.yaml")

GUIDE_ALERTS = """\
- alert: SecretSyncFailed
  expr: |
    external_secrets_sync_calls_error > 0
  for: 5m
  labels:
    severity: warning
  annotations:
    summary: "External secret sync failed"
    description: "Secret {{ $labels.name }} failed to sync"

- alert: SecretExpiringSoon
  expr: |
    (aws_secretsmanager_secret_last_rotation_timestamp + 7776000) < time()
  labels:
    severity: warning
  annotations:
    summary: "Secret expiring soon"
    description: "Secret {{ $labels.secret_name }} hasn't been rotated in 90 days"
"""

GUIDE_AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: RequestResponse
  verbs: ["get", "list", "watch"]
  resources:
  - group: ""
    resources: ["secrets"]
  namespaces: ["ml-platform", "airflow"]
"""


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def all_rules(groups):
    return [rule for group in groups for rule in group["rules"]]


def test_rules_file_holds_exactly_the_guides_alerts():
    doc = load(ALERTS)
    assert set(doc) == {"groups"}, doc.keys()
    assert all_rules(doc["groups"]) == yaml.safe_load(GUIDE_ALERTS)


def test_prometheus_rule_matches_the_rules_file():
    rule = load(PROMETHEUS_RULE)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["name"]
    assert rule["spec"]["groups"] == load(ALERTS)["groups"]


def test_audit_policy_is_the_guides():
    policy = load(AUDIT_POLICY)
    assert policy == yaml.safe_load(GUIDE_AUDIT_POLICY)
    assert policy["apiVersion"] == "audit.k8s.io/v1"
    assert policy["kind"] == "Policy"
    (rule,) = policy["rules"]
    assert rule["level"] == "RequestResponse"
    assert rule["verbs"] == ["get", "list", "watch"]
    assert rule["resources"] == [{"group": "", "resources": ["secrets"]}]
    assert rule["namespaces"] == ["ml-platform", "airflow"]
