"""The reloader end to end: a real Kubernetes 1.20 control plane with kube-controller-manager
(tools/kube/control-plane.sh; it makes a new ReplicaSet for every pod template change, which is
how a rollout is seen here: there is no kubelet, so pods never run), a real `coffer server`, and
`coffer operator` and `coffer reloader` processes, driven with kubectl and boto3.

Processes of the module:
- `coffer reloader` (the module's reloader), debounce 1.5 s, leaving alone the namespaces of the
  three processes below (--namespaces-to-ignore);
- `coffer reloader --reload-debounce-ms 3000 --reload-namespaces rl-debounce` (the debounce test);
- `coffer reloader --reload-strategy annotations --reload-namespaces rl-annotations`;
- `coffer operator --reloader --reload-namespaces rl-embedded` (and it syncs ExternalSecrets
  everywhere).
Each test works in its own namespace (ConfigMaps too, for the typed auto annotations). The last test looks for every secret value written in the
processes' logs, the Events and /metrics. Helpers: operator_harness.py.
"""

import base64
import hashlib
import json
import shutil
import tempfile
import time

import pytest

from operator_harness import (Operator, b64, credentials_secret, external_secret, metric_value,
                              random_value, secret_data, secret_store, stays, wait_until)

DEBOUNCE_MS = 1500
WINDOW_MS = 3000  # the debounce test's window
ANNOTATIONS_NS = "rl-annotations"
DEBOUNCE_NS = "rl-debounce"
EMBEDDED_NS = "rl-embedded"
RECORD = "reloader.coffer.dev/hashes"
AUTO = {"reloader.stakater.com/auto": "true"}

# Every secret value the tests write to Kubernetes Secrets directly (coffer's own are in
# CofferServer.values).
VALUES = set()


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="coffer-kube-reloader-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def stop_cleanly(process):
    rc = process.stop()
    assert rc in (0, None), f"coffer {process.command} exited with {rc}:\n{process.log_tail()}"


def running(kube, coffer, work, label, args, command="reloader"):
    """Starts `coffer <command> args`, yields it, and stops it (it must exit cleanly)."""
    process = Operator(kube.kubeconfig, coffer.endpoint, work, label=label, command=command,
                       extra_args=args)
    try:
        process.start()
    except BaseException:
        process.kill()
        raise
    yield process
    stop_cleanly(process)


@pytest.fixture(scope="module")
def operator(kube, coffer, work):
    yield from running(kube, coffer, work, "operator",
                       ["--reloader", "--reload-namespaces", EMBEDDED_NS,
                        "--reload-debounce-ms", str(DEBOUNCE_MS)], command="operator")


@pytest.fixture(scope="module")
def reloader(kube, coffer, work):
    yield from running(kube, coffer, work, "reloader",
                       ["--reload-debounce-ms", str(DEBOUNCE_MS), "--namespaces-to-ignore",
                        f"{ANNOTATIONS_NS},{EMBEDDED_NS},{DEBOUNCE_NS}"])


@pytest.fixture(scope="module")
def annotations_reloader(kube, coffer, work):
    yield from running(kube, coffer, work, "reloader-annotations",
                       ["--reload-debounce-ms", str(DEBOUNCE_MS), "--reload-strategy",
                        "annotations", "--reload-namespaces", ANNOTATIONS_NS])


@pytest.fixture(scope="module")
def window_reloader(kube, coffer, work):
    yield from running(kube, coffer, work, "reloader-window",
                       ["--reload-debounce-ms", str(WINDOW_MS), "--reload-namespaces",
                        DEBOUNCE_NS])


@pytest.fixture(autouse=True)
def reloader_log(reloader):
    """Prints the reloader's log lines of this test (pytest shows them for failures)."""
    start = reloader.log_size()
    yield
    lines = reloader.log_text()[start:].splitlines()
    print(f"--- coffer reloader log during this test ({len(lines)} lines):")
    print("\n".join(lines[-100:]))


# --- helpers ------------------------------------------------------------------------------------


def secret(namespace, name, data, annotations=None):
    VALUES.update(data.values())
    return json.dumps({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "type": "Opaque", "data": {k: b64(v) for k, v in data.items()},
    })


def set_secret(kube, namespace, name, data):
    VALUES.update(data.values())
    patch = json.dumps({"data": {k: b64(v) for k, v in data.items()}})
    kube.kubectl("patch", "secret", name, "-n", namespace, "--type", "merge", "-p", patch)


def pod_spec(uses):
    """A pod spec whose container uses `uses`: [(how, name)], how in env, envFrom, volume,
    projected."""
    container = {"name": "app", "image": "registry.invalid/app:1"}
    volumes = []
    for i, (how, name) in enumerate(uses):
        if how == "env":
            container.setdefault("env", []).append(
                {"name": f"V{i}", "valueFrom": {"secretKeyRef": {"name": name, "key": "value"}}})
        elif how == "envFrom":
            container.setdefault("envFrom", []).append({"secretRef": {"name": name}})
        elif how in ("volume", "projected"):
            source = ({"secret": {"secretName": name}} if how == "volume"
                      else {"projected": {"sources": [{"secret": {"name": name}}]}})
            volumes.append({"name": f"v{i}", **source})
            container.setdefault("volumeMounts", []).append(
                {"name": f"v{i}", "mountPath": f"/v{i}"})
    spec = {"containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    return spec


def workload(namespace, name, uses, annotations=None, kind="Deployment"):
    spec = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(uses)},
    }
    if kind != "DaemonSet":
        spec["replicas"] = 1
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return json.dumps({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": spec,
    })


def replica_sets(kube, namespace, name):
    items = kube.get_json("replicasets", "-n", namespace, "-l", f"app={name}")["items"]
    return len(items)


def wait_replica_sets(kube, namespace, name, count, timeout=30):
    return wait_until(f"{count} ReplicaSet(s) of {namespace}/{name}",
                      lambda: replica_sets(kube, namespace, name) == count, timeout)


def recorded(kube, namespace, name, kind="deployment"):
    obj = kube.get_or_none(kind, name, namespace)
    annotations = (obj or {}).get("metadata", {}).get("annotations", {})
    return json.loads(annotations[RECORD]) if RECORD in annotations else None


def wait_recorded(kube, namespace, name, kind="deployment", sources=1):
    return wait_until(f"the reloader's record on {kind} {namespace}/{name}",
                      lambda: (recorded(kube, namespace, name, kind) or {}).__len__() >= sources
                      and recorded(kube, namespace, name, kind), 30)


def template_env(obj):
    out = {}
    for c in obj["spec"]["template"]["spec"]["containers"]:
        for e in c.get("env", []):
            if "value" in e:
                out[e["name"]] = e["value"]
    return out


def hmac_key_secrets(kube):
    """The reloaders' HMAC key Secret(s) `coffer-reloader-hmac`, wherever they were created."""
    return kube.get_json("secrets", "-A", "--field-selector",
                         "metadata.name=coffer-reloader-hmac")["items"]


def namespace_with_secrets(kube, namespace, secrets):
    kube.create_namespace(namespace)
    for name, value in secrets.items():
        kube.apply(secret(namespace, name, {"value": value}))


# --- tests --------------------------------------------------------------------------------------


def test_a_value_changed_in_coffer_rolls_only_the_deployment_that_uses_it(kube, coffer, operator,
                                                                          reloader):
    ns = "rl-e2e"
    kube.create_namespace(ns)
    kube.apply(credentials_secret(ns))
    kube.apply(secret_store(ns, "coffer", endpoint=coffer.endpoint))
    first = random_value("db-first")
    coffer.create("rl/db", first)
    kube.apply(external_secret(ns, "db-credentials", [("value", "rl/db", None)], refresh="1h"))
    kube.wait_secret("db-credentials", ns, lambda s: secret_data(s) == {"value": first},
                     "the first value")
    kube.apply(secret(ns, "other", {"value": random_value("other")}))
    kube.apply(workload(ns, "web", [("env", "db-credentials")], AUTO))
    kube.apply(workload(ns, "plain", [("env", "db-credentials")]))
    kube.apply(workload(ns, "other-user", [("env", "other")], AUTO))
    for name in ("web", "plain", "other-user"):
        wait_replica_sets(kube, ns, name, 1)
    wait_recorded(kube, ns, "web")
    wait_recorded(kube, ns, "other-user")
    assert recorded(kube, ns, "plain") is None  # not the reloader's business
    executed = metric_value(reloader.metrics(), "reloader_reload_executed_total",
                            success="true") or 0

    second = random_value("db-second")
    coffer.put("rl/db", second)
    kube.force_sync("db-credentials", ns)
    kube.wait_secret("db-credentials", ns, lambda s: secret_data(s) == {"value": second},
                     "the second value")
    wait_replica_sets(kube, ns, "web", 2)
    web = kube.get_or_none("deployment", "web", ns)
    hmac = template_env(web)["STAKATER_DB_CREDENTIALS_SECRET"]
    assert len(hmac) == 64 and all(c in "0123456789abcdef" for c in hmac)
    # A keyed HMAC, not Reloader's plain SHA1 (or a SHA-256) of the data.
    for plain in (hashlib.sha1(f"value={second}".encode()).hexdigest(),
                  hashlib.sha256(second.encode()).hexdigest()):
        assert hmac != plain
    assert recorded(kube, ns, "web")["secret/db-credentials"] == hmac
    stays("plain and other-user keep one ReplicaSet",
          lambda: replica_sets(kube, ns, "plain") == 1
          and replica_sets(kube, ns, "other-user") == 1
          and replica_sets(kube, ns, "web") == 2, 4)
    reasons = [e.get("reason") for e in kube.events(ns, "web", kind="Deployment")]
    assert "Reloaded" in reasons, reasons
    # The counter counts rollouts: exactly one here (recording "web" and "other-user" was none).
    samples = reloader.metrics()
    assert metric_value(samples, "reloader_reload_executed_total",
                        success="true") == executed + 1
    assert metric_value(samples, "reloader_reconcile_total", result="rollout") >= 1
    assert metric_value(samples, "reloader_reload_executed_total", success="false") == 0


def test_restart_rolls_nothing_and_a_change_while_stopped_rolls_once(kube, reloader):
    ns = "rl-restart"
    namespace_with_secrets(kube, ns, {"app-secret": random_value("restart-a")})
    kube.apply(workload(ns, "app", [("envFrom", "app-secret")], AUTO))
    wait_replica_sets(kube, ns, "app", 1)
    wait_recorded(kube, ns, "app")
    # The reloaders created one key Secret (in the kubeconfig's namespace) and share it: 32
    # random bytes.
    keys = hmac_key_secrets(kube)
    assert len(keys) == 1, [k["metadata"]["namespace"] for k in keys]
    assert keys[0]["metadata"]["namespace"] == "default"
    assert len(base64.b64decode(keys[0]["data"]["key"])) == 32

    stop_cleanly(reloader)
    reloader.start()
    stays("no rollout after a restart", lambda: replica_sets(kube, ns, "app") == 1,
          DEBOUNCE_MS / 1000 + 3)
    # The restarted reloader read the key; it did not make a new one.
    assert [k["metadata"]["resourceVersion"] for k in hmac_key_secrets(kube)] == \
        [keys[0]["metadata"]["resourceVersion"]]

    stop_cleanly(reloader)
    set_secret(kube, ns, "app-secret", {"value": random_value("restart-b")})
    time.sleep(1)
    assert replica_sets(kube, ns, "app") == 1
    reloader.start()
    wait_replica_sets(kube, ns, "app", 2)
    stays("exactly one rollout for the change made while stopped",
          lambda: replica_sets(kube, ns, "app") == 2, DEBOUNCE_MS / 1000 + 3)


def test_three_secrets_changed_within_the_window_roll_once(kube, window_reloader):
    ns = DEBOUNCE_NS
    names = ["s-one", "s-two", "s-three"]
    namespace_with_secrets(kube, ns, {n: random_value(n) for n in names})
    kube.apply(workload(ns, "app", [("env", "s-one"), ("volume", "s-two"),
                                    ("projected", "s-three")], AUTO))
    wait_replica_sets(kube, ns, "app", 1)
    wait_recorded(kube, ns, "app", sources=3)
    executed = metric_value(window_reloader.metrics(), "reloader_reload_executed_total",
                            success="true") or 0
    # Spread over a second or so, well inside the 3 s window.
    first = time.monotonic()
    for i, n in enumerate(names):
        if i:
            time.sleep(0.3)
        set_secret(kube, ns, n, {"value": random_value(n + "-new")})
    spread = time.monotonic() - first
    assert spread < WINDOW_MS / 1000 - 0.5, f"the changes took {spread:.1f} s"
    wait_replica_sets(kube, ns, "app", 2)
    rolled_after = time.monotonic() - first
    # Not before the window has passed since the first change.
    assert rolled_after >= WINDOW_MS / 1000 - 0.5, f"rolled {rolled_after:.1f} s after the first"
    stays("one rollout for three Secrets", lambda: replica_sets(kube, ns, "app") == 2,
          WINDOW_MS / 1000 + 2)
    assert metric_value(window_reloader.metrics(), "reloader_reload_executed_total",
                        success="true") == executed + 1
    env = template_env(kube.get_or_none("deployment", "app", ns))
    assert {"STAKATER_S_ONE_SECRET", "STAKATER_S_TWO_SECRET",
            "STAKATER_S_THREE_SECRET"} <= set(env)


def test_statefulset_and_daemonset_are_patched(kube, reloader):
    ns = "rl-kinds"
    namespace_with_secrets(kube, ns, {"shared": random_value("kinds-a")})
    kube.apply(workload(ns, "db", [("env", "shared")], AUTO, kind="StatefulSet"))
    kube.apply(workload(ns, "agent", [("volume", "shared")], AUTO, kind="DaemonSet"))
    wait_recorded(kube, ns, "db", kind="statefulset")
    wait_recorded(kube, ns, "agent", kind="daemonset")
    revision = wait_until("the StatefulSet's updateRevision", lambda: (
        kube.get_or_none("statefulset", "db", ns).get("status", {}).get("updateRevision")), 30)
    set_secret(kube, ns, "shared", {"value": random_value("kinds-b")})
    for kind, name in (("statefulset", "db"), ("daemonset", "agent")):
        wait_until(f"{kind} {name} carries STAKATER_SHARED_SECRET", lambda: (
            "STAKATER_SHARED_SECRET" in template_env(kube.get_or_none(kind, name, ns))), 30)
    wait_until("a new StatefulSet revision", lambda: (
        kube.get_or_none("statefulset", "db", ns).get("status", {}).get("updateRevision")
        not in (None, revision)), 30)


def test_reloader_annotations_and_reference_kinds(kube, reloader):
    ns = "rl-rules"
    namespace_with_secrets(kube, ns, {
        "s-match": random_value("match"), "s-nomatch": random_value("nomatch"),
        "s-named": random_value("named"), "s-envfrom": random_value("envfrom"),
        "s-vol": random_value("vol"), "s-proj": random_value("proj"),
        "s-ignored": random_value("ignored"), "s-excluded": random_value("excluded")})
    kube.kubectl("annotate", "secret", "s-match", "-n", ns, "reloader.stakater.com/match=true")
    kube.kubectl("annotate", "secret", "s-ignored", "-n", ns, "reloader.stakater.com/ignore=true")
    kube.apply(workload(ns, "search", [("env", "s-match"), ("env", "s-nomatch")],
                        {"reloader.stakater.com/search": "true"}))
    kube.apply(workload(ns, "named", [], {"secret.reloader.stakater.com/reload": "s-named"}))
    kube.apply(workload(ns, "envfrom", [("envFrom", "s-envfrom")],
                        {"secret.reloader.stakater.com/auto": "true"}))
    kube.apply(workload(ns, "vol", [("volume", "s-vol")], AUTO))
    kube.apply(workload(ns, "proj", [("projected", "s-proj")], AUTO))
    kube.apply(workload(ns, "ignored", [("env", "s-ignored")], AUTO))
    kube.apply(workload(ns, "excluded", [("env", "s-excluded"), ("env", "s-vol")],
                        {**AUTO, "secrets.exclude.reloader.stakater.com/reload": "s-excluded"}))
    deployments = ["search", "named", "envfrom", "vol", "proj", "ignored", "excluded"]
    for name in deployments:
        wait_replica_sets(kube, ns, name, 1)
    for name in ["search", "named", "envfrom", "vol", "proj", "excluded"]:
        wait_recorded(kube, ns, name)

    # Not matched, ignored or excluded: nothing rolls.
    for name in ("s-nomatch", "s-ignored", "s-excluded"):
        set_secret(kube, ns, name, {"value": random_value(name + "-2")})
    stays("no rollout for an unmatched, ignored or excluded Secret",
          lambda: all(replica_sets(kube, ns, d) == 1 for d in deployments),
          DEBOUNCE_MS / 1000 + 3)
    # Matched, named, envFrom, volume and projected: each rolls its Deployment once.
    for name in ("s-match", "s-named", "s-envfrom", "s-proj"):
        set_secret(kube, ns, name, {"value": random_value(name + "-2")})
    for name in ("search", "named", "envfrom", "proj"):
        wait_replica_sets(kube, ns, name, 2)
    set_secret(kube, ns, "s-vol", {"value": random_value("vol-2")})
    wait_replica_sets(kube, ns, "vol", 2)
    wait_replica_sets(kube, ns, "excluded", 2)  # it also uses s-vol, which is not excluded
    assert replica_sets(kube, ns, "ignored") == 1


def test_configmaps_and_the_typed_auto_annotations(kube, reloader):
    ns = "rl-configmaps"
    kube.create_namespace(ns)
    kube.kubectl("create", "configmap", "settings", "-n", ns, "--from-literal=mode=one")
    kube.apply(secret(ns, "creds", {"value": random_value("typed-a")}))

    def with_configmap(manifest):
        """Adds envFrom the ConfigMap to the workload's container (it uses `creds` already)."""
        obj = json.loads(manifest)
        container = obj["spec"]["template"]["spec"]["containers"][0]
        container.setdefault("envFrom", []).append({"configMapRef": {"name": "settings"}})
        return json.dumps(obj)

    kube.apply(with_configmap(workload(ns, "cm-auto", [("env", "creds")],
                                       {"configmap.reloader.stakater.com/auto": "true"})))
    kube.apply(with_configmap(workload(ns, "secret-auto", [("env", "creds")],
                                       {"secret.reloader.stakater.com/auto": "true"})))
    for name in ("cm-auto", "secret-auto"):
        wait_replica_sets(kube, ns, name, 1)
        wait_recorded(kube, ns, name)

    # A ConfigMap change rolls only the workload with configmap auto.
    kube.kubectl("patch", "configmap", "settings", "-n", ns, "--type", "merge", "-p",
                 json.dumps({"data": {"mode": "two"}}))
    wait_replica_sets(kube, ns, "cm-auto", 2)
    env = template_env(kube.get_or_none("deployment", "cm-auto", ns))
    assert len(env.get("STAKATER_SETTINGS_CONFIGMAP", "")) == 64
    stays("secret auto ignores the ConfigMap", lambda: replica_sets(kube, ns, "secret-auto") == 1,
          DEBOUNCE_MS / 1000 + 2)
    # A Secret change rolls only the workload with secret auto.
    set_secret(kube, ns, "creds", {"value": random_value("typed-b")})
    wait_replica_sets(kube, ns, "secret-auto", 2)
    stays("configmap auto ignores the Secret", lambda: replica_sets(kube, ns, "cm-auto") == 2,
          DEBOUNCE_MS / 1000 + 2)


def test_annotations_strategy(kube, annotations_reloader):
    ns = ANNOTATIONS_NS
    namespace_with_secrets(kube, ns, {"cfg": random_value("annot-a")})
    kube.apply(workload(ns, "app", [("env", "cfg")], AUTO))
    wait_replica_sets(kube, ns, "app", 1)
    wait_recorded(kube, ns, "app")
    set_secret(kube, ns, "cfg", {"value": random_value("annot-b")})
    wait_replica_sets(kube, ns, "app", 2)
    app = kube.get_or_none("deployment", "app", ns)
    annotations = app["spec"]["template"]["metadata"]["annotations"]
    source = json.loads(annotations["reloader.stakater.com/last-reloaded-from"])
    assert source["type"] == "SECRET" and source["name"] == "cfg"
    assert source["namespace"] == ns and source["containerRefs"] == ["app"]
    assert source["hash"] == recorded(kube, ns, "app")["secret/cfg"]
    assert not any(k.startswith("STAKATER_") for k in template_env(app))


def test_operator_with_reloader_rolls_too(kube, operator):
    ns = EMBEDDED_NS
    namespace_with_secrets(kube, ns, {"cfg": random_value("embedded-a")})
    kube.apply(workload(ns, "app", [("env", "cfg")], AUTO))
    wait_replica_sets(kube, ns, "app", 1)
    wait_recorded(kube, ns, "app")
    set_secret(kube, ns, "cfg", {"value": random_value("embedded-b")})
    wait_replica_sets(kube, ns, "app", 2)
    assert metric_value(operator.metrics(), "reloader_reload_executed_total", success="true") >= 1


def test_no_secret_value_in_logs_events_or_metrics(kube, coffer, operator, reloader,
                                                   annotations_reloader, window_reloader):
    values = VALUES | coffer.values
    assert values
    # Nor the HMAC key, in base64 or hex.
    for key in hmac_key_secrets(kube):
        raw = base64.b64decode(key["data"]["key"])
        values |= {key["data"]["key"], raw.hex()}
    texts = {
        "reloader log": reloader.log_text(),
        "annotations reloader log": annotations_reloader.log_text(),
        "3 s window reloader log": window_reloader.log_text(),
        "operator log": operator.log_text(),
        "events": kube.kubectl("get", "events", "-A", "-o", "json").stdout,
        "reloader metrics": reloader.metrics_text(),
        "3 s window reloader metrics": window_reloader.metrics_text(),
        "operator metrics": operator.metrics_text(),
    }
    for where, text in texts.items():
        for value in values:
            assert value not in text, f"a secret value (or the HMAC key) appears in the {where}"
            assert b64(value) not in text, f"a secret value (base64) appears in the {where}"
