#!/usr/bin/python3
"""The `coffer operator` benchmark: many ExternalSecrets against a real apiserver and coffer.

  operator_bench.py run WORK_DIR RESULTS_MD     (bench/operator/run.sh calls this)
  operator_bench.py report WORK_DIR RESULTS_MD  (rewrites the report from WORK_DIR/rounds.jsonl)

Each round starts from nothing: a fresh `coffer server --dev` (server defaults: auditing on), a
fresh control plane (tools/kube/control-plane.sh: etcd, kube-apiserver 1.20,
kube-controller-manager) with deploy/crds/ applied, and then:

  1. coffer: IAM user `opbench` holding only the seed guide's ExternalSecretsPolicy, and
     OPBENCH_KEYS secrets ml-platform/opbench/key-NN, each a JSON value with a `password`;
  2. Kubernetes: namespace coffer-bench with a Secret holding the user's access key, namespaces
     opbench-NN, and the store(s): variant `cluster` = one ClusterSecretStore (aws provider,
     endpoint = coffer, auth.secretRef with namespace coffer-bench on the refs); variant
     `namespaced` = one SecretStore per namespace, the key copied into each namespace;
  3. the operator is started once to validate the store(s) (they must turn Ready=True), then
     stopped with SIGTERM;
  4. OPBENCH_EXTERNALSECRETS ExternalSecrets (refreshInterval OPBENCH_REFRESH, default 5m; one
     `data` entry each:
     property `password` of key-(i mod KEYS)) are created in bulk with the operator STOPPED
     (OPBENCH_START=after, the default) and a fresh operator process is started; the clock starts
     when it is spawned. With OPBENCH_START=before the operator keeps running and the clock starts
     when the bulk create begins;
  5. the apiserver is polled every OPBENCH_POLL_MS (200) ms: the list of ExternalSecrets (count of
     Ready=True) and of the managed target Secrets, and the operator's RSS from /proc;
  6. once all are Ready: the operator's externalsecret_provider_api_calls_count{call=
     "GetSecretValue"} and coffer's coffer_requests_total{action="GetSecretValue"} deltas, and
     every target Secret's password is compared with the value in coffer;
  7. in rounds 1..OPBENCH_PERIODIC_ROUNDS (default 1) of each variant, the first PERIODIC
     refresh round: OPBENCH_PERIODIC_CHANGE (5) keys get a new value in coffer, then the
     ExternalSecrets are listed every 1.5 s until every status.refreshTime has moved past its
     initial value; measured: GetSecretValue calls of the round (target: one per store and key),
     its duration (first to last refreshTime), which target Secrets were written (resourceVersion
     changed: only the readers of the changed keys may be), that the changed values arrived
     within 1.1 x refreshInterval, and the operator's RSS;
  8. (OPBENCH_FORCE_SYNC=1, the default) a force-sync round: every key gets a NEW value in
     coffer (PutSecretValue), all
     ExternalSecrets are annotated force-sync=<now> (`kubectl annotate ... --all`, one kubectl per
     namespace, in parallel); measured until every ExternalSecret reports a new
     syncedResourceVersion and every target Secret holds the new value; calls counted again
     (information: a force-sync reads afresh, so it shares only fetches started after its own
     annotation);
  9. VmHWM of the operator, SIGTERM (must exit 0), everything stopped.

OPBENCH_PROFILE=scale (`run.sh scale`) changes the defaults to issue 5's scale run: 10,000
ExternalSecrets in 100 namespaces reading 500 keys, one round of the ClusterSecretStore variant,
targets 120 s and 100 MB, no force-sync round, the poll loops reading the benchmark's own list +
watch (OPBENCH_WATCH=1) instead of a list per poll, and OPBENCH_PROBES=5 new ExternalSecrets
created during the periodic round (each reading a key of its own, polled by GET every 50 ms from
its POST until Ready=True; target < 2 s each).

Every process started is recorded in WORK_DIR/pids (pid and a marker of its command line) so that
run.sh's trap can stop what a crashed driver left behind. Secret values never reach a log or the
report.
"""

import base64
import http.client
import io
import json
import os
import re
import secrets as pysecrets
import shlex
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONTROL_PLANE = os.path.join(REPO, "tools", "kube", "control-plane.sh")
CRD_DIR = os.path.join(REPO, "deploy", "crds")
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
GROUP = "external-secrets.io"
API = f"/apis/{GROUP}/v1"
MANAGED_LABEL = "reconcile.external-secrets.io/managed"
CRED_NS = "coffer-bench"
CRED_SECRET = "coffer-credentials"
STORE_NAME = "coffer"
KEY_PREFIX = "ml-platform/opbench/key-"
PARTIAL_METADATA = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"

PROBE_PREFIX = "ml-platform/opbench/probe-"

# Targets (the issues). Default profile: every one of 1,000 ExternalSecrets Ready within 30 s,
# operator peak RSS under 50 MB. Scale profile: 10,000 Ready within 120 s, peak RSS under 100 MB,
# and a new ExternalSecret created during a full periodic refresh round Ready within 2 s. Both:
# one backend call per distinct (store, key, version) and refresh round.
READY_TARGET_S = 30.0
RSS_TARGET_MB = 50.0  # decimal megabytes, 50,000,000 bytes
PROBE_TARGET_S = 2.0
MIB_TO_MB = 1.048576

# OPBENCH_PROFILE=scale (or `run.sh scale`): the defaults it changes. Any OPBENCH_* variable set
# in the environment still wins; the targets are the profile's and cannot be overridden.
PROFILES = {
    "default": {},
    "scale": {
        "OPBENCH_EXTERNALSECRETS": "10000", "OPBENCH_NAMESPACES": "100", "OPBENCH_KEYS": "500",
        "OPBENCH_ROUNDS": "1", "OPBENCH_VARIANTS": "cluster", "OPBENCH_TIMEOUT": "900",
        "OPBENCH_FORCE_SYNC": "0", "OPBENCH_PROBES": "5", "OPBENCH_WATCH": "1",
        "OPBENCH_PERIODIC_POLL_MS": "500", "OPBENCH_ANNOTATE": "patch",
    },
}
PROFILE_TARGETS = {
    "default": {"ready_target_s": READY_TARGET_S, "rss_target_mb": RSS_TARGET_MB},
    "scale": {"ready_target_s": 120.0, "rss_target_mb": 100.0},
}


def profile_name():
    name = os.environ.get("OPBENCH_PROFILE", "").strip() or "default"
    if name not in PROFILES:
        raise SystemExit(f"OPBENCH_PROFILE: unknown profile {name!r} (default, scale)")
    return name


def env_raw(name):
    v = os.environ.get(name, "")
    if v.strip():
        return v.strip()
    return PROFILES[profile_name()].get(name, "")


def env_int(name, default):
    v = env_raw(name)
    return int(v) if v else default


def env_str(name, default):
    v = env_raw(name)
    return v if v else default


class Config:
    def __init__(self):
        self.profile = profile_name()
        self.ready_target_s = PROFILE_TARGETS[self.profile]["ready_target_s"]
        self.rss_target_mb = PROFILE_TARGETS[self.profile]["rss_target_mb"]
        self.probe_target_s = PROBE_TARGET_S
        # OPBENCH_* settings given in the environment (named in the report).
        self.env_settings = {k: v.strip() for k, v in sorted(os.environ.items())
                             if k.startswith("OPBENCH_") and v.strip() and k not in (
                                 "OPBENCH_PROFILE", "OPBENCH_WORK_DIR", "OPBENCH_RESULTS",
                                 "OPBENCH_KEEP")}
        self.coffer_bin = env_str("COFFER_BIN", os.path.join(REPO, "build", "coffer"))
        self.count = env_int("OPBENCH_EXTERNALSECRETS", 1000)
        self.namespaces = env_int("OPBENCH_NAMESPACES", 10)
        self.keys = env_int("OPBENCH_KEYS", 50)
        self.rounds = env_int("OPBENCH_ROUNDS", 3)
        self.variants = [v for v in env_str("OPBENCH_VARIANTS", "cluster,namespaced").split(",")
                         if v]
        self.start = env_str("OPBENCH_START", "after")
        self.timeout = env_int("OPBENCH_TIMEOUT", 300)
        self.poll_s = env_int("OPBENCH_POLL_MS", 200) / 1000.0
        self.settle_s = env_int("OPBENCH_SETTLE_MS", 2000) / 1000.0
        self.refresh = env_str("OPBENCH_REFRESH", env_str("OPBENCH_REFRESH_INTERVAL", "5m"))
        self.refresh_s = parse_duration_s(self.refresh)
        # The periodic refresh round runs in rounds 1..OPBENCH_PERIODIC_ROUNDS of each variant
        # (it waits ~refreshInterval); 0 = never.
        self.periodic_rounds = env_int("OPBENCH_PERIODIC_ROUNDS", 1)
        self.periodic_poll_s = env_int("OPBENCH_PERIODIC_POLL_MS", 1500) / 1000.0
        # Keys given a new value in coffer just before the periodic round waits (their readers
        # must get it within that round; the other Secrets must not be written).
        self.periodic_change = env_int("OPBENCH_PERIODIC_CHANGE", 5)
        self.force_sync = env_int("OPBENCH_FORCE_SYNC", 1) != 0
        self.create_threads = env_int("OPBENCH_CREATE_THREADS", 8)
        self.annotate = env_str("OPBENCH_ANNOTATE", "kubectl")
        self.operator_args = shlex.split(env_str("OPBENCH_OPERATOR_ARGS", ""))
        # New ExternalSecrets created during the periodic round (each reading a key of its own,
        # made just before the round), polled by GET every OPBENCH_PROBE_POLL_MS until Ready;
        # OPBENCH_PROBE_SPACING_MS apart (0 = spread over the expected round: the initial sync's
        # duration / probes, 2-30 s).
        self.probes = env_int("OPBENCH_PROBES", 0)
        self.probe_poll_s = env_int("OPBENCH_PROBE_POLL_MS", 50) / 1000.0
        self.probe_spacing_s = env_int("OPBENCH_PROBE_SPACING_MS", 0) / 1000.0
        # 1: the poll loops read the ExternalSecrets and target Secrets from a list + watch kept
        # by the benchmark (one list, then only changes) instead of listing every poll.
        self.watch = env_int("OPBENCH_WATCH", 0) != 0
        self.root_key_id = env_str("COFFER_ROOT_ACCESS_KEY_ID", "AKIACOFFEROPBENCH001")
        self.root_secret = env_str("COFFER_ROOT_SECRET_ACCESS_KEY",
                                   "opbenchOpbenchOpbenchOpbenchOpbench00001")
        for v in self.variants:
            if v not in ("cluster", "namespaced"):
                raise SystemExit(f"OPBENCH_VARIANTS: unknown variant {v!r}")
        if self.annotate not in ("kubectl", "patch"):
            raise SystemExit("OPBENCH_ANNOTATE must be 'kubectl' or 'patch'")
        if self.start not in ("after", "before"):
            raise SystemExit("OPBENCH_START must be 'after' or 'before'")
        if self.periodic_rounds > 0 and not self.refresh_s:
            raise SystemExit("the periodic round needs a refreshInterval > 0 (OPBENCH_REFRESH), "
                             "or set OPBENCH_PERIODIC_ROUNDS=0")
        if not 0 <= self.periodic_change <= self.keys:
            raise SystemExit("OPBENCH_PERIODIC_CHANGE must be between 0 and OPBENCH_KEYS")
        if self.probes < 0 or (self.probes and self.periodic_rounds < 1):
            raise SystemExit("OPBENCH_PROBES needs OPBENCH_PERIODIC_ROUNDS >= 1 (they are "
                             "created during the periodic round)")
        if self.count < 1 or self.namespaces < 1 or self.keys < 1 or self.rounds < 1:
            raise SystemExit("OPBENCH_EXTERNALSECRETS/NAMESPACES/KEYS/ROUNDS must be >= 1")

    def as_dict(self):
        return {k: v for k, v in vars(self).items() if k not in ("root_secret",)}


def parse_duration_s(text):
    """A Go-style duration ("5m", "1h30m", "90s", "0") in seconds."""
    if text.strip() == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise SystemExit(f"not a duration: {text!r} (e.g. 5m, 1h, 90s)")
    mult = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * mult[u] for n, u in parts)


def parse_rfc3339_s(text):
    """status.refreshTime ("2026-11-28T04:40:01Z") in epoch seconds; None if absent."""
    if not text:
        return None
    import calendar
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))


def log(msg):
    print(f"[opbench {time.strftime('%H:%M:%S', time.gmtime())}] {msg}", file=sys.stderr,
          flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# Processes.

class Procs:
    """Every process this driver spawns, recorded in WORK/pids for run.sh's trap."""

    def __init__(self, work):
        self.path = os.path.join(work, "pids")
        self.work = work

    def spawn(self, args, log_path, env):
        f = open(log_path, "ab")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env)
        f.close()
        with open(self.path, "a") as pf:
            pf.write(f"{p.pid}\n")
        return p

    @staticmethod
    def stop(p, timeout=30):
        """SIGTERM, then SIGKILL after timeout; returns (exit code, seconds to exit, killed)."""
        if p is None or p.poll() is not None:
            return (None if p is None else p.returncode), 0.0, False
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout)
            return rc, time.monotonic() - t0, False
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return p.returncode, time.monotonic() - t0, True


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "COFFER_", "KUBE", "OPBENCH_"))}
    env.update(extra or {})
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def proc_status(pid):
    """VmRSS and VmHWM of pid in MiB (None when gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) / 1024.0
    except OSError:
        return None
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def cpu_times():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def busy_pct(before, after):
    total = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / total if total > 0 else None


def proc_threads(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ------------------------------------------------------------------------------------------------
# Prometheus text.

METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_RE.match(line)
        if not m:
            continue
        labels = dict(LABEL_RE.findall(m.group(2) or ""))
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out.append((m.group(1), labels, value))
    return out


def metric_sum(samples, name, **match):
    return sum(v for n, labels, v in samples
               if n == name and all(labels.get(k) == want for k, want in match.items()))


# ------------------------------------------------------------------------------------------------
# coffer.

class Coffer:
    def __init__(self, cfg, procs, work):
        self.cfg = cfg
        self.procs = procs
        self.work = work
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        data = os.path.join(self.work, "coffer-data")
        os.makedirs(data, mode=0o700, exist_ok=True)
        port_file = os.path.join(self.work, "coffer.port")
        env = clean_env({"COFFER_ROOT_ACCESS_KEY_ID": self.cfg.root_key_id,
                         "COFFER_ROOT_SECRET_ACCESS_KEY": self.cfg.root_secret})
        args = [self.cfg.coffer_bin, "server", "--dev", "--listen", "127.0.0.1:0", "--port-file",
                port_file, "--data-dir", data]
        self.proc = self.procs.spawn(args, os.path.join(self.work, "coffer.log"), env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"coffer server exited ({self.proc.returncode}); see "
                                 f"{self.work}/coffer.log")
            try:
                text = open(port_file).read().strip()
                if text:
                    self.port = int(text)
                    if http_get(self.port, "/healthz", 1)[0] == 200:
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise BenchError("coffer server did not become healthy in 30 s")

    def client(self, service, key_id=None, secret=None):
        import boto3
        import botocore.config
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=key_id or self.cfg.root_key_id,
                            aws_secret_access_key=secret or self.cfg.root_secret,
                            config=botocore.config.Config(retries={"max_attempts": 3}))

    def metrics(self):
        status, body = http_get(self.port, "/metrics")
        if status != 200:
            raise BenchError(f"coffer /metrics answered {status}")
        return parse_metrics(body.decode())

    def get_calls(self):
        return metric_sum(self.metrics(), "coffer_requests_total", action="GetSecretValue")

    def make_user(self):
        """IAM user opbench with only the seed guide's ExternalSecretsPolicy; its access key."""
        iam = self.client("iam")
        iam.create_user(UserName="opbench")
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
                       "secretsmanager:ListSecrets"],
            "Resource": [f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:ml-platform/*"]}]}
        iam.create_policy(PolicyName="ExternalSecretsPolicy", PolicyDocument=json.dumps(policy))
        iam.attach_user_policy(UserName="opbench",
                               PolicyArn=f"arn:aws:iam::{ACCOUNT_ID}:policy/ExternalSecretsPolicy")
        key = iam.create_access_key(UserName="opbench")["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def stop(self):
        return Procs.stop(self.proc)


def new_values(n):
    """n fresh JSON secret values with a random password each: (json string, password)."""
    out = []
    for i in range(n):
        pw = pysecrets.token_urlsafe(24)
        out.append((json.dumps({"username": f"app{i:02d}", "password": pw,
                                "host": f"db-{i:02d}.opbench.internal", "port": 5432}), pw))
    return out


# ------------------------------------------------------------------------------------------------
# The apiserver.

class ApiError(BenchError):
    def __init__(self, status, method, path, body):
        super().__init__(f"{method} {path}: HTTP {status}: {body[:300]!r}")
        self.status = status


class Kube:
    def __init__(self, kube_dir):
        self.dir = kube_dir
        self.env = {}
        with open(os.path.join(kube_dir, "env")) as f:
            for line in f:
                m = re.match(r"export (\w+)=(.*)$", line.strip())
                if m:
                    self.env[m.group(1)] = m.group(2)
        u = urllib.parse.urlparse(self.env["KUBE_APISERVER_URL"])
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=self.env["KUBE_CA_FILE"])
        self.token = self.env["KUBE_TOKEN"]
        self.kubeconfig = self.env["KUBECONFIG"]
        self.local = threading.local()
        self.counts = {}  # (verb, what) -> requests this benchmark made
        self.lock = threading.Lock()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
            self.local.conn = c
        return c

    def request(self, method, path, body=None, content_type="application/json",
                accept="application/json", count_as=None):
        data = None if body is None else (body if isinstance(body, bytes)
                                          else json.dumps(body).encode())
        headers = {"Authorization": f"Bearer {self.token}", "Accept": accept}
        if data is not None:
            headers["Content-Type"] = content_type
        if count_as:
            with self.lock:
                self.counts[count_as] = self.counts.get(count_as, 0) + 1
        for attempt in range(3):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def call(self, method, path, body=None, ok=(200, 201), **kw):
        status, data = self.request(method, path, body, **kw)
        if status not in ok:
            raise ApiError(status, method, path, data)
        return json.loads(data) if data else None

    def create(self, path, obj):
        return self.call("POST", path, obj, count_as=("POST", "setup"))

    def metrics(self):
        status, body = self.request("GET", "/metrics", accept="text/plain")
        if status != 200:
            raise BenchError(f"apiserver /metrics answered {status}")
        return parse_metrics(body.decode())

    def kubectl(self, *args, stdin=None, timeout=300):
        env = clean_env({"KUBECONFIG": self.kubeconfig})
        p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, env=env,
                           timeout=timeout)
        if p.returncode != 0:
            raise BenchError(f"kubectl {' '.join(args)} failed: {p.stderr.decode()[-600:]}")
        return p.stdout.decode()


def apiserver_requests(samples):
    """apiserver_request_total summed by (verb, resource[/subresource])."""
    out = {}
    for name, labels, v in samples:
        if name != "apiserver_request_total":
            continue
        res = labels.get("resource") or labels.get("subresource") or "-"
        if labels.get("resource") and labels.get("subresource"):
            res += "/" + labels["subresource"]
        key = f"{labels.get('verb', '?')} {res}"
        out[key] = out.get(key, 0) + v
    return out


def dict_delta(after, before):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0) > 0}


def condition(obj, ctype="Ready"):
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def reduce_es(o):
    """What the poll loops read of an ExternalSecret (the watch keeps only this)."""
    md = o.get("metadata") or {}
    st = o.get("status") or {}
    c = condition(o)
    return {"metadata": {"namespace": md.get("namespace"), "name": md.get("name"),
                         "resourceVersion": md.get("resourceVersion")},
            "status": {"conditions": [c] if c else [], "refreshTime": st.get("refreshTime"),
                       "syncedResourceVersion": st.get("syncedResourceVersion")}}


def reduce_meta(o):
    md = o.get("metadata") or {}
    return {"metadata": {"namespace": md.get("namespace"), "name": md.get("name"),
                         "resourceVersion": md.get("resourceVersion")}}


class Watcher:
    """OPBENCH_WATCH=1: one resource kept in memory by a list (from the watch cache) and a watch,
    so that polling 10,000 objects costs the apiserver one list and a stream of changes instead
    of a full list (and the benchmark a parse of megabytes) at every poll."""

    def __init__(self, kube, path, reduce, what, list_accept="application/json",
                 watch_accept="application/json"):
        self.kube, self.path, self.reduce, self.what = kube, path, reduce, what
        self.list_accept, self.watch_accept = list_accept, watch_accept
        self.objs = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.synced = threading.Event()
        self.error = None
        self.events = 0
        self.lists = 0
        self.watches = 0
        self.conn = None
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"watch {what}")

    def start(self, timeout=120):
        self.thread.start()
        if not self.synced.wait(timeout):
            raise BenchError(f"the benchmark's watch of {self.what} did not list in {timeout} s: "
                             f"{self.error}")
        return self

    def stop(self):
        self.stopping.set()
        c = self.conn
        if c is not None and c.sock is not None:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(10)

    def snapshot(self):
        if self.error is not None and not self.thread.is_alive():
            raise BenchError(f"the benchmark's watch of {self.what} failed: {self.error}")
        with self.lock:
            return dict(self.objs)

    def _url(self, extra):
        return self.path + ("&" if "?" in self.path else "?") + extra

    def _list(self):
        self.lists += 1
        status, data = self.kube.request(
            "GET", self._url("resourceVersion=0"), accept=self.list_accept,
            count_as=("LIST", f"{self.what} (benchmark watch)"))
        if status != 200:
            raise ApiError(status, "GET", self.path, data)
        body = json.loads(data)
        objs = {}
        for o in body.get("items") or []:
            md = o["metadata"]
            objs[(md["namespace"], md["name"])] = self.reduce(o)
        with self.lock:
            self.objs = objs
        return body["metadata"]["resourceVersion"]

    def _watch(self, rv):
        """Streams changes from rv; returns the last resourceVersion seen (None: relist)."""
        self.watches += 1
        with self.kube.lock:
            key = ("WATCH", f"{self.what} (benchmark watch)")
            self.kube.counts[key] = self.kube.counts.get(key, 0) + 1
        c = http.client.HTTPSConnection(self.kube.host, self.kube.port, context=self.kube.ctx,
                                        timeout=330)
        self.conn = c
        try:
            c.request("GET", self._url(f"watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
                                       f"&timeoutSeconds=300"),
                      headers={"Authorization": f"Bearer {self.kube.token}",
                               "Accept": self.watch_accept})
            r = c.getresponse()
            if r.status == 410:
                return None
            if r.status != 200:
                raise ApiError(r.status, "WATCH", self.path, r.read())
            while not self.stopping.is_set():
                line = r.readline()
                if not line:
                    return rv
                ev = json.loads(line)
                o = ev.get("object") or {}
                if ev.get("type") == "ERROR":
                    if o.get("code") == 410:
                        return None
                    raise BenchError(f"watch {self.what}: {o.get('message')}")
                md = o.get("metadata") or {}
                rv = md.get("resourceVersion") or rv
                if ev.get("type") == "BOOKMARK":
                    continue
                k = (md.get("namespace"), md.get("name"))
                with self.lock:
                    self.events += 1
                    if ev.get("type") == "DELETED":
                        self.objs.pop(k, None)
                    else:
                        self.objs[k] = self.reduce(o)
            return rv
        finally:
            self.conn = None
            c.close()

    def _run(self):
        rv = None
        failures = 0
        while not self.stopping.is_set():
            try:
                if rv is None:
                    rv = self._list()
                    self.synced.set()
                rv = self._watch(rv)
                failures = 0
            except Exception as e:  # noqa: BLE001 - retried, then reported by snapshot()
                if self.stopping.is_set():
                    return
                self.error = f"{type(e).__name__}: {e}"
                failures += 1
                if failures >= 5:
                    log(f"watch {self.what}: giving up after {failures} failures: {self.error}")
                    return
                log(f"watch {self.what}: {self.error}; resuming")
                time.sleep(0.5)


def start_watchers(kube):
    """The ExternalSecrets (reduced) and the managed target Secrets (metadata only)."""
    sel = urllib.parse.quote(f"{MANAGED_LABEL}=true")
    return {
        "es": Watcher(kube, f"{API}/externalsecrets", reduce_es, "externalsecrets").start(),
        "secrets": Watcher(kube, f"/api/v1/secrets?labelSelector={sel}", reduce_meta,
                           "secrets", list_accept=PARTIAL_METADATA,
                           watch_accept="application/json;as=PartialObjectMetadata;v=v1;"
                                        "g=meta.k8s.io").start(),
    }


# ------------------------------------------------------------------------------------------------
# The operator.

class Operator:
    def __init__(self, cfg, procs, work, kube, name):
        self.cfg, self.procs, self.work, self.kube, self.name = cfg, procs, work, kube, name
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(work, f"operator-{name}.log")
        self.t_spawn = None

    def start(self):
        args = [self.cfg.coffer_bin, "operator", "--kubeconfig", self.kube.kubeconfig,
                "--metrics-addr", f"127.0.0.1:{self.port}"] + self.cfg.operator_args
        self.t_spawn = time.monotonic()
        self.proc = self.procs.spawn(args, self.log_path, clean_env())
        return self.t_spawn

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise BenchError(f"the operator exited ({self.proc.returncode}); see {self.log_path}")

    def healthy(self):
        try:
            return http_get(self.port, "/healthz", 1)[0] == 200
        except OSError:
            return False

    def metrics(self):
        status, body = http_get(self.port, "/metrics", 10)
        if status != 200:
            raise BenchError(f"operator /metrics answered {status}")
        return parse_metrics(body.decode())

    def calls(self):
        s = self.metrics()
        name = "externalsecret_provider_api_calls_count"
        out = {}
        for n, labels, v in s:
            if n == name:
                key = f"{labels.get('call', '?')}/{labels.get('status', '?')}"
                out[key] = out.get(key, 0) + v
        return out

    def stop(self):
        return Procs.stop(self.proc)

    def log_summary(self):
        lines = warn = err = 0
        samples = []
        try:
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    lines += 1
                    low = line.lower()
                    if "error" in low or "fail" in low:
                        err += 1
                        if len(samples) < 5:
                            samples.append(line.strip()[:240])
                    elif "warn" in low:
                        warn += 1
        except OSError:
            pass
        return {"lines": lines, "warn_lines": warn, "error_lines": err, "error_samples": samples}


def get_calls_total(calls):
    return sum(v for k, v in calls.items() if k.startswith("GetSecretValue/"))


def get_calls_errors(calls):
    return sum(v for k, v in calls.items()
               if k.startswith("GetSecretValue/") and not k.endswith("/success"))


# ------------------------------------------------------------------------------------------------
# One round.

def layout(cfg):
    """[(namespace, name, key index)] for every ExternalSecret."""
    out = []
    base, extra = divmod(cfg.count, cfg.namespaces)
    g = 0
    for n in range(cfg.namespaces):
        for j in range(base + (1 if n < extra else 0)):
            out.append((f"opbench-{n:02d}", f"es-{j:04d}", g % cfg.keys))
            g += 1
    return out


def expected_calls(cfg, variant, items):
    if variant == "cluster":
        return len({k for _, _, k in items})
    return len({(ns, k) for ns, _, k in items})


def store_spec(coffer_url, cred_namespace=None):
    def ref(key):
        r = {"name": CRED_SECRET, "key": key}
        if cred_namespace:
            r["namespace"] = cred_namespace
        return r
    return {"provider": {"aws": {
        "service": "SecretsManager", "region": REGION, "endpoint": coffer_url,
        "auth": {"secretRef": {"accessKeyIDSecretRef": ref("access-key-id"),
                               "secretAccessKeySecretRef": ref("secret-access-key")}}}}}


def es_object(cfg, variant, ns, name, key_index, remote_key=None):
    return {"apiVersion": f"{GROUP}/v1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"refreshInterval": cfg.refresh,
                     "secretStoreRef": {"name": STORE_NAME,
                                        "kind": "ClusterSecretStore" if variant == "cluster"
                                        else "SecretStore"},
                     "target": {"name": name, "creationPolicy": "Owner"},
                     "data": [{"secretKey": "password",
                               "remoteRef": {"key": remote_key or
                                             f"{KEY_PREFIX}{key_index:02d}",
                                             "property": "password"}}]}}


class Poller:
    """Snapshots of the ExternalSecrets, target Secrets and operator memory."""

    def __init__(self, kube, items, op, watchers=None):
        self.kube, self.op = kube, op
        self.watchers = watchers
        self.want = {(ns, name) for ns, name, _ in items}
        self.key_of = {(ns, name): k for ns, name, k in items}
        self.rss_max = 0.0
        self.polls = 0

    def list_es(self):
        if self.watchers:
            return self.watchers["es"].snapshot()
        data = self.kube.call("GET", f"{API}/externalsecrets?resourceVersion=0",
                              count_as=("LIST", "externalsecrets (benchmark poll)"))
        out = {}
        for o in data.get("items") or []:
            md = o["metadata"]
            out[(md["namespace"], md["name"])] = o
        return out

    def list_targets(self, with_data=False):
        sel = urllib.parse.quote(f"{MANAGED_LABEL}=true")
        path = f"/api/v1/secrets?labelSelector={sel}&resourceVersion=0"
        if with_data:
            data = self.kube.call("GET", path, count_as=("LIST", "secrets (benchmark poll)"))
        elif self.watchers:
            return self.watchers["secrets"].snapshot()
        else:
            data = self.kube.call("GET", path, accept=PARTIAL_METADATA,
                                  count_as=("LIST", "secrets (benchmark poll)"))
        out = {}
        for o in data.get("items") or []:
            md = o["metadata"]
            out[(md["namespace"], md["name"])] = o
        return out

    def sample_rss(self):
        st = proc_status(self.op.proc.pid) if self.op and self.op.alive() else None
        if st and "VmRSS" in st:
            self.rss_max = max(self.rss_max, st["VmRSS"])
        return st.get("VmRSS") if st else None

    def es_counts(self, es, old_srv=None):
        ready = refreshed = 0
        reasons = {}
        for key in self.want:
            o = es.get(key)
            c = condition(o) if o else None
            if c is None:
                reasons["(no condition)"] = reasons.get("(no condition)", 0) + 1
                continue
            if c.get("status") != "True":
                r = f"{c.get('status')}/{c.get('reason')}"
                reasons[r] = reasons.get(r, 0) + 1
                continue
            ready += 1
            if old_srv is not None:
                srv = (o.get("status") or {}).get("syncedResourceVersion")
                if srv and srv != old_srv.get(key):
                    refreshed += 1
        return ready, refreshed, reasons


def decode_password(secret):
    v = (secret.get("data") or {}).get("password")
    if v is None:
        return None
    try:
        return base64.b64decode(v).decode()
    except ValueError:
        return None


def check_values(poller, passwords):
    """Compares every target Secret's password with the key's value in coffer."""
    targets = poller.list_targets(with_data=True)
    ok = wrong = missing = 0
    for key in poller.want:
        s = targets.get(key)
        if s is None:
            missing += 1
            continue
        if decode_password(s) == passwords[poller.key_of[key]]:
            ok += 1
        else:
            wrong += 1
    return {"ok": ok, "wrong": wrong, "missing": missing}


def wait_for(pred, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise BenchError(f"timed out after {timeout} s waiting for {what}")


class PatchAnnotator:
    """OPBENCH_ANNOTATE=patch: the force-sync annotation as parallel merge patches (much faster
    than kubectl's one PATCH after another); looks like a Popen to the caller."""

    def __init__(self, kube, items, stamp, threads):
        self.returncode = None
        self.stderr = io.BytesIO()
        body = json.dumps({"metadata": {"annotations": {"force-sync": stamp}}}).encode()

        def patch(it):
            kube.call("PATCH", f"{API}/namespaces/{it[0]}/externalsecrets/{it[1]}", body,
                      content_type="application/merge-patch+json",
                      count_as=("PATCH", "externalsecrets (force-sync)"))

        def run():
            try:
                with ThreadPoolExecutor(threads) as ex:
                    list(ex.map(patch, items))
                self.returncode = 0
            except Exception as e:  # noqa: BLE001 - reported like kubectl's stderr
                self.stderr.write(str(e).encode())
                self.returncode = 1
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def poll(self):
        return self.returncode

    def kill(self):
        pass

    def wait(self):
        self.thread.join()
        return self.returncode


def count_advanced(es, want, init_rt):
    """How many of want have a status.refreshTime past the recorded one."""
    n = 0
    for k in want:
        o = es.get(k)
        rt = (o.get("status") or {}).get("refreshTime") if o else None
        if rt and rt != init_rt.get(k):
            n += 1
    return n


class Probes:
    """OPBENCH_PROBES new ExternalSecrets created one after another during the periodic refresh
    round (the first once its first refreshTime has moved), each reading a coffer key of its own
    (made before the round, so each costs exactly one GetSecretValue); each is polled by GET every
    OPBENCH_PROBE_POLL_MS from its POST until Ready=True."""

    def __init__(self, cfg, variant, kube, sm, poller, init_rt, namespace, spacing_s):
        self.cfg, self.variant, self.kube, self.sm = cfg, variant, kube, sm
        self.poller, self.init_rt, self.ns, self.spacing_s = poller, init_rt, namespace, spacing_s
        self.passwords = {}
        self.results = []
        self.stopping = threading.Event()
        self.thread = None
        self.t_start = None
        self.error = None

    def prepare(self):
        for i, (v, pw) in enumerate(new_values(self.cfg.probes)):
            self.sm.create_secret(Name=f"{PROBE_PREFIX}{i:02d}", SecretString=v)
            self.passwords[i] = pw

    def start(self):
        self.t_start = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True, name="probes")
        self.thread.start()

    def started(self):
        return self.thread is not None

    def join(self):
        if self.thread is not None:
            self.thread.join(self.spacing_s * self.cfg.probes + 120)
            self.stopping.set()
            self.thread.join(5)

    def _run(self):
        try:
            for i in range(self.cfg.probes):
                if i and self.stopping.wait(self.spacing_s):
                    return
                self._probe(i)
        except Exception as e:  # noqa: BLE001 - reported
            self.error = f"{type(e).__name__}: {e}"
            log(f"probe failed: {self.error}")

    def _probe(self, i):
        name = f"probe-{i:02d}"
        path = f"{API}/namespaces/{self.ns}/externalsecrets"
        obj = es_object(self.cfg, self.variant, self.ns, name, None, f"{PROBE_PREFIX}{i:02d}")
        want, n = self.poller.want, len(self.poller.want)
        at_create = count_advanced(self.poller.list_es(), want, self.init_rt)
        t0 = time.monotonic()
        self.kube.call("POST", path, obj, count_as=("POST", "externalsecrets (probe)"))
        post_s = time.monotonic() - t0
        ready_s = last = None
        gets = 0
        while time.monotonic() - t0 < 60 and not self.stopping.is_set():
            tp = time.monotonic()
            o = self.kube.call("GET", f"{path}/{name}", count_as=("GET", "externalsecrets (probe)"))
            gets += 1
            c = condition(o)
            if c and c.get("status") == "True":
                ready_s = time.monotonic() - t0
                break
            last = f"{c.get('status')}/{c.get('reason')}" if c else "(no condition)"
            time.sleep(max(0.0, self.cfg.probe_poll_s - (time.monotonic() - tp)))
        at_ready = count_advanced(self.poller.list_es(), want, self.init_rt)
        self.results.append({"probe": i, "since_round_start_s": t0 - self.t_start,
                             "post_s": post_s, "ready_s": ready_s, "gets": gets,
                             "refreshed_at_create": at_create, "refreshed_at_ready": at_ready,
                             "last_condition": None if ready_s is not None else last})
        log(f"probe {name}: created when {at_create:,}/{n:,} ExternalSecrets had been refreshed; "
            f"Ready=True {fmt_s(ready_s) if ready_s is None else f'{ready_s:.2f} s'} after its "
            f"POST ({gets} GETs; {at_ready:,}/{n:,} refreshed by then)"
            + (f"; last condition {last}" if ready_s is None else ""))

    def check_values(self):
        ok = wrong = missing = 0
        for i, pw in self.passwords.items():
            if not any(r["probe"] == i for r in self.results):
                continue
            st, data = self.kube.request("GET", f"/api/v1/namespaces/{self.ns}/secrets/"
                                         f"probe-{i:02d}", count_as=("GET", "secrets (probe)"))
            if st != 200:
                missing += 1
            elif decode_password(json.loads(data)) == pw:
                ok += 1
            else:
                wrong += 1
        return {"ok": ok, "wrong": wrong, "missing": missing}


def periodic_round(cfg, variant, rnd, res, op, kube, coffer, sm, poller, passwords):
    """The first periodic refresh round after the initial sync: waits until every
    ExternalSecret's status.refreshTime has moved past its initial value, then counts the
    round's GetSecretValue calls and checks that no target Secret was written except those whose
    key got a new value (OPBENCH_PERIODIC_CHANGE keys, changed right before the wait: their new
    value must arrive in this round, within 1.1 x refreshInterval of the change). Returns the
    passwords now in coffer."""
    want = poller.want
    es = poller.list_es()
    init_rt = {k: (es[k].get("status") or {}).get("refreshTime") if k in es else None
               for k in want}
    targets = poller.list_targets()
    init_rv = {k: targets[k]["metadata"].get("resourceVersion") for k in want if k in targets}
    probes = None
    if cfg.probes:
        spacing = cfg.probe_spacing_s or min(30.0, max(2.0, (res.get("all_ready_s") or 0.0)
                                                       / cfg.probes))
        probes = Probes(cfg, variant, kube, sm, poller, init_rt,
                        sorted({ns for ns, _ in want})[0], spacing)
        probes.prepare()
        res["probe_spacing_s"] = spacing
    op_calls_before = op.calls()
    coffer_before = coffer.get_calls()
    api_before = apiserver_requests(kube.metrics())
    kube.counts = {}
    cpu_before = proc_cpu_s(op.proc.pid) or 0.0
    changed = list(range(cfg.periodic_change))
    new = new_values(len(changed))
    t_change = time.time()
    for i, (v, _) in zip(changed, new):
        sm.put_secret_value(SecretId=f"{KEY_PREFIX}{i:02d}", SecretString=v)
    now_pw = list(passwords)
    for i, (_, pw) in zip(changed, new):
        now_pw[i] = pw
    changed_set = set(changed)
    res["periodic_changed_keys"] = len(changed)
    res["periodic_changed_es"] = sum(1 for k in want if poller.key_of[k] in changed_set)
    # The round is about as spread as the initial sync (each timer fires one interval after its
    # own sync): 2 minutes of slack, more when the initial sync took longer than 1 minute.
    slack = max(120.0, (res.get("all_ready_s") or 0.0) + 60.0)
    res["periodic_timeout_s"] = cfg.refresh_s + slack
    log(f"[{variant} {rnd}] periodic round: {len(changed)} key(s) changed in coffer; waiting for "
        f"every refreshTime to advance (refreshInterval {cfg.refresh}, timeout "
        f"{cfg.refresh_s + slack:.0f} s)")
    t_wait = time.monotonic()
    deadline = t_wait + cfg.refresh_s + slack
    t_first_seen = t_all_seen = None
    advanced = 0
    while True:
        now = time.monotonic()
        op.check_alive()
        es = poller.list_es()
        poller.sample_rss()
        advanced = count_advanced(es, want, init_rt)
        if advanced and t_first_seen is None:
            t_first_seen = time.monotonic() - t_wait
        if advanced and probes is not None and not probes.started():
            log(f"[{variant} {rnd}] periodic round under way ({advanced:,}/{len(want):,} "
                f"refreshed): creating {cfg.probes} new ExternalSecret(s), "
                f"{probes.spacing_s:.1f} s apart")
            probes.start()
        if advanced == len(want):
            t_all_seen = time.monotonic() - t_wait
            break
        if now > deadline:
            log(f"[{variant} {rnd}] periodic round TIMEOUT: {advanced}/{len(want)} refreshed")
            break
        time.sleep(max(0.0, cfg.periodic_poll_s - (time.monotonic() - now)))
    res["periodic_refreshed"] = advanced
    res["periodic_first_seen_s"] = t_first_seen
    res["periodic_all_seen_s"] = t_all_seen
    if probes is not None:
        probes.join()
        res["probes"] = probes.results
        res["probes_error"] = probes.error
        # Each probe reads a key nobody else reads: one call each, on top of the round's.
        res["periodic_expected_calls"] = res["expected_calls"] + len(probes.results)
    time.sleep(cfg.settle_s)
    op.check_alive()
    op_calls = op.calls()
    calls = {k: op_calls.get(k, 0) - op_calls_before.get(k, 0) for k in op_calls}
    res["periodic_get_calls"] = get_calls_total(calls)
    res["periodic_get_errors"] = get_calls_errors(calls)
    res["periodic_coffer_get_calls"] = coffer.get_calls() - coffer_before
    res["periodic_apiserver"] = dict_delta(apiserver_requests(kube.metrics()), api_before)
    res["periodic_bench_requests"] = {f"{v} {w}": n for (v, w), n in kube.counts.items()}
    res["periodic_cpu_s"] = (proc_cpu_s(op.proc.pid) or 0.0) - cpu_before
    es = poller.list_es()
    ready, _, reasons = poller.es_counts(es)
    res["periodic_ready"] = ready
    new_rt, since_init, arrival = [], [], []
    for k in want:
        st = (es[k].get("status") or {}) if k in es else {}
        rt = st.get("refreshTime")
        if not rt or rt == init_rt.get(k):
            continue
        t = parse_rfc3339_s(rt)
        new_rt.append(t)
        t_init = parse_rfc3339_s(init_rt.get(k))
        if t_init is not None:
            since_init.append(t - t_init)
        if poller.key_of[k] in changed_set:
            arrival.append(t - t_change)
    if new_rt:
        res["periodic_duration_s"] = max(new_rt) - min(new_rt)
        res["periodic_interval_min_s"] = min(since_init) if since_init else None
        res["periodic_interval_max_s"] = max(since_init) if since_init else None
    res["periodic_arrival_max_s"] = max(arrival) if arrival else None
    targets = poller.list_targets()
    written_same = written_changed = missing = 0
    for k in want:
        t = targets.get(k)
        if t is None:
            missing += 1
            continue
        rv_changed = t["metadata"].get("resourceVersion") != init_rv.get(k)
        if poller.key_of[k] in changed_set:
            written_changed += rv_changed
        else:
            written_same += rv_changed
    res["periodic_writes_unchanged"] = written_same
    res["periodic_writes_changed"] = written_changed
    res["periodic_targets_missing"] = missing
    res["periodic_values"] = check_values(poller, now_pw)
    if probes is not None:
        res["probe_values"] = probes.check_values()
    st = proc_status(op.proc.pid) or {}
    res["periodic_rss_mb"] = st.get("VmRSS")
    res["periodic_hwm_mb"] = st.get("VmHWM")
    log(f"[{variant} {rnd}] periodic round: {advanced}/{len(want)} refreshed (first seen after "
        f"{fmt_s(t_first_seen)}, all after {fmt_s(t_all_seen)} of waiting), refreshTimes spread "
        f"over {fmt_s(res.get('periodic_duration_s'))}; GetSecretValue calls operator "
        f"{res['periodic_get_calls']:.0f}, coffer {res['periodic_coffer_get_calls']:.0f} "
        f"(expected at most {res.get('periodic_expected_calls', res['expected_calls'])}); "
        f"Secrets written: {written_same} of unchanged keys, "
        f"{written_changed}/{res['periodic_changed_es']} of changed keys; values "
        f"{res['periodic_values']}; VmRSS {fmt_mb(res['periodic_rss_mb'])}, VmHWM "
        f"{fmt_mb(res['periodic_hwm_mb'])}; not ready: {reasons}")
    return now_pw


def run_round(cfg, procs, variant, rnd, work):
    rd = os.path.join(work, f"{variant}-{rnd}")
    os.makedirs(rd, exist_ok=True)
    items = layout(cfg)
    namespaces = sorted({ns for ns, _, _ in items})
    res = {"variant": variant, "round": rnd, "count": len(items), "namespaces": len(namespaces),
           "keys": cfg.keys, "expected_calls": expected_calls(cfg, variant, items),
           "start_mode": cfg.start, "complete": False}
    coffer = Coffer(cfg, procs, rd)
    kube_dir = os.path.join(rd, "kube")
    kube = None
    ops = []
    watchers = None
    try:
        coffer.start()
        log(f"[{variant} {rnd}] coffer server on {coffer.url}")
        key_id, key_secret = coffer.make_user()
        sm = coffer.client("secretsmanager")
        values = new_values(cfg.keys)
        for i, (v, _) in enumerate(values):
            sm.create_secret(Name=f"{KEY_PREFIX}{i:02d}", SecretString=v)
        passwords = [pw for _, pw in values]
        # The user can read them (checks the policy and the key before anything else).
        user_sm = coffer.client("secretsmanager", key_id, key_secret)
        got = json.loads(user_sm.get_secret_value(SecretId=f"{KEY_PREFIX}00")["SecretString"])
        if got["password"] != passwords[0]:
            raise BenchError("the IAM user reads a different value than was written")

        t = time.monotonic()
        subprocess.run([CONTROL_PLANE, "start", kube_dir], check=True, stdout=subprocess.DEVNULL,
                       stderr=open(os.path.join(rd, "control-plane.log"), "ab"))
        res["control_plane_start_s"] = time.monotonic() - t
        kube = Kube(kube_dir)
        kube.kubectl("apply", "-f", CRD_DIR)
        kube.kubectl("wait", "--for", "condition=established", "--timeout=60s", "crd", "--all")
        log(f"[{variant} {rnd}] control plane up in {res['control_plane_start_s']:.1f} s, "
            f"CRDs established")

        cred = {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": CRED_SECRET},
                "stringData": {"access-key-id": key_id, "secret-access-key": key_secret}}
        for ns in [CRED_NS] + namespaces:
            kube.create("/api/v1/namespaces",
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        # The service account admission needs a default ServiceAccount in no case here (no pods).
        if variant == "cluster":
            kube.create(f"/api/v1/namespaces/{CRED_NS}/secrets", cred)
            kube.create(f"{API}/clustersecretstores",
                        {"apiVersion": f"{GROUP}/v1", "kind": "ClusterSecretStore",
                         "metadata": {"name": STORE_NAME},
                         "spec": store_spec(coffer.url, CRED_NS)})
            store_paths = [f"{API}/clustersecretstores/{STORE_NAME}"]
        else:
            store_paths = []
            for ns in namespaces:
                kube.create(f"/api/v1/namespaces/{ns}/secrets", cred)
                kube.create(f"{API}/namespaces/{ns}/secretstores",
                            {"apiVersion": f"{GROUP}/v1", "kind": "SecretStore",
                             "metadata": {"name": STORE_NAME, "namespace": ns},
                             "spec": store_spec(coffer.url)})
                store_paths.append(f"{API}/namespaces/{ns}/secretstores/{STORE_NAME}")

        # The store(s) must validate before anything is measured.
        op = Operator(cfg, procs, rd, kube, "stores")
        ops.append(op)
        op.start()

        def stores_ready():
            op.check_alive()
            for p in store_paths:
                c = condition(kube.call("GET", p))
                if not c or c.get("status") != "True":
                    return False
            return True
        wait_for(stores_ready, 60, "the store(s) to be Ready")
        log(f"[{variant} {rnd}] {len(store_paths)} store(s) Ready")

        poller_items = items
        if cfg.start == "after":
            rc, secs, killed = op.stop()
            res["store_operator_exit"] = rc
            if rc != 0:
                raise BenchError(f"the operator exited {rc} on SIGTERM (killed={killed})")

        def bulk_create():
            t0 = time.monotonic()
            with ThreadPoolExecutor(cfg.create_threads) as ex:
                list(ex.map(lambda it: kube.call(
                    "POST", f"{API}/namespaces/{it[0]}/externalsecrets",
                    es_object(cfg, variant, *it), count_as=("POST", "externalsecrets (bulk)")),
                    poller_items))
            return time.monotonic() - t0

        coffer_before = coffer.get_calls()
        api_before = None
        # How busy the machine is before we add the operator (other work on the shared host).
        b0 = cpu_times()
        time.sleep(1.0)
        res["background_busy_pct"] = busy_pct(b0, cpu_times())
        with open("/proc/loadavg") as f:
            res["loadavg_1m"] = float(f.read().split()[0])
        if cfg.start == "after":
            res["create_s"] = bulk_create()
            log(f"[{variant} {rnd}] created {len(items)} ExternalSecrets in "
                f"{res['create_s']:.1f} s (operator stopped)")
            if cfg.watch:
                t = time.monotonic()
                watchers = start_watchers(kube)
                res["watch_list_s"] = time.monotonic() - t
            api_before = apiserver_requests(kube.metrics())
            kube.counts = {}
            op = Operator(cfg, procs, rd, kube, "measured")
            ops.append(op)
            cpu_before = 0.0
            t0 = op.start()
        else:
            if cfg.watch:
                watchers = start_watchers(kube)
            api_before = apiserver_requests(kube.metrics())
            kube.counts = {}
            cpu_before = proc_cpu_s(op.proc.pid) or 0.0
            calls_before_op = op.calls()
            t0 = time.monotonic()
            creator = ThreadPoolExecutor(1)
            fut = creator.submit(bulk_create)
        op_calls_before = {} if cfg.start == "after" else calls_before_op

        # ---- the initial sync -------------------------------------------------------------
        cp_pids = {"apiserver": kube.env.get("KUBE_APISERVER_PID"),
                   "etcd": kube.env.get("ETCD_PID"), "coffer": str(coffer.proc.pid)}
        cp_before = {k: proc_cpu_s(int(p)) if p else None for k, p in cp_pids.items()}
        machine_before = cpu_times()
        poller = Poller(kube, items, op, watchers)
        timeline = []
        t_healthz = t_first = t_half = t_ready = t_secrets = None
        deadline = t0 + cfg.timeout
        last_reasons = {}
        while True:
            now = time.monotonic()
            op.check_alive()
            if t_healthz is None and op.healthy():
                t_healthz = time.monotonic() - t0
            es = poller.list_es()
            targets = poller.list_targets()
            rss = poller.sample_rss()
            ready, _, last_reasons = poller.es_counts(es)
            n_targets = sum(1 for k in poller.want if k in targets)
            el = time.monotonic() - t0
            timeline.append((round(el, 3), ready, n_targets,
                             None if rss is None else round(rss, 1)))
            if ready and t_first is None:
                t_first = el
            if ready * 2 >= len(items) and t_half is None:
                t_half = el
            if ready == len(items) and t_ready is None:
                t_ready = el
            if n_targets == len(items) and t_secrets is None:
                t_secrets = el
            if t_ready is not None and t_secrets is not None:
                break
            if now > deadline:
                log(f"[{variant} {rnd}] TIMEOUT after {cfg.timeout} s: {ready}/{len(items)} "
                    f"Ready, {n_targets} targets; not ready: {last_reasons}")
                break
            time.sleep(max(0.0, cfg.poll_s - (time.monotonic() - now)))
        if cfg.start == "before":
            res["create_s"] = fut.result()
            creator.shutdown()
        res.update({"healthz_s": t_healthz, "first_ready_s": t_first, "half_ready_s": t_half,
                    "all_ready_s": t_ready, "all_targets_s": t_secrets,
                    "ready_at_end": ready, "not_ready_reasons": last_reasons,
                    "polls": len(timeline)})
        with open(os.path.join(rd, "timeline.json"), "w") as f:
            json.dump(timeline, f)
        # Memory growth while syncing: RSS at the first sample with a Ready ExternalSecret (the
        # informer caches are filled by then) and at the sample where all were Ready.
        first = next((e for e in timeline if e[1] > 0 and e[3] is not None), None)
        last = next((e for e in timeline if e[1] == len(items) and e[3] is not None), None)
        if first:
            res["rss_first_ready_mb"] = first[3]
            # At the first poll once /healthz answered (with the watch poller the first poll
            # comes right after the exec, before the process has mapped anything).
            res["rss_start_mb"] = next((e[3] for e in timeline if e[3] is not None and
                                        e[0] >= (t_healthz or 0.0)), timeline[0][3])
        if first and last and last[1] > first[1]:
            res["rss_per_es_kib"] = (last[3] - first[3]) * 1024 / (last[1] - first[1])
        log(f"[{variant} {rnd}] all Ready after {fmt_s(t_ready)}, all targets after "
            f"{fmt_s(t_secrets)} (/healthz {fmt_s(t_healthz)}, first Ready {fmt_s(t_first)}, "
            f"half {fmt_s(t_half)})")

        machine_after = cpu_times()
        res["sync_cpu_s"] = (proc_cpu_s(op.proc.pid) or 0.0) - cpu_before
        res["sync_machine_busy_pct"] = busy_pct(machine_before, machine_after)
        res["sync_other_cpu_s"] = {k: (proc_cpu_s(int(p)) or 0.0) - (cp_before[k] or 0.0)
                                   for k, p in cp_pids.items() if p and cp_before[k] is not None}
        time.sleep(cfg.settle_s)
        op.check_alive()
        op_calls = op.calls()
        res["sync_calls"] = {k: op_calls.get(k, 0) - op_calls_before.get(k, 0) for k in op_calls}
        res["sync_get_calls"] = get_calls_total(res["sync_calls"])
        res["sync_get_errors"] = get_calls_errors(res["sync_calls"])
        coffer_after = coffer.get_calls()
        res["sync_coffer_get_calls"] = coffer_after - coffer_before
        api_after = apiserver_requests(kube.metrics())
        res["sync_apiserver"] = dict_delta(api_after, api_before)
        res["sync_bench_requests"] = {f"{v} {w}": n for (v, w), n in kube.counts.items()}
        st = proc_status(op.proc.pid) or {}
        res["sync_hwm_mb"] = st.get("VmHWM")
        res["sync_rss_mb"] = st.get("VmRSS")
        res["sync_rss_sampled_max_mb"] = poller.rss_max
        res["threads"] = proc_threads(op.proc.pid)
        res["sync_values"] = check_values(poller, passwords)
        log(f"[{variant} {rnd}] GetSecretValue calls: operator {res['sync_get_calls']:.0f} "
            f"(expected {res['expected_calls']}), coffer {res['sync_coffer_get_calls']:.0f}; "
            f"VmHWM {fmt_mb(res['sync_hwm_mb'])}; values {res['sync_values']}")

        # ---- the first periodic refresh round (before the force-sync resets the timers) -----
        res["periodic_ran"] = False
        if t_ready is not None and rnd <= cfg.periodic_rounds:
            res["periodic_ran"] = True
            passwords = periodic_round(cfg, variant, rnd, res, op, kube, coffer, sm, poller,
                                       passwords)

        # ---- a force-sync round: new values, every ExternalSecret annotated ---------------
        if t_ready is not None and cfg.force_sync:
            es = poller.list_es()
            old_srv = {k: (o.get("status") or {}).get("syncedResourceVersion")
                       for k, o in es.items()}
            values2 = new_values(cfg.keys)
            for i, (v, _) in enumerate(values2):
                sm.put_secret_value(SecretId=f"{KEY_PREFIX}{i:02d}", SecretString=v)
            passwords2 = [pw for _, pw in values2]
            op_calls_before = op.calls()
            coffer_before = coffer.get_calls()
            api_before = apiserver_requests(kube.metrics())
            kube.counts = {}
            cpu_before = proc_cpu_s(op.proc.pid) or 0.0
            stamp = str(int(time.time()))
            t1 = time.monotonic()
            env = clean_env({"KUBECONFIG": kube.kubeconfig})
            if cfg.annotate == "kubectl":
                annotators = [subprocess.Popen(
                    ["kubectl", "annotate", f"externalsecrets.{GROUP}", "--all", "-n", ns,
                     f"force-sync={stamp}", "--overwrite"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
                    for ns in namespaces]
            else:
                annotators = [PatchAnnotator(kube, items, stamp, cfg.create_threads)]
            t_annotated = None
            t_refreshed = t_values = None
            deadline = t1 + cfg.timeout
            good = 0
            while True:
                now = time.monotonic()
                op.check_alive()
                if t_annotated is None and all(a.poll() is not None for a in annotators):
                    t_annotated = time.monotonic() - t1
                    for a in annotators:
                        if a.returncode != 0:
                            raise BenchError("kubectl annotate failed: "
                                             + a.stderr.read().decode()[-400:])
                es = poller.list_es()
                poller.sample_rss()
                _, refreshed, reasons = poller.es_counts(es, old_srv)
                el = time.monotonic() - t1
                if refreshed == len(items) and t_refreshed is None:
                    t_refreshed = el
                if t_values is None:
                    targets = poller.list_targets(with_data=True)
                    good = sum(1 for k in poller.want if k in targets and
                               decode_password(targets[k]) == passwords2[poller.key_of[k]])
                    if good == len(items):
                        t_values = el
                if t_refreshed is not None and t_values is not None and t_annotated is not None:
                    break
                if now > deadline:
                    log(f"[{variant} {rnd}] force-sync TIMEOUT: {refreshed} refreshed, {good} "
                        f"new values; {reasons}")
                    break
                time.sleep(max(0.0, cfg.poll_s - (time.monotonic() - now)))
            for a in annotators:
                if a.poll() is None:
                    a.kill()
                a.wait()
                a.stderr.close()
            res.update({"annotate_s": t_annotated, "refreshed_s": t_refreshed,
                        "new_values_s": t_values})
            time.sleep(cfg.settle_s)
            op.check_alive()
            op_calls = op.calls()
            res["force_calls"] = {k: op_calls.get(k, 0) - op_calls_before.get(k, 0)
                                  for k in op_calls}
            res["force_get_calls"] = get_calls_total(res["force_calls"])
            res["force_get_errors"] = get_calls_errors(res["force_calls"])
            res["force_coffer_get_calls"] = coffer.get_calls() - coffer_before
            res["force_apiserver"] = dict_delta(apiserver_requests(kube.metrics()), api_before)
            res["force_bench_requests"] = {f"{v} {w}": n for (v, w), n in kube.counts.items()}
            res["force_cpu_s"] = (proc_cpu_s(op.proc.pid) or 0.0) - cpu_before
            res["force_values"] = check_values(poller, passwords2)
            log(f"[{variant} {rnd}] force-sync: annotated in {fmt_s(t_annotated)}, all refreshed "
                f"after {fmt_s(t_refreshed)}, new values after {fmt_s(t_values)}; GetSecretValue "
                f"calls operator "
                f"{res['force_get_calls']:.0f}, coffer {res['force_coffer_get_calls']:.0f}; "
                f"values {res['force_values']}")

        st = proc_status(op.proc.pid) or {}
        res["end_hwm_mb"] = st.get("VmHWM")
        res["rss_sampled_max_mb"] = poller.rss_max
        res["total_cpu_s"] = (proc_cpu_s(op.proc.pid) or 0.0)
        rc, secs, killed = op.stop()
        res["operator_exit"] = rc
        res["operator_stop_s"] = secs
        res["operator_log"] = op.log_summary()
        if watchers:
            res["watch"] = {k: {"lists": w.lists, "watches": w.watches, "events": w.events}
                            for k, w in watchers.items()}
        res["complete"] = t_ready is not None and t_secrets is not None
        return res
    finally:
        for w in (watchers or {}).values():
            w.stop()
        for o in ops:
            o.stop()
        if kube is not None or os.path.exists(os.path.join(kube_dir, "env")):
            subprocess.run([CONTROL_PLANE, "stop", kube_dir], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        rc, _, _ = coffer.stop()
        res["coffer_exit"] = rc


# ------------------------------------------------------------------------------------------------
# The report.

def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt_s(x):
    return "n/a" if x is None else f"{x:.1f} s"


def fmt_mb(x):
    return "n/a" if x is None else f"{x:.1f} MiB"


def fmt_dmb(x):
    return "n/a" if x is None else f"{x * MIB_TO_MB:.1f} MB"


def fmt_n(x):
    return "n/a" if x is None else f"{x:,.0f}"


def verdict(ok):
    return "**PASS**" if ok else "**FAIL**"


def top_requests(d, n=8):
    items = sorted(d.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v:,.0f}" for k, v in items) or "none"


def eso_comparison(rows, cfg):
    """The scale figures next to what ESO's users report (reference §6; ESO publishes no
    benchmark of its own)."""
    done = [r for r in rows if r.get("all_ready_s") is not None]
    if not done:
        return []
    ready = statistics.median(r["all_ready_s"] for r in done)
    hwm = [r.get("end_hwm_mb") for r in done if r.get("end_hwm_mb") is not None]
    probes = [p["ready_s"] for r in done for p in (r.get("probes") or [])
              if p.get("ready_s") is not None]
    pc = [(r.get("periodic_get_calls"), r["count"]) for r in done
          if r.get("periodic_get_calls") is not None]
    out = [
        "Against what ESO's users report (ESO publishes no benchmark; figures from its issue "
        "tracker, collected in the project's ESO reference, section 6):",
        "",
        f"- **Time to sync.** coffer: all {cfg['count']:,} ExternalSecrets Ready "
        f"{ready:.0f} s after a cold start (median). ESO: ~2,000 ExternalSecrets in 20+ "
        "namespaces, new secrets taking 5-15 minutes (external-secrets#4180); 2,500 "
        "ExternalSecrets, 200 new ones Ready after ~4 minutes and a single one sometimes after 8 "
        "(#2878); ~1,500 with a work queue that never drains, 10-30 minute delays (#6019).",
    ]
    if hwm:
        out.append(
            f"- **Memory.** coffer: peak RSS {max(hwm):.0f} MiB = {max(hwm) * MIB_TO_MB:.0f} MB "
            f"for {cfg['count']:,} ExternalSecrets and their target Secrets. ESO: 220 MiB at "
            "~1,800 ExternalSecrets (#1336), a 2 GB limit for ~4,600 (#1725), 900 MB to over "
            "1 GB at start-up with 128 namespaces (#2608), ~1 GB with a cluster-wide Secret "
            "informer (#721), OOM kills (#3145).")
    if probes:
        out.append(
            f"- **A new ExternalSecret during a refresh round.** coffer: Ready "
            f"{statistics.median(probes):.2f} s (median) / {max(probes):.2f} s (max) after its "
            f"POST, while the round of {cfg['count']:,} was running. ESO: minutes behind the "
            "refresh backlog (4-8 min in #2878, 5-15 min in #4180, 4-7 min in #2837).")
    if pc:
        out.append(
            "- **Backend calls per refresh round.** coffer: "
            + ", ".join(f"{c:,.0f} GetSecretValue for {n:,} ExternalSecrets" for c, n in pc)
            + f" reading {cfg['keys']:,} distinct keys. ESO: at least one GetSecretValue per "
            "ExternalSecret and distinct key every refreshInterval (\"~5k secrets... "
            "refreshInterval 1m... would indeed make 1 call per minute\", #1769): "
            f"{cfg['count']:,} per round here.")
    out.append("")
    return out


def report(work, out_md):
    rows = []
    with open(os.path.join(work, "rounds.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    with open(os.path.join(work, "meta.json")) as f:
        meta = json.load(f)
    cfg = meta["config"]
    ready_target = cfg.get("ready_target_s", READY_TARGET_S)
    rss_target = cfg.get("rss_target_mb", RSS_TARGET_MB)
    probe_target = cfg.get("probe_target_s", PROBE_TARGET_S)
    variants = [v for v in ("cluster", "namespaced") if any(r["variant"] == v for r in rows)]
    names = {"cluster": "one ClusterSecretStore",
             "namespaced": f"one SecretStore per namespace ({cfg['namespaces']})"}
    start_txt = ("ExternalSecrets created in bulk with the operator stopped; clock started when "
                 "a fresh operator process was spawned (cold start: informer lists, store "
                 "validation and every sync inside the measured time)"
                 if cfg["start"] == "after" else
                 "operator already running (stores Ready); clock started when the bulk create "
                 "of the ExternalSecrets began")
    lines = [
        "# coffer operator benchmark results",
        "",
        f"Generated by `bash bench/operator/run.sh` on {meta['date']}. "
        f"{cfg['count']:,} ExternalSecrets in {cfg['namespaces']} namespaces (refreshInterval "
        f"{cfg['refresh']}), reading {cfg['keys']} distinct coffer secrets (property `password` of "
        f"a JSON value; {cfg['count'] // max(cfg['keys'], 1)} ExternalSecrets per key); "
        f"{cfg['rounds']} round{'s' if cfg['rounds'] != 1 else ''} per variant "
        f"({', '.join(cfg.get('variants') or [])}), each on a fresh control plane and a fresh "
        f"coffer server. Profile: `{cfg.get('profile', 'default')}` (targets: all Ready "
        f"< {ready_target:.0f} s, peak RSS < {rss_target:.0f} MB"
        + (f", a new ExternalSecret during the periodic round Ready < {probe_target:.0f} s"
           if cfg.get("probes") else "") + ").",
        "",
        "- Settings from the environment (over the profile's defaults): "
        + ("not recorded" if "env_settings" not in cfg else
           ", ".join(f"`{k}={v}`" for k, v in cfg["env_settings"].items()) or "none") + ".",
        f"- Machine: {meta['machine']}",
        f"- Versions: {meta['versions']}",
        f"- Start: {start_txt}.",
        f"- Operator command line: `coffer operator --kubeconfig KUBECONFIG --metrics-addr "
        f"127.0.0.1:PORT{''.join(' ' + a for a in cfg.get('operator_args') or [])}` (other "
        "options at their defaults).",
        ("- Ready = every ExternalSecret's status Ready=True (apiserver list polled every "
         f"{int(cfg['poll_s'] * 1000)} ms); targets = every target Secret exists (label "
         f"`{MANAGED_LABEL}=true`). Values: every target Secret's `password` compared with "
         "coffer."
         if not cfg.get("watch") else
         "- Ready = every ExternalSecret's status Ready=True; targets = every target Secret "
         f"exists (label `{MANAGED_LABEL}=true`). Both read from the benchmark's own list + "
         "watch (one list from the watch cache before the clock starts, then a stream of "
         "changes; the Secrets metadata-only), checked every "
         f"{int(cfg['poll_s'] * 1000)} ms, so that watching 10,000 objects does not cost a full "
         "list per poll. Values: every target Secret's `password` compared with coffer (one "
         "full list after each phase)."),
        "- Periodic refresh round (rounds 1.." + str(cfg.get("periodic_rounds", 0)) + " of each "
        "variant, after the initial sync): " + str(cfg.get("periodic_change", 0)) + " key(s) get "
        "a new value in coffer, then the ExternalSecrets are checked every "
        f"{cfg.get('periodic_poll_s', 1.5):.1f} s until every ExternalSecret's "
        "`status.refreshTime` has moved past its initial value (timeout refreshInterval + 2 min, or "
        "+ the initial sync's duration + 1 min when that is longer); "
        "calls are counted over the whole wait. The target Secrets' resourceVersions before and "
        "after show which were written: only the readers of the changed keys may be."
        + (f" Once the first refreshTime has moved, {cfg['probes']} new ExternalSecrets are "
           "created one after another (in the first namespace, each reading a coffer key of its "
           "own made before the round, so each costs exactly one GetSecretValue, counted in the "
           "round's target), each polled by GET every "
           f"{int(cfg.get('probe_poll_s', 0.05) * 1000)} ms from its POST until Ready=True; "
           + (f"{cfg['probe_spacing_s']:.0f} s apart." if cfg.get("probe_spacing_s") else
              "spaced over the expected round (the initial sync's duration / "
              f"{cfg['probes']}, 2-30 s).")
           if cfg.get("probes") else ""),
        ("- Force-sync round: none (OPBENCH_FORCE_SYNC=0)." if not cfg.get("force_sync", True)
         else
         "- Force-sync round (after the periodic round): every key gets a new value in coffer, "
        "then all ExternalSecrets are "
        "annotated `force-sync=<now>` ("
        + ("`kubectl annotate ... --all`, one kubectl per namespace, in parallel"
           if cfg.get("annotate", "kubectl") == "kubectl" else
           f"merge patches from {cfg['create_threads']} parallel connections")
        + "); measured from the first annotate until every ExternalSecret has a new "
        "`syncedResourceVersion` and every target Secret holds the new value. A force-sync "
        "must fetch afresh, so an ExternalSecret can share only a fetch that started after its "
        "own annotation arrived: the call count of this round depends on how fast the "
        "annotations land compared with the operator's pace."),
        "- Backend calls: the operator's `externalsecret_provider_api_calls_count{call="
        "\"GetSecretValue\"}` (all statuses) and, as a cross-check, coffer's own "
        "`coffer_requests_total{action=\"GetSecretValue\"}`, both as deltas over the round "
        f"(read {cfg['settle_s']:.0f} s after the last sync). Peak RSS: the operator's VmHWM "
        "from /proc (also sampled VmRSS at every poll).",
        "- Everything (apiserver, etcd, controller-manager, coffer, operator, the poller) shares "
        "the machine's cores; nothing is pinned. Figures are the median of the rounds.",
        "- Background load (other work on the shared host), in the second before each measured "
        "start: " + ", ".join(
            f"{r['variant']} {r['round']}: {r['background_busy_pct']:.0f}% busy "
            f"(load {r.get('loadavg_1m', 0):.1f})"
            for r in rows if r.get("background_busy_pct") is not None) + "."
        if any(r.get("background_busy_pct") is not None for r in rows) else
        "- Background load: not recorded.",
        "",
    ]
    # Targets.
    lines += ["| Variant | Measure | Median (per round) | Target | Result |",
              "| --- | --- | --- | --- | --- |"]
    all_pass = True
    for v in variants:
        rs = [r for r in rows if r["variant"] == v]
        exp = rs[0]["expected_calls"]
        n = rs[0]["count"]
        ready = [r.get("all_ready_s") for r in rs]
        m_ready = med(rs, "all_ready_s")
        ok_ready = all(x is not None for x in ready) and m_ready < ready_target
        pr = ", ".join(fmt_s(x) for x in ready)
        lines.append(f"| {names[v]} | all {n:,} Ready=True | {fmt_s(m_ready)} ({pr}) | "
                     f"< {ready_target:.0f} s | {verdict(ok_ready)} |")
        m_t = med(rs, "all_targets_s")
        lines.append(f"| {names[v]} | all {n:,} target Secrets exist | {fmt_s(m_t)} "
                     f"({', '.join(fmt_s(r.get('all_targets_s')) for r in rs)}) | | |")
        hwm = [r.get("end_hwm_mb") for r in rs]
        m_hwm = med(rs, "end_hwm_mb")
        ok_rss = all(x is not None for x in hwm) and m_hwm * MIB_TO_MB < rss_target
        lines.append(f"| {names[v]} | operator peak RSS (VmHWM at the end) | {fmt_mb(m_hwm)} = "
                     f"{fmt_dmb(m_hwm)} ({', '.join(fmt_mb(x) for x in hwm)}) | "
                     f"< {rss_target:.0f} MB (= {rss_target / MIB_TO_MB:.1f} MiB) | "
                     f"{verdict(ok_rss)} |")
        sc = [r.get("sync_get_calls") for r in rs]
        ok_sc = all(x is not None and 0 < x <= exp for x in sc)
        lines.append(f"| {names[v]} | GetSecretValue calls, initial sync (operator metric; "
                     f"coffer: {', '.join(fmt_n(r.get('sync_coffer_get_calls')) for r in rs)}) | "
                     f"{fmt_n(med(rs, 'sync_get_calls'))} ({', '.join(fmt_n(x) for x in sc)}) | "
                     f"{exp:,} (one per {'key' if v == 'cluster' else 'store and key'}) | "
                     f"{verdict(ok_sc)} |")
        ok_periodic = True
        ps = [r for r in rs if r.get("periodic_ran")]
        if ps:
            which = f"round{'s' if len(ps) > 1 else ''} {', '.join(str(r['round']) for r in ps)}"
            pc = [r.get("periodic_get_calls") for r in ps]
            complete = all(r.get("periodic_refreshed") == n for r in ps)
            ok_pc = complete and all(
                x is not None and 0 < x <= r.get("periodic_expected_calls", exp)
                for x, r in zip(pc, ps))
            n_probes = max(len(r.get("probes") or []) for r in ps)
            exp_txt = (f"{exp:,} (one per {'key' if v == 'cluster' else 'store and key'})"
                       if not n_probes else
                       f"{exp:,} + {n_probes} = {exp + n_probes:,} (one per distinct "
                       f"{'key' if v == 'cluster' else 'store and key'}; the {n_probes} new "
                       f"ExternalSecrets below read a key each of their own)")
            lines.append(
                f"| {names[v]} | GetSecretValue calls, first periodic refresh round ({which}; "
                f"operator; coffer: "
                f"{', '.join(fmt_n(r.get('periodic_coffer_get_calls')) for r in ps)}) | "
                f"{fmt_n(med(ps, 'periodic_get_calls'))} ({', '.join(fmt_n(x) for x in pc)}; "
                f"ExternalSecrets refreshed: "
                f"{', '.join(fmt_n(r.get('periodic_refreshed')) for r in ps)}) | "
                f"at most {exp_txt} | {verdict(ok_pc)} |")
            lines.append(
                f"| {names[v]} | periodic round: duration (first to last refreshTime) | "
                f"{fmt_s(med(ps, 'periodic_duration_s'))} "
                f"({', '.join(fmt_s(r.get('periodic_duration_s')) for r in ps)}) | | |")
            wu = [r.get("periodic_writes_unchanged") for r in ps]
            ok_wu = complete and all(x == 0 for x in wu)
            lines.append(
                f"| {names[v]} | periodic round: target Secrets written (resourceVersion changed) "
                f"whose key kept its value | {', '.join(fmt_n(x) for x in wu)} of "
                f"{n - ps[0].get('periodic_changed_es', 0):,} | 0 | {verdict(ok_wu)} |")
            ok_arr = True
            if any(r.get("periodic_changed_keys") for r in ps):
                ok_arr = complete and all(
                    (r.get("periodic_values") or {}).get("ok") == n and
                    r.get("periodic_arrival_max_s") is not None and
                    r["periodic_arrival_max_s"] <= 1.1 * cfg["refresh_s"] for r in ps)
                lines.append(
                    f"| {names[v]} | periodic round: {ps[0]['periodic_changed_keys']} key(s) "
                    f"changed in coffer just before: their {ps[0]['periodic_changed_es']:,} "
                    f"readers updated in that round (written / latest arrival after the change); "
                    f"every value right | "
                    + "; ".join(f"{fmt_n(r.get('periodic_writes_changed'))} / "
                                f"{fmt_s(r.get('periodic_arrival_max_s'))}; "
                                f"{(r.get('periodic_values') or {}).get('ok', 0):,} / {n:,} right"
                                for r in ps)
                    + f" | all, within 1.1 x {cfg['refresh']} = {1.1 * cfg['refresh_s']:.0f} s | "
                    f"{verdict(ok_arr)} |")
            lines.append(
                f"| {names[v]} | periodic round: operator RSS at its end (VmRSS / VmHWM) | "
                + ", ".join(f"{fmt_mb(r.get('periodic_rss_mb'))} / "
                            f"{fmt_mb(r.get('periodic_hwm_mb'))}" for r in ps)
                + f" | < {rss_target:.0f} MB | "
                + verdict(all(r.get("periodic_hwm_mb") is not None and
                              r["periodic_hwm_mb"] * MIB_TO_MB < rss_target for r in ps))
                + " |")
            ok_probe = True
            pr_rows = [r for r in ps if r.get("probes") is not None]
            if pr_rows:
                pts = [p.get("ready_s") for r in pr_rows for p in r["probes"]]
                got = [x for x in pts if x is not None]
                pv = [r.get("probe_values") or {} for r in pr_rows]
                ok_probe = (bool(pts) and len(got) == len(pts) and max(got) < probe_target and
                            all(x.get("ok") == len(r["probes"]) for x, r in zip(pv, pr_rows)))
                lines.append(
                    f"| {names[v]} | new ExternalSecret created during the periodic refresh "
                    f"round: its POST to Ready=True (polled by GET every "
                    f"{int(cfg.get('probe_poll_s', 0.05) * 1000)} ms; median / max of "
                    f"{len(pts)}; not Ready: {len(pts) - len(got)}; target value right: "
                    f"{sum(x.get('ok', 0) for x in pv)} / {len(pts)}) | "
                    f"{'n/a' if not got else f'{statistics.median(got):.2f} s / {max(got):.2f} s'}"
                    f" ({', '.join('n/a' if x is None else f'{x:.2f} s' for x in pts)}) | "
                    f"< {probe_target:.0f} s each | {verdict(ok_probe)} |")
            ok_periodic = ok_pc and ok_wu and ok_arr and ok_probe
        fs = [r for r in rs if r.get("force_get_calls") is not None]
        if fs:
            fc = [r.get("force_get_calls") for r in fs]
            lines.append(f"| {names[v]} | GetSecretValue calls, force-sync round (information; "
                         f"operator; coffer: "
                         f"{', '.join(fmt_n(r.get('force_coffer_get_calls')) for r in fs)}) | "
                         f"{fmt_n(med(fs, 'force_get_calls'))} "
                         f"({', '.join(fmt_n(x) for x in fc)}) | none (see below) | info |")
        vals_ok = all((r.get("sync_values") or {}).get("ok") == n and
                      (not cfg.get("force_sync", True) or
                       (r.get("force_values") or {}).get("ok") == n) for r in rs)
        lines.append(f"| {names[v]} | target values correct (initial / after rotation + "
                     f"force-sync{'' if cfg.get('force_sync', True) else ': not run'}) | "
                     + "; ".join(f"{(r.get('sync_values') or {}).get('ok', 0):,} / "
                                 f"{fmt_n((r.get('force_values') or {}).get('ok'))}" for r in rs)
                     + f" | {n:,} / {n:,} | {verdict(vals_ok)} |")
        all_pass &= ok_ready and ok_rss and ok_sc and ok_periodic and vals_ok
    lines += ["", f"Overall: {'all targets met' if all_pass else 'NOT all targets met'}.", ""]
    if any(r.get("force_get_calls") is not None for r in rows):
        lines += ["The force-sync round's calls are information, not a target: a force-sync is an "
                  "explicit request to read afresh, so each ExternalSecret may share only a fetch "
                  "that started after its own annotation arrived, and how many it shares depends "
                  "on how fast the annotations land, not on the operator.", ""]
    prows = [r for r in rows if r.get("periodic_ran")]
    if prows:
        lines += [
            "First periodic refresh round (after the initial sync; times in s; refreshTime has "
            "1 s resolution):",
            "",
            "| Variant | Round | Refreshed | Waited until first / all seen | Duration (first to "
            "last refreshTime) | refreshTime advance per ExternalSecret (min-max) | Calls "
            "(operator / coffer) | Secrets written (kept value / changed key) | Latest arrival "
            "of a changed value | Values right | Status PATCHes | VmRSS / VmHWM at end | "
            "Operator CPU |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in prows:
            api = r.get("periodic_apiserver") or {}
            lines.append(
                f"| {r['variant']} | {r['round']} | {fmt_n(r.get('periodic_refreshed'))} / "
                f"{r['count']:,} | {fmt_s(r.get('periodic_first_seen_s'))} / "
                f"{fmt_s(r.get('periodic_all_seen_s'))} | {fmt_s(r.get('periodic_duration_s'))} | "
                f"{fmt_s(r.get('periodic_interval_min_s'))} - "
                f"{fmt_s(r.get('periodic_interval_max_s'))} | "
                f"{fmt_n(r.get('periodic_get_calls'))} / "
                f"{fmt_n(r.get('periodic_coffer_get_calls'))} | "
                f"{fmt_n(r.get('periodic_writes_unchanged'))} / "
                f"{fmt_n(r.get('periodic_writes_changed'))} of "
                f"{fmt_n(r.get('periodic_changed_es'))} | "
                f"{fmt_s(r.get('periodic_arrival_max_s'))} | "
                f"{fmt_n((r.get('periodic_values') or {}).get('ok'))} | "
                f"{fmt_n(api.get('PATCH externalsecrets/status'))} | "
                f"{fmt_mb(r.get('periodic_rss_mb'))} / {fmt_mb(r.get('periodic_hwm_mb'))} | "
                f"{fmt_s(r.get('periodic_cpu_s'))} |")
        lines.append("")

    probe_rows = [r for r in rows if r.get("probes")]
    if probe_rows:
        lines += [
            "New ExternalSecrets created during the periodic refresh round (each reads a key of "
            "its own; \"refreshed\" = ExternalSecrets whose refreshTime had moved, of all):",
            "",
            "| Variant | Round | New ExternalSecret | Created after the round's start | Refreshed "
            "at its POST | POST took | Ready=True after its POST | GETs | Refreshed when "
            "Ready |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in probe_rows:
            for p in r["probes"]:
                lines.append(
                    f"| {r['variant']} | {r['round']} | probe-{p['probe']:02d} | "
                    f"{p['since_round_start_s']:.1f} s | {p['refreshed_at_create']:,} / "
                    f"{r['count']:,} | {p['post_s'] * 1000:.0f} ms | "
                    + ("not Ready in 60 s (" + str(p.get("last_condition")) + ")"
                       if p.get("ready_s") is None else f"{p['ready_s']:.2f} s")
                    + f" | {p['gets']} | {p['refreshed_at_ready']:,} / {r['count']:,} |")
            if r.get("probes_error"):
                lines.append(f"| {r['variant']} | {r['round']} | ERROR: {r['probes_error']} "
                             "| | | | | | |")
        lines.append("")
        lines += [
            "A probe counts as created during the round when some but not all ExternalSecrets "
            "had been refreshed at its POST. The operator serves new and changed ExternalSecrets "
            "from an event lane ahead of the timer lane of periodic refreshes "
            "(`src/controller/README.md`), so a new one does not queue behind the round.",
            ""]
    if cfg.get("profile") == "scale" or cfg["count"] >= 2000:
        lines += eso_comparison(rows, cfg)

    # Per round.
    lines += [
        "Per round (times from the clock start; calls = operator metric / coffer's count):",
        "",
        "| Variant | Round | Bulk create | Operator /healthz | First Ready | 50% Ready | "
        "All Ready | All targets | Calls (sync) | VmHWM after sync | Sampled max RSS | "
        "Operator CPU (sync) | Force-sync: annotate / all refreshed / new values | "
        "Calls (force-sync) | VmHWM at end | Exit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
        "--- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['round']} | {fmt_s(r.get('create_s'))} | "
            f"{fmt_s(r.get('healthz_s'))} | {fmt_s(r.get('first_ready_s'))} | "
            f"{fmt_s(r.get('half_ready_s'))} | {fmt_s(r.get('all_ready_s'))} | "
            f"{fmt_s(r.get('all_targets_s'))} | {fmt_n(r.get('sync_get_calls'))} / "
            f"{fmt_n(r.get('sync_coffer_get_calls'))} | {fmt_mb(r.get('sync_hwm_mb'))} | "
            f"{fmt_mb(r.get('rss_sampled_max_mb'))} | {fmt_s(r.get('sync_cpu_s'))} | "
            f"{fmt_s(r.get('annotate_s'))} / {fmt_s(r.get('refreshed_s'))} / "
            f"{fmt_s(r.get('new_values_s'))} | {fmt_n(r.get('force_get_calls'))} / "
            f"{fmt_n(r.get('force_coffer_get_calls'))} | {fmt_mb(r.get('end_hwm_mb'))} | "
            f"{r.get('operator_exit')} |")
    lines.append("")
    # Diagnostics.
    lines += ["Where the time and requests went (per round):", ""]
    for r in rows:
        logsum = r.get("operator_log") or {}
        extra = ""
        if r.get("ready_at_end") is not None and r.get("all_ready_s") is None:
            extra = (f" NOT COMPLETE: {r['ready_at_end']:,}/{r['count']:,} Ready at the timeout; "
                     f"not ready: {r.get('not_ready_reasons')}.")
        errs = r.get("sync_get_errors") or 0
        own = sum((r.get("sync_bench_requests") or {}).values())
        others = sum((r.get("sync_apiserver") or {}).values()) - own
        rate = ""
        if r.get("all_ready_s"):
            rate = (f" ({others:,.0f} requests by the operator and the control plane in "
                    f"{r['all_ready_s']:.1f} s = {others / r['all_ready_s']:,.0f}/s)")
        busy = ""
        if r.get("sync_machine_busy_pct") is not None:
            other = r.get("sync_other_cpu_s") or {}
            busy = (f" During the initial sync the machine's cores were "
                    f"{r['sync_machine_busy_pct']:.0f}% busy; CPU used: operator "
                    f"{fmt_s(r.get('sync_cpu_s'))}, "
                    + ", ".join(f"{k} {v:.1f} s" for k, v in other.items()) + ".")
        mem = ""
        if r.get("rss_first_ready_mb") is not None:
            mem = (f" RSS {fmt_mb(r.get('rss_start_mb'))} at the first poll after /healthz, "
                   f"{fmt_mb(r['rss_first_ready_mb'])} at the first Ready")
            if r.get("rss_per_es_kib") is not None:
                mem += f", then +{r['rss_per_es_kib']:.1f} KiB per ExternalSecret synced"
            mem += "."
        lines.append(
            f"- {r['variant']} {r['round']}: apiserver requests during the initial sync "
            f"(all clients, the benchmark's own polls included: "
            f"{top_requests(r.get('sync_bench_requests', {}), 3)}): "
            f"{top_requests(r.get('sync_apiserver', {}))}{rate}; "
            + (f"during the periodic round (whole wait, the benchmark's polls included): "
               f"{top_requests(r.get('periodic_apiserver', {}))}; "
               if r.get("periodic_ran") else "")
            + f"during the force-sync round: "
            f"{top_requests(r.get('force_apiserver', {}))}. Operator log: "
            f"{logsum.get('lines', 0):,} lines ({logsum.get('warn_lines', 0)} warn, "
            f"{logsum.get('error_lines', 0)} error/fail), {r.get('threads')} threads, "
            f"{fmt_s(r.get('total_cpu_s'))} CPU in all; GetSecretValue errors: {errs:.0f}."
            + busy + mem + extra + (f" ERROR: {r['error']}" if r.get("error") else ""))
    lines.append("")
    text = "\n".join(lines)
    with open(out_md, "w") as f:
        f.write(text)
    print(text)


# ------------------------------------------------------------------------------------------------

def machine_info(cfg):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, Linux {os.uname().release}"

    def out(*args):
        try:
            return subprocess.run(args, capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    git = out("git", "-C", REPO, "rev-parse", "--short", "HEAD")
    dirty = subprocess.run(["git", "-C", REPO, "diff", "--quiet", "HEAD", "--", "src"]).returncode
    coffer_v = out(cfg.coffer_bin, "version").splitlines()
    bindir = out(CONTROL_PLANE, "bin-dir")
    kube_v = out(os.path.join(bindir, "kube-apiserver"), "--version")
    kubectl_v = out("kubectl", "version", "--client").splitlines()
    etcd_v = out("etcd", "--version").splitlines()
    import boto3
    versions = (f"{coffer_v[0] if coffer_v else 'coffer'} (git {git}"
                f"{', src modified' if dirty else ''}, {cfg.coffer_bin}); "
                f"kube-apiserver {kube_v}; {etcd_v[0] if etcd_v else 'etcd ?'}; "
                f"kubectl {kubectl_v[0].split(':')[-1].strip() if kubectl_v else '?'}; "
                f"Python {sys.version.split()[0]}, boto3 {boto3.__version__}")
    return machine, versions


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("run", "report"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, work, out_md = sys.argv[1:4]
    if mode == "report":
        report(work, out_md)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # boto3 must not pick up the user's AWS configuration.
    os.environ["AWS_CONFIG_FILE"] = os.path.join(work, "no-aws-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(work, "no-aws-credentials")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"):
        os.environ.pop(k, None)
    cfg = Config()
    procs = Procs(work)
    machine, versions = machine_info(cfg)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine,
            "versions": versions, "config": cfg.as_dict()}
    with open(os.path.join(work, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    log(f"{cfg.count} ExternalSecrets, {cfg.namespaces} namespaces, {cfg.keys} keys, "
        f"{cfg.rounds} rounds of {', '.join(cfg.variants)}; operator started {cfg.start} the "
        f"bulk create; work dir {work}")
    open(os.path.join(work, "rounds.jsonl"), "w").close()
    failed = 0
    for rnd in range(1, cfg.rounds + 1):
        for variant in cfg.variants:
            t = time.monotonic()
            try:
                res = run_round(cfg, procs, variant, rnd, work)
            except Exception as e:  # noqa: BLE001 - recorded in the report, the run goes on
                log(f"[{variant} {rnd}] FAILED: {type(e).__name__}: {e}")
                traceback.print_exc()
                failed += 1
                res = {"variant": variant, "round": rnd, "error": str(e), "complete": False,
                       "count": len(layout(cfg)),
                       "expected_calls": expected_calls(cfg, variant, layout(cfg))}
            res["round_wall_s"] = time.monotonic() - t
            with open(os.path.join(work, "rounds.jsonl"), "a") as f:
                f.write(json.dumps(res) + "\n")
            log(f"[{variant} {rnd}] round took {res['round_wall_s']:.0f} s")
    report(work, out_md)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
