"""Helpers for the end-to-end tests of `coffer operator` (tests/kube/test_operator_e2e.py).

Three real processes work together here:

- a Kubernetes 1.20 control plane from tools/kube/control-plane.sh (etcd, kube-apiserver,
  kube-controller-manager: ownerReference garbage collection works, no kubelet), driven with the
  machine's kubectl (1.32; its version-skew warning on stderr is ignored);
- a `coffer server` with a data dir kept across restarts (fixed root key from the environment, so
  it can be stopped and started again on the same port as the same store);
- `coffer operator` against both, its stderr in a file.

Nothing here asserts on a fixed sleep: `wait_until` polls with a deadline, and `stays` polls for a
window to show that something does NOT happen. This module imports nothing from a conftest.
"""

import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "tools", "kube", "control-plane.sh")
CRD_DIR = os.path.join(REPO, "deploy", "crds")
DEFAULT_BIN = os.path.join(REPO, "build", "coffer")
CRD_NAMES = [
    "externalsecrets.external-secrets.io",
    "secretstores.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "clusterexternalsecrets.external-secrets.io",
]

ROOT_ACCESS_KEY_ID = "AKIAKUBEE2ECOFFER001"
ROOT_SECRET_ACCESS_KEY = "kubeE2E+root/" + uuid.uuid4().hex  # per run, so a leak is findable
REGION = "us-east-1"
MANAGED_LABEL = "reconcile.external-secrets.io/managed"


def coffer_bin():
    return os.environ.get("COFFER_BIN", DEFAULT_BIN)


def clean_env(extra=None):
    """The process env without the caller's AWS_* / COFFER_* / KUBECONFIG settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "COFFER_")) and k != "KUBECONFIG"}
    env.update(extra or {})
    return env


def run(args, check=True, env=None, input_text=None, timeout=300):
    result = subprocess.run(args, capture_output=True, text=True, env=env, input=input_text,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args[:4])}... failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=60.0, interval=0.25):
    """Polls predicate() until it returns something truthy and returns that; fails after timeout,
    naming `what` and the last value seen (predicates must not return secret values)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} "
                                 f"(last: {last!r})")
        time.sleep(interval)


def stays(what, predicate, seconds, interval=0.5):
    """Asserts predicate() holds at every poll for `seconds` (something does NOT happen)."""
    deadline = time.monotonic() + seconds
    while True:
        assert predicate(), f"{what} stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def secret_data(secret):
    """A Kubernetes Secret's data, decoded to str."""
    return {k: base64.b64decode(v).decode("utf-8")
            for k, v in (secret.get("data") or {}).items()}


def condition(obj, ctype="Ready"):
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def ready_state(obj):
    """(status, reason) of the Ready condition, or None."""
    c = condition(obj)
    return (c.get("status"), c.get("reason")) if c else None


# --- Prometheus text ----------------------------------------------------------------------------

_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')


def parse_metrics(text):
    """Prometheus text exposition -> list of (name, {label: value}, float)."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL_RE.findall(m.group(2) or "")}
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        samples.append((m.group(1), labels, value))
    return samples


def metric_value(samples, metric, **labels):
    """The sum of the samples of `metric` whose labels include `labels` (None if there is
    none)."""
    values = [v for n, ls, v in samples
              if n == metric and all(ls.get(k) == want for k, want in labels.items())]
    return sum(values) if values else None


# --- the control plane --------------------------------------------------------------------------


class ControlPlane:
    """tools/kube/control-plane.sh start/stop/restart-apiserver on a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-kube-e2e-")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.env = None

    def start(self):
        run(["bash", SCRIPT, "build"], timeout=3600)  # at once when the binaries are cached
        run(["bash", SCRIPT, "start", self.dir], timeout=600)
        self._read_env()

    def _read_env(self):
        env = clean_env()
        with open(os.path.join(self.dir, "env"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("export "):
                    key, _, value = line[len("export "):].partition("=")
                    env[key] = value
        self.env = env

    def restart_apiserver(self):
        run(["bash", SCRIPT, "restart-apiserver", self.dir], timeout=300)
        self._read_env()

    def stop(self):
        run(["bash", SCRIPT, "stop", self.dir], check=False, timeout=120)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, name, lines=15):
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    # kubectl -----------------------------------------------------------------------------------
    def kubectl(self, *args, check=True, input_text=None, timeout=120):
        return run(["kubectl", "--kubeconfig", self.kubeconfig] + list(args), check=check,
                   env=self.env, input_text=input_text, timeout=timeout)

    def apply(self, manifest, namespace=None):
        ns = ["-n", namespace] if namespace else []
        return self.kubectl("apply", *ns, "-f", "-", input_text=manifest)

    def get_json(self, *args):
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def get_or_none(self, kind, name, namespace):
        """The object, or None when it does not exist."""
        r = self.kubectl("get", "-o", "json", kind, name, "-n", namespace, check=False)
        if r.returncode == 0:
            return json.loads(r.stdout)
        if "NotFound" in r.stderr or "not found" in r.stderr:
            return None
        raise AssertionError(f"kubectl get {kind} {name} -n {namespace}: {r.stderr[-2000:]}")

    def es(self, name, namespace):
        return self.get_or_none("externalsecrets.external-secrets.io", name, namespace)

    def secret(self, name, namespace):
        return self.get_or_none("secret", name, namespace)

    def store(self, name, namespace):
        return self.get_or_none("secretstores.external-secrets.io", name, namespace)

    def create_namespace(self, name):
        self.kubectl("create", "namespace", name)

    def events(self, namespace=None, name=None, kind="ExternalSecret"):
        """Events (core/v1) on objects of `kind`, optionally only those about `name`."""
        scope = ["-n", namespace] if namespace else ["-A"]
        items = self.get_json("events", *scope)["items"]
        return [e for e in items
                if e["involvedObject"].get("kind") == kind
                and (name is None or e["involvedObject"].get("name") == name)]

    def event_reasons(self, namespace, name):
        return [e.get("reason") for e in self.events(namespace, name)]

    def force_sync(self, name, namespace):
        stamp = f"{time.time():.6f}"  # unique even within one second
        self.kubectl("annotate", "es", name, "-n", namespace, f"force-sync={stamp}",
                     "--overwrite")

    def wait_es_ready(self, name, namespace, reason="SecretSynced", status="True", timeout=60):
        def check():
            es = self.es(name, namespace)
            state = ready_state(es) if es else None
            return es if state == (status, reason) else None
        try:
            return wait_until(f"ExternalSecret {namespace}/{name} Ready {status}/{reason}",
                              check, timeout)
        except AssertionError as e:
            es = self.es(name, namespace)
            raise AssertionError(f"{e}; status now: {json.dumps((es or {}).get('status'))}")

    def wait_secret(self, name, namespace, predicate=lambda s: True, what="", timeout=60):
        def check():
            s = self.secret(name, namespace)
            return s if s is not None and predicate(s) else None
        return wait_until(f"Secret {namespace}/{name} {what}".strip(), check, timeout)

    def wait_secret_gone(self, name, namespace, timeout=60):
        wait_until(f"Secret {namespace}/{name} deleted",
                   lambda: self.secret(name, namespace) is None, timeout)

    def managed_secrets(self):
        """{(namespace, name): resourceVersion} of every Secret carrying the managed label."""
        items = self.get_json("secrets", "-A", "-l", f"{MANAGED_LABEL}=true")["items"]
        return {(s["metadata"]["namespace"], s["metadata"]["name"]):
                s["metadata"]["resourceVersion"] for s in items}


# --- coffer server ------------------------------------------------------------------------------


class CofferServer:
    """A `coffer server` whose data dir and root key survive stop/start; after the first start it
    always listens on the same port."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="coffer-kube-e2e-server-")
        self.data_dir = os.path.join(self.work, "data")
        os.makedirs(self.data_dir, mode=0o700)
        self.proc = None
        self.port = None
        self.starts = 0
        self.values = set()  # every secret value written, for the leak checks

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        assert self.proc is None, "coffer server already running"
        self.starts += 1
        port_file = os.path.join(self.work, f"port-{self.starts}")
        listen = f"127.0.0.1:{self.port or 0}"
        env = clean_env({"COFFER_ROOT_ACCESS_KEY_ID": ROOT_ACCESS_KEY_ID,
                         "COFFER_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET_ACCESS_KEY})
        deadline = time.monotonic() + timeout
        while True:  # the old port may linger briefly after a stop
            with open(os.path.join(self.work, f"server-{self.starts}.log"), "wb") as log:
                self.proc = subprocess.Popen(
                    [coffer_bin(), "server", "--listen", listen, "--data-dir", self.data_dir,
                     "--port-file", port_file, "--region", REGION],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            port = None
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with open(port_file, encoding="utf-8") as f:
                        port = int(f.read().strip() or 0) or None
                except (FileNotFoundError, ValueError):
                    pass
                if port and self._healthz(port) == 200:
                    self.port = port
                    return self
                time.sleep(0.05)
            rc = self.proc.poll()
            self.kill()
            if rc is None or time.monotonic() >= deadline:
                raise AssertionError(f"coffer server not healthy in {timeout}s:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.5)  # exited at start-up (e.g. port still busy): try again

    @staticmethod
    def _healthz(port):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            return None

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"coffer server ignored SIGTERM for {timeout}s")
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.work, ignore_errors=True)

    def log_tail(self, n=30):
        lines = []
        for f in sorted(os.listdir(self.work)):
            if f.startswith("server-") and f.endswith(".log"):
                with open(os.path.join(self.work, f), "rb") as fh:
                    lines += fh.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])

    # Secrets Manager ---------------------------------------------------------------------------
    def client(self):
        import boto3
        import botocore.config
        return boto3.session.Session().client(
            "secretsmanager", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=ROOT_ACCESS_KEY_ID, aws_secret_access_key=ROOT_SECRET_ACCESS_KEY,
            config=botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"},
                                          connect_timeout=5, read_timeout=30))

    def remember(self, value, *parts):
        """Registers a secret value (and the parts a property read picks from it)."""
        self.values.add(value)
        self.values.update(parts)

    def create(self, name, value, *parts):
        self.remember(value, *parts)
        self.client().create_secret(Name=name, SecretString=value)

    def put(self, name, value, *parts):
        self.remember(value, *parts)
        self.client().put_secret_value(SecretId=name, SecretString=value)

    def delete(self, name):
        self.client().delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def token_kubeconfig(kubectl, admin_kubeconfig, account, path, namespace="coffer-system"):
    """Writes to `path` the admin kubeconfig with its credentials replaced by a token of
    ServiceAccount namespace/account (`kubectl create token`, the TokenRequest API); returns path.
    `kubectl` runs the machine's kubectl as admin (ControlPlane.kubectl or conftest's)."""
    token = kubectl("create", "token", account, "-n", namespace, "--duration=1h").stdout.strip()
    assert token.count(".") == 2, "not a JWT"
    with open(admin_kubeconfig, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    config["users"] = [{"name": account, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = account
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)
    return path


def random_value(prefix):
    """A value that cannot occur by chance in logs, events or metrics."""
    return f"{prefix}-{uuid.uuid4().hex}"


# --- coffer operator ----------------------------------------------------------------------------


class Operator:
    """`coffer operator` (or, with command="reloader", `coffer reloader`) against the control
    plane, metrics on a fixed loopback port; every run's stderr goes to its own file in `work`."""

    def __init__(self, kubeconfig, coffer_endpoint, work, label="operator", extra_args=(),
                 command="operator"):
        self.command = command
        self.kubeconfig = kubeconfig
        self.coffer_endpoint = coffer_endpoint
        self.work = work
        self.label = label
        self.extra_args = list(extra_args)
        self.metrics_port = free_port()
        self.proc = None
        self.starts = 0
        self.log_paths = []

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout=60):
        assert self.proc is None, "operator already running"
        self.starts += 1
        path = os.path.join(self.work, f"{self.label}-{self.starts}.log")
        self.log_paths.append(path)
        env = clean_env({"AWS_SECRETSMANAGER_ENDPOINT": self.coffer_endpoint})
        with open(path, "wb") as log:
            self.proc = subprocess.Popen(
                [coffer_bin(), self.command, "--kubeconfig", self.kubeconfig,
                 "--metrics-addr", f"127.0.0.1:{self.metrics_port}"] + self.extra_args,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"coffer {self.command} exited with {self.proc.returncode} "
                                     f"at start-up:\n{self.log_tail()}")
            return self.http_status("/readyz") == 200
        wait_until(f"coffer {self.command} /readyz 200", ready, timeout)
        return self

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"coffer operator ignored SIGTERM for {timeout}s:\n"
                                 f"{self.log_tail()}")
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        text = []
        for path in self.log_paths:
            with open(path, "rb") as f:
                text.append(f.read().decode("utf-8", "replace"))
        return "\n".join(text)

    def log_size(self):
        return len(self.log_text())

    def log_tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    def http_get(self, path):
        """(status, body text) of GET path on the metrics server; status None if unreachable."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=5)
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                return r.status, r.read().decode("utf-8", "replace")
            finally:
                conn.close()
        except OSError:
            return None, ""

    def http_status(self, path):
        return self.http_get(path)[0]

    def metrics_text(self):
        status, body = self.http_get("/metrics")
        assert status == 200, f"/metrics answered {status}"
        return body

    def metrics(self):
        return parse_metrics(self.metrics_text())


# --- manifests ----------------------------------------------------------------------------------


def credentials_secret(namespace, name="coffer-credentials",
                       secret_access_key=ROOT_SECRET_ACCESS_KEY):
    return json.dumps({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": {"access-key-id": ROOT_ACCESS_KEY_ID,
                       "secret-access-key": secret_access_key},
    })


def secret_store(namespace, name, endpoint=None, credentials="coffer-credentials",
                 api_version="external-secrets.io/v1"):
    aws = {
        "service": "SecretsManager",
        "region": REGION,
        "auth": {"secretRef": {
            "accessKeyIDSecretRef": {"name": credentials, "key": "access-key-id"},
            "secretAccessKeySecretRef": {"name": credentials, "key": "secret-access-key"},
        }},
    }
    if endpoint:
        aws["endpoint"] = endpoint
    return json.dumps({
        "apiVersion": api_version, "kind": "SecretStore",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"provider": {"aws": aws}},
    })


def cluster_secret_store(name, credentials_namespace, endpoint,
                         credentials="coffer-credentials"):
    refs = {k: {"name": credentials, "key": key, "namespace": credentials_namespace}
            for k, key in (("accessKeyIDSecretRef", "access-key-id"),
                           ("secretAccessKeySecretRef", "secret-access-key"))}
    return json.dumps({
        "apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
        "metadata": {"name": name},
        "spec": {"provider": {"aws": {"service": "SecretsManager", "region": REGION,
                                      "endpoint": endpoint, "auth": {"secretRef": refs}}}},
    })


def external_secret(namespace, name, data, store="coffer", refresh="1h", target=None,
                    creation_policy="Owner", deletion_policy=None,
                    api_version="external-secrets.io/v1"):
    """data: [(secretKey, remote key, property or None)]."""
    target_spec = {"name": target or name, "creationPolicy": creation_policy}
    if deletion_policy:
        target_spec["deletionPolicy"] = deletion_policy
    items = []
    for secret_key, key, prop in data:
        ref = {"key": key}
        if prop:
            ref["property"] = prop
        items.append({"secretKey": secret_key, "remoteRef": ref})
    return json.dumps({
        "apiVersion": api_version, "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"refreshInterval": refresh,
                 "secretStoreRef": {"name": store, "kind": "SecretStore"},
                 "target": target_spec, "data": items},
    })
