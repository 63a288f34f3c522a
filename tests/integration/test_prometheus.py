"""GET /metrics and the guide's SecretExpiringSoon alert, end to end:

(a) The exposition itself: content type, the rotation-timestamp gauge per secret (the creation
    time of a never-rotated secret), the secrets count, request and authentication counters.
(b) A real Prometheus (Debian's `prometheus`) scrapes a real coffer server with the shipped rules
    file, deploy/prometheus/coffer-alerts.yaml, and SecretExpiringSoon fires for a secret created
    100 days ago and not for one created now. The old secret is made with the server's test-only
    clock override, COFFER_TESTING_CLOCK_OFFSET_SECONDS (it moves the secrets service's clock
    only; SigV4 keeps the real time, so the real clients still sign correctly).
(c) A canary secret value, read many times, never appears in /metrics.

Assertion messages never contain secret values (only names and metric text without them).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import CofferServer, unique_name

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RULES_FILE = os.path.join(REPO, "deploy", "prometheus", "coffer-alerts.yaml")
ROTATION_METRIC = "aws_secretsmanager_secret_last_rotation_timestamp"
HUNDRED_DAYS = 100 * 86400  # 8640000 s
NINETY_DAYS = 90 * 86400    # 7776000 s, the alert's threshold


def prometheus_bin():
    return shutil.which("prometheus") or ("/usr/bin/prometheus"
                                          if os.path.exists("/usr/bin/prometheus") else None)


class ClockedServer(CofferServer):
    """A CofferServer whose next start() runs with COFFER_TESTING_CLOCK_OFFSET_SECONDS set."""

    clock_offset_seconds = 0

    def env(self):
        env = super().env()  # drops the caller's COFFER_* variables
        if self.clock_offset_seconds:
            env["COFFER_TESTING_CLOCK_OFFSET_SECONDS"] = str(self.clock_offset_seconds)
        return env


# ------------------------------------------------------------------------------------------------
# The text format, parsed just enough to check it
# ------------------------------------------------------------------------------------------------

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_exposition(text):
    """{name: [(labels dict, float value)]}, and the # TYPE of each family. Asserts each line is
    well-formed and that no series repeats."""
    samples = {}
    types = {}
    seen = set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"# TYPE {name} twice"
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        assert not line.startswith("#"), f"unexpected comment line: {line!r}"
        m = SAMPLE_RE.match(line)
        assert m, f"malformed sample line: {line!r}"
        name, label_text, value = m.groups()
        labels = {}
        if label_text:
            pos = 0
            while pos < len(label_text):
                lm = LABEL_RE.match(label_text, pos)
                assert lm, f"malformed labels in: {line!r}"
                labels[lm.group(1)] = unescape(lm.group(2))
                pos = lm.end()
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, f"duplicate series: {line!r}"
        seen.add(key)
        samples.setdefault(name, []).append((labels, float(value)))
    return samples, types


def value_of(samples, name, **labels):
    """The value of the one series of `name` whose labels include `labels`, or None."""
    found = [v for lbl, v in samples.get(name, []) if all(lbl.get(k) == x
                                                         for k, x in labels.items())]
    assert len(found) <= 1, f"{name}{labels}: {len(found)} series"
    return found[0] if found else None


def scrape(server):
    """GET /metrics -> (content type, body text)."""
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=10) as resp:
        assert resp.status == 200
        return resp.headers.get("Content-Type", ""), resp.read().decode("utf-8")


# ------------------------------------------------------------------------------------------------
# A real Prometheus
# ------------------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """`prometheus` scraping one target every second and evaluating `rules_file` every second,
    with its own config, TSDB dir and a free port, all in a temp dir."""

    def __init__(self, target, rules_file):
        self.work = tempfile.mkdtemp(prefix="coffer-prom-")
        self.target = target
        self.rules_file = rules_file
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.work, "prometheus.log")

    def start(self, timeout=60):
        config = os.path.join(self.work, "prometheus.yml")
        with open(config, "w") as f:
            # JSON is YAML; no quoting worries.
            json.dump({
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                           "evaluation_interval": "1s"},
                "rule_files": [self.rules_file],
                "scrape_configs": [{"job_name": "coffer", "metrics_path": "/metrics",
                                    "static_configs": [{"targets": [self.target]}]}],
            }, f)
        # The port is free when picked, but something else could take it before Prometheus
        # binds it: then try another.
        for _ in range(3):
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [prometheus_bin(), f"--config.file={config}",
                 f"--storage.tsdb.path={os.path.join(self.work, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.work)
            log.close()
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready",
                                                timeout=2) as resp:
                        if resp.status == 200:
                            return self
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.2)
            if self.proc.poll() is None:
                self.stop()
                raise AssertionError(f"prometheus not ready in {timeout}s:\n{self.log_tail()}")
            self.proc = None
            if "address already in use" not in self.log_tail():
                break
        raise AssertionError(f"prometheus did not start:\n{self.log_tail()}")

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.load(resp)
        assert body.get("status") == "success", body
        return body["data"]

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except FileNotFoundError:
            return ""


# ------------------------------------------------------------------------------------------------
# One server with an old secret (created 100 days ago by its clock) and fresh ones
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def aged_server():
    """Created `old` with the clock 100 days back, restarted on the same data dir with the real
    clock, then created `fresh` and `doomed` (scheduled for deletion). Yields (server, names)."""
    s = ClockedServer()
    names = {"old": unique_name("prom/old"), "fresh": unique_name("prom/fresh"),
             "doomed": unique_name("prom/doomed")}
    try:
        s.clock_offset_seconds = -HUNDRED_DAYS
        s.start()
        s.sm("create-secret", "--name", names["old"], "--secret-string",
             "old-" + uuid.uuid4().hex).ok()
        s.stop_and_check()

        s.clock_offset_seconds = 0
        s.start()
        s.sm("create-secret", "--name", names["fresh"], "--secret-string",
             "fresh-" + uuid.uuid4().hex).ok()
        s.sm("create-secret", "--name", names["doomed"], "--secret-string",
             "doomed-" + uuid.uuid4().hex).ok()
        s.sm("delete-secret", "--secret-id", names["doomed"], "--recovery-window-in-days",
             "7").ok()
        yield s, names
        s.stop_and_check()
    finally:
        s.cleanup()


def test_metrics_endpoint_exposition(aged_server):
    server, names = aged_server
    content_type, text = scrape(server)
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    samples, types = parse_exposition(text)

    assert types.get(ROTATION_METRIC) == "gauge"
    assert types.get("coffer_requests_total") == "counter"
    assert types.get("coffer_request_duration_seconds") == "histogram"

    client = server.boto3_client()
    now = time.time()
    old_created = client.describe_secret(SecretId=names["old"])["CreatedDate"].timestamp()
    fresh_created = client.describe_secret(SecretId=names["fresh"])["CreatedDate"].timestamp()
    # The clock override really made the secret 100 days old.
    assert abs((now - old_created) - HUNDRED_DAYS) < 600, now - old_created
    assert abs(now - fresh_created) < 600, now - fresh_created

    old_ts = value_of(samples, ROTATION_METRIC, secret_name=names["old"])
    fresh_ts = value_of(samples, ROTATION_METRIC, secret_name=names["fresh"])
    assert old_ts is not None, f"no {ROTATION_METRIC} for {names['old']}:\n{text}"
    assert fresh_ts is not None, f"no {ROTATION_METRIC} for {names['fresh']}:\n{text}"
    # Never rotated: the value is the creation time, in seconds (CreatedDate has ms precision).
    assert abs(old_ts - old_created) < 1.0, (old_ts, old_created)
    assert abs(fresh_ts - fresh_created) < 1.0, (fresh_ts, fresh_created)
    assert old_ts + NINETY_DAYS < now < fresh_ts + NINETY_DAYS
    for labels, _ in samples[ROTATION_METRIC]:
        assert set(labels) == {"secret_name", "region"}, labels
        assert labels["region"] == server.region, labels
    # A secret scheduled for deletion has no rotation series, but is counted.
    assert value_of(samples, ROTATION_METRIC, secret_name=names["doomed"]) is None
    assert value_of(samples, "coffer_secrets", state="active") == 2
    assert value_of(samples, "coffer_secrets", state="scheduled_for_deletion") == 1

    builds = samples.get("coffer_build_info", [])
    assert len(builds) == 1 and builds[0][1] == 1 and builds[0][0].get("version"), builds
    # Since the restart: two CreateSecret and one DeleteSecret, all successful.
    assert value_of(samples, "coffer_requests_total", service="secretsmanager",
                    action="CreateSecret", outcome="success") == 2
    assert value_of(samples, "coffer_requests_total", service="secretsmanager",
                    action="DeleteSecret", outcome="success") == 1
    assert value_of(samples, "coffer_request_duration_seconds_count", service="secretsmanager",
                    action="CreateSecret") == 2
    inf = value_of(samples, "coffer_request_duration_seconds_bucket", service="secretsmanager",
                   action="CreateSecret", le="+Inf")
    assert inf == 2
    assert value_of(samples, "coffer_audit_write_failures_total") == 0


def test_metrics_count_errors_and_authentication_failures(aged_server):
    server, _ = aged_server
    client = server.boto3_client()
    with pytest.raises(ClientError) as e:
        client.get_secret_value(SecretId=unique_name("prom/missing"))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    bad = server.boto3_client(secret_access_key="wrong" + server.secret_access_key[5:])
    with pytest.raises(ClientError) as e:
        bad.list_secrets()
    reason = e.value.response["Error"]["Code"]
    assert reason in ("InvalidSignatureException", "UnrecognizedClientException"), reason

    samples, _ = parse_exposition(scrape(server)[1])
    assert value_of(samples, "coffer_requests_total", service="secretsmanager",
                    action="GetSecretValue", outcome="client_error") >= 1
    assert value_of(samples, "coffer_request_errors_total", service="secretsmanager",
                    action="GetSecretValue", code="ResourceNotFoundException") >= 1
    assert value_of(samples, "coffer_authentication_failures_total", reason=reason) >= 1


def test_prometheus_fires_secret_expiring_soon_for_the_old_secret_only(aged_server):
    server, names = aged_server
    if prometheus_bin() is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    prom = Prometheus(f"127.0.0.1:{server.port}", RULES_FILE)
    try:
        prom.start()
        deadline = time.time() + 90
        firing = []
        scraped = set()
        while time.time() < deadline:
            alerts = prom.api("alerts")["alerts"]
            firing = [a for a in alerts if a["labels"].get("alertname") == "SecretExpiringSoon"
                      and a["state"] == "firing"]
            result = prom.api("query", query=ROTATION_METRIC)["result"]
            scraped = {r["metric"].get("secret_name") for r in result}
            if (any(a["labels"].get("secret_name") == names["old"] for a in firing)
                    and names["fresh"] in scraped):
                break
            time.sleep(0.5)
        else:
            targets = prom.api("targets")["activeTargets"]
            raise AssertionError(
                f"SecretExpiringSoon did not fire for {names['old']} in 90s; firing={firing} "
                f"scraped={sorted(scraped)} targets="
                f"{[(t.get('health'), t.get('lastError')) for t in targets]}\n{prom.log_tail()}")

        old_alert = next(a for a in firing if a["labels"].get("secret_name") == names["old"])
        assert old_alert["labels"]["severity"] == "warning"
        assert old_alert["labels"]["region"] == server.region
        assert old_alert["annotations"]["summary"] == "Secret expiring soon"
        assert old_alert["annotations"]["description"] == (
            f"Secret {names['old']} hasn't been rotated in 90 days")
        # The fresh secret is scraped (see above) and never alerts, not even as pending; nor does
        # the one scheduled for deletion, which has no series.
        alerts = prom.api("alerts")["alerts"]
        for a in alerts:
            if a["labels"].get("alertname") == "SecretExpiringSoon":
                assert a["labels"].get("secret_name") == names["old"], a["labels"]
            assert a["labels"].get("alertname") != "SecretSyncFailed", a
        # The alert's expression, asked directly, agrees.
        expr = f"({ROTATION_METRIC} + 7776000) < time()"
        hits = {r["metric"].get("secret_name") for r in prom.api("query", query=expr)["result"]}
        assert hits == {names["old"]}, hits
    finally:
        prom.cleanup()


# ------------------------------------------------------------------------------------------------
# (c) The canary
# ------------------------------------------------------------------------------------------------

def test_canary_secret_value_never_in_metrics(new_server):
    server = new_server()
    canary = "CANARY-" + uuid.uuid4().hex
    canary2 = "CANARY2-" + uuid.uuid4().hex
    name = unique_name("prom/canary")
    server.sm("create-secret", "--name", name, "--secret-string", canary).ok()
    client = server.boto3_client()
    for _ in range(5):
        assert client.get_secret_value(SecretId=name)["SecretString"] == canary
    client.put_secret_value(SecretId=name, SecretString=canary2)
    assert client.get_secret_value(SecretId=name)["SecretString"] == canary2
    got = server.sm("get-secret-value", "--secret-id", name).ok()
    assert got["SecretString"] == canary2
    client.describe_secret(SecretId=name)
    client.list_secrets()
    # The canary sent where a name belongs: a failed request, and still nothing in /metrics.
    with pytest.raises(ClientError) as e:
        client.get_secret_value(SecretId=canary)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"

    for attempt in range(2):  # a first answer of the secrets source, then a refreshed one
        if attempt:
            time.sleep(5.5)  # past the source's 5 s cache
        _, text = scrape(server)
        samples, _ = parse_exposition(text)
        assert value_of(samples, ROTATION_METRIC, secret_name=name) is not None, (
            "the secret's name (an identifier) should be in /metrics")
        assert value_of(samples, "coffer_requests_total", service="secretsmanager",
                        action="GetSecretValue", outcome="success") >= 5
        for marker in ("CANARY", canary, canary2):
            assert marker not in text, "a secret value leaked into /metrics"
