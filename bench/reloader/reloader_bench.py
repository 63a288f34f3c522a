"""coffer reloader benchmark driver (run it through bench/reloader/run.sh).

A real Kubernetes 1.20 control plane (tools/kube/control-plane.sh: etcd, kube-apiserver,
kube-controller-manager) and `coffer reloader`. One namespace holds 200 Deployments annotated
reloader.stakater.com/auto: "true"; 50 of them use Secret `shared` (env secretKeyRef), the other
150 each use a Secret of their own. Once the reloader has recorded every Deployment, each round
PATCHes `shared` with a new value and follows the Deployments with a watch: the latency is from
just before the PATCH request to the watch event that shows the 50th Deployment's pod template
carrying the new STAKATER_SHARED_SECRET value. Every other Deployment must stay untouched.
The reloader's peak RSS (VmHWM) is read from /proc at the end.

Environment: COFFER_BIN, RLBENCH_DEPLOYMENTS (200), RLBENCH_USERS (50), RLBENCH_ROUNDS (5),
RLBENCH_DEBOUNCE_MS (0), RLBENCH_DEFAULT_ROUNDS (1: rounds at the default 5000 ms window, reported
as measured), RLBENCH_RESULTS (bench/reloader/results.md).
"""

import base64
import datetime
import json
import os
import platform
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "tools", "kube", "control-plane.sh")
NS = "bench"


def env_int(name, default):
    return int(os.environ.get(name, default))


def log(msg):
    print(f"[rlbench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Api:
    """The apiserver over HTTPS with the control plane's admin token."""

    def __init__(self, env):
        self.url = env["KUBE_APISERVER_URL"]
        self.token = env["KUBE_TOKEN"]
        self.ctx = ssl.create_default_context(cafile=env["KUBE_CA_FILE"])

    def request(self, method, path, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, context=self.ctx, timeout=60) as r:
            return json.loads(r.read())

    def stream(self, path):
        req = urllib.request.Request(self.url + path)
        req.add_header("Authorization", f"Bearer {self.token}")
        return urllib.request.urlopen(req, context=self.ctx, timeout=600)


def read_env(directory):
    env = {}
    with open(os.path.join(directory, "env"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("export "):
                k, _, v = line[len("export "):].strip().partition("=")
                env[k] = v
    return env


def b64(s):
    return base64.b64encode(s.encode()).decode()


def deployment(name, secret):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS,
                     "annotations": {"reloader.stakater.com/auto": "true"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{
                                  "name": "app", "image": "registry.invalid/app:1",
                                  "env": [{"name": "VALUE", "valueFrom": {"secretKeyRef": {
                                      "name": secret, "key": "value"}}}]}]}}},
    }


def stakater(obj):
    for c in obj["spec"]["template"]["spec"]["containers"]:
        for e in c.get("env", []):
            if e["name"] == "STAKATER_SHARED_SECRET":
                return e.get("value")
    return None


def template_of(obj):
    return json.dumps(obj["spec"]["template"], sort_keys=True)


def written_of(obj):
    """What a client other than kube-controller-manager would write: the spec, the labels and
    the annotations (less kube-controller-manager's own revision annotation). Status updates of
    kube-controller-manager are left out."""
    meta = obj["metadata"]
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "deployment.kubernetes.io/revision"}
    return json.dumps([obj["spec"], meta.get("labels"), annotations], sort_keys=True)


def vm(pid, key):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0  # MiB
    except OSError:
        return None
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Watcher:
    """Follows the namespace's Deployments from a resourceVersion, timestamping template changes."""

    def __init__(self, api, resource_version, templates, written):
        self.api = api
        self.templates = dict(templates)  # name -> template JSON at the start
        self.written = dict(written)  # name -> written_of() at the start
        self.changes = []  # (monotonic time, name, STAKATER_SHARED_SECRET value)
        self.modified = []  # (monotonic time, name): spec, labels or annotations changed
        self.status_events = []  # (monotonic time, name): any MODIFIED event
        self.lock = threading.Lock()
        self.stream = api.stream(f"/apis/apps/v1/namespaces/{NS}/deployments?watch=1"
                                 f"&resourceVersion={resource_version}&timeoutSeconds=600")
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            for line in self.stream:
                now = time.monotonic()
                event = json.loads(line)
                if event.get("type") != "MODIFIED":
                    continue
                obj = event["object"]
                name = obj["metadata"]["name"]
                template = template_of(obj)
                with self.lock:
                    self.status_events.append((now, name))
                    written = written_of(obj)
                    if written != self.written.get(name):
                        self.written[name] = written
                        self.modified.append((now, name))
                    if template != self.templates.get(name):
                        self.templates[name] = template
                        self.changes.append((now, name, stakater(obj)))
        except Exception:  # the stream closes when the benchmark ends
            pass

    def changed_since(self, start):
        with self.lock:
            return [c for c in self.changes if c[0] >= start]

    def modified_since(self, start):
        with self.lock:
            return {name for t, name in self.modified if t >= start}

    def events_since(self, start):
        with self.lock:
            return {name for t, name in self.status_events if t >= start}

    def close(self):
        try:
            self.stream.close()
        except Exception:
            pass


def run_rounds(api, users, rounds, label, round_timeout):
    results = []
    for r in range(rounds):
        listed = api.request("GET", f"/apis/apps/v1/namespaces/{NS}/deployments")
        templates = {d["metadata"]["name"]: template_of(d) for d in listed["items"]}
        written = {d["metadata"]["name"]: written_of(d) for d in listed["items"]}
        watcher = Watcher(api, listed["metadata"]["resourceVersion"], templates, written)
        time.sleep(0.5)  # the watch is established
        value = f"{label}-{r}-{time.time_ns()}"
        start = time.monotonic()
        api.request("PATCH", f"/api/v1/namespaces/{NS}/secrets/shared",
                    {"data": {"value": b64(value)}}, "application/merge-patch+json")
        patched = time.monotonic() - start

        def done():
            rolled = {name for _, name, v in watcher.changed_since(start) if v}
            return len(rolled) >= len(users) and rolled

        try:
            wait_until(f"{len(users)} rollouts", done, round_timeout)
        finally:
            time.sleep(1.5)  # anything else would show up here
            watcher.close()
        changes = watcher.changed_since(start)
        rolled = {}
        for t, name, v in changes:
            rolled.setdefault(name, t)
        others = sorted(set(rolled) - set(users))
        # Any change of spec, labels or annotations (e.g. the reloader's record) of a Deployment
        # that does not use `shared`; and, for information, any MODIFIED event of one
        # (kube-controller-manager's status updates included).
        touched = sorted(watcher.modified_since(start) - set(users))
        any_event = sorted(watcher.events_since(start) - set(users))
        last = max(rolled[n] for n in users) - start
        first = min(rolled[n] for n in users) - start
        results.append({"round": r + 1, "first_s": first, "last_s": last,
                        "patch_request_s": patched, "rolled": len(set(rolled) & set(users)),
                        "others_changed": others, "others_touched": touched,
                        "others_any_event": any_event,
                        "template_changes": len(changes)})
        log(f"[{label} {r + 1}] first {first:.3f} s, last of {len(users)} {last:.3f} s, "
            f"others changed: {len(others)}, others written: {len(touched)} (any event: "
            f"{len(any_event)}), "
            f"template changes: {len(changes)}")
    return results


def start_reloader(coffer, kubeconfig, work, debounce_ms, label):
    port = free_port()
    path = os.path.join(work, f"reloader-{label}.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    env.pop("KUBECONFIG", None)
    f = open(path, "wb")
    proc = subprocess.Popen([coffer, "reloader", "--kubeconfig", kubeconfig, "--metrics-addr",
                             f"127.0.0.1:{port}", "--reload-debounce-ms", str(debounce_ms)],
                            stdout=f, stderr=subprocess.STDOUT, env=env)
    return proc, path, port


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def main():
    coffer = os.environ.get("COFFER_BIN", os.path.join(REPO, "build", "coffer"))
    n_deploy = env_int("RLBENCH_DEPLOYMENTS", 200)
    n_users = env_int("RLBENCH_USERS", 50)
    rounds = env_int("RLBENCH_ROUNDS", 5)
    debounce = env_int("RLBENCH_DEBOUNCE_MS", 0)
    default_rounds = env_int("RLBENCH_DEFAULT_ROUNDS", 1)
    results_md = os.environ.get("RLBENCH_RESULTS",
                                os.path.join(REPO, "bench", "reloader", "results.md"))
    work = tempfile.mkdtemp(prefix="coffer-rlbench-", dir="/var/tmp")
    cp = os.path.join(work, "kube")
    os.makedirs(cp)
    subprocess.run(["bash", SCRIPT, "build"], check=True, capture_output=True)
    subprocess.run(["bash", SCRIPT, "start", cp], check=True, capture_output=True)
    procs = []
    try:
        env = read_env(cp)
        api = Api(env)
        kubeconfig = env["KUBECONFIG"]
        api.request("POST", "/api/v1/namespaces",
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        users = [f"user-{i:03d}" for i in range(n_users)]
        others = [f"other-{i:03d}" for i in range(n_deploy - n_users)]
        for name, secret in [("shared", None)] + [(o, None) for o in others]:
            api.request("POST", f"/api/v1/namespaces/{NS}/secrets",
                        {"apiVersion": "v1", "kind": "Secret",
                         "metadata": {"name": name, "namespace": NS},
                         "data": {"value": b64(f"{name}-initial")}})
        for name in users:
            api.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments",
                        deployment(name, "shared"))
        for name in others:
            api.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments",
                        deployment(name, name))
        log(f"{n_deploy} Deployments ({n_users} using Secret shared) created")

        all_results = {}
        for label, window, count in (("debounce-0", debounce, rounds),
                                     ("debounce-default", 5000, default_rounds)):
            if count <= 0:
                continue
            proc, path, port = start_reloader(coffer, kubeconfig, work, window, label)
            procs.append(proc)

            def recorded():
                items = api.request("GET", f"/apis/apps/v1/namespaces/{NS}/deployments")["items"]
                return all("reloader.coffer.dev/hashes" in d["metadata"].get("annotations", {})
                           for d in items) and len(items) == n_deploy
            wait_until("every Deployment recorded", recorded, 120)
            time.sleep(2)
            rss_settled = vm(proc.pid, "VmRSS")
            res = run_rounds(api, users, count, label, 60 + window / 1000)
            hwm = vm(proc.pid, "VmHWM")
            rss = vm(proc.pid, "VmRSS")
            text = metrics(port)
            executed = [l for l in text.splitlines()
                        if l.startswith("reloader_reload_executed_total")]
            proc.terminate()
            rc = proc.wait(30)
            with open(path, encoding="utf-8", errors="replace") as f:
                log_text = f.read()
            all_results[label] = {"window_ms": window, "rounds": res, "hwm_mib": hwm,
                                  "rss_mib": rss, "rss_settled_mib": rss_settled,
                                  "executed": executed, "exit": rc,
                                  "log_lines": len(log_text.splitlines())}
            log(f"[{label}] VmHWM {hwm:.1f} MiB, exit {rc}")
        write_report(results_md, all_results, n_deploy, n_users, coffer)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        subprocess.run(["bash", SCRIPT, "stop", cp], capture_output=True)
        subprocess.run(["rm", "-rf", work])


def version(args):
    try:
        return subprocess.run(args, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def write_report(path, results, n_deploy, n_users, coffer):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpus = os.cpu_count()
    lines = [
        "# coffer reloader benchmark results", "",
        f"Generated by `bash bench/reloader/run.sh` on {now}. {n_deploy} Deployments in one "
        f"namespace, all annotated `reloader.stakater.com/auto: \"true\"`; {n_users} use Secret "
        f"`shared`, the others a Secret each. Machine: {cpus} cores, "
        f"{platform.machine()}, Linux {platform.release()}; {version([coffer, 'version'])}; "
        f"{version(['kubectl', 'version', '--client'])}. The control plane (etcd, kube-apiserver "
        "1.20, kube-controller-manager), the reloader and this driver share the cores.", "",
        "Method: once the reloader has recorded every Deployment, each round PATCHes `shared` "
        "(one request straight to the apiserver) and follows the namespace's Deployments with a "
        "watch opened before it. Latency = from just before the PATCH to the watch event showing "
        f"the last of the {n_users} pod templates with its new `STAKATER_SHARED_SECRET`. The "
        "watch also shows that no other Deployment's template changed, and that no other "
        "Deployment's spec, labels or annotations changed (from the PATCH to 1.5 s after the "
        "last rollout; kube-controller-manager's status updates and its revision annotation are "
        "counted apart, for information). Peak RSS: the reloader's "
        "VmHWM from /proc after the rounds.", "",
        "| Window (--reload-debounce-ms) | Measure | Median (rounds) | Target | Result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, r in results.items():
        lasts = [x["last_s"] for x in r["rounds"]]
        firsts = [x["first_s"] for x in r["rounds"]]
        med = statistics.median(lasts)
        others = sum(len(x["others_changed"]) for x in r["rounds"])
        is_zero = r["window_ms"] == 0
        target = "< 1 s" if is_zero else "(reported: the window plus the patches)"
        verdict = ("**PASS**" if med < 1 else "**FAIL**") if is_zero else ""
        lines.append(f"| {r['window_ms']} | Secret update to the last of {n_users} rollout "
                     f"patches | {med:.3f} s ({', '.join(f'{x:.3f}' for x in lasts)}) | "
                     f"{target} | {verdict} |")
        lines.append(f"| {r['window_ms']} | ... to the first | {statistics.median(firsts):.3f} s"
                     " | | |")
        lines.append(f"| {r['window_ms']} | other Deployments whose template changed | {others} |"
                     " 0 | " + ("**PASS**" if others == 0 else "**FAIL**") + " |")
        touched = sum(len(x["others_touched"]) for x in r["rounds"])
        any_event = sum(len(x["others_any_event"]) for x in r["rounds"])
        lines.append(f"| {r['window_ms']} | other Deployments whose spec, labels or annotations "
                     f"changed (template or the reloader's record) | {touched} | 0 | " +
                     ("**PASS**" if touched == 0 else "**FAIL**") + " |")
        lines.append(f"| {r['window_ms']} | other Deployments with any MODIFIED event "
                     f"(kube-controller-manager's status updates included; information) | "
                     f"{any_event} | | |")
        lines.append(f"| {r['window_ms']} | reloader peak RSS (VmHWM) | {r['hwm_mib']:.1f} MiB "
                     f"= {r['hwm_mib'] * 1.048576:.1f} MB (VmRSS settled before the rounds "
                     f"{r['rss_settled_mib']:.1f} MiB) | < 30 MB | " +
                     ("**PASS**" if r["hwm_mib"] * 1.048576 < 30 else "**FAIL**") + " |")
    lines += ["", "Per round:", "",
              "| Window | Round | First | Last | PATCH request took | Template changes seen |",
              "| --- | --- | --- | --- | --- | --- |"]
    for label, r in results.items():
        for x in r["rounds"]:
            lines.append(f"| {r['window_ms']} | {x['round']} | {x['first_s']:.3f} s | "
                         f"{x['last_s']:.3f} s | {x['patch_request_s'] * 1000:.0f} ms | "
                         f"{x['template_changes']} |")
    lines += ["", "Reloader metrics at the end of each run: " + "; ".join(
        f"{r['window_ms']} ms: " + ", ".join(r["executed"]) for r in results.values()), ""]
    text = "\n".join(lines)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
