"""`coffer operator` end to end: a real Kubernetes 1.20 control plane (tools/kube/control-plane.sh,
with kube-controller-manager, so ownerReference garbage collection works), a real `coffer server`
and the operator process, driven with kubectl and boto3 the way an operator's user would.

One control plane, one coffer server and one operator serve the whole module; each test works in
its own namespace. Tests that stop something (coffer, the apiserver, the operator) run late, and
the last test looks for every secret value written in the operator's log, the Events, the
ExternalSecrets' status and /metrics.

The operator's log of each test is printed in the test's teardown, which pytest shows for failed
tests only. Helpers: operator_harness.py.
"""

import json
import re
import shutil
import tempfile
import time

import pytest

from operator_harness import (MANAGED_LABEL, ROOT_SECRET_ACCESS_KEY, Operator, b64,
                              cluster_secret_store, condition, credentials_secret, external_secret,
                              metric_value, random_value, ready_state, secret_data, secret_store,
                              stays, wait_until)
from seed_manifests import GUIDE_ROTATED_SECRET, GUIDE_SERVICE_CREDENTIALS

SYNC_TIMEOUT = 30  # a new ExternalSecret against a Ready store
AT_ONCE = 10  # "at once": force-sync, a deleted or edited target
CONNECTION_CAUSE = re.compile(r"refused|unavailable|unreachable|connect|could not reach",
                              re.IGNORECASE)


# Operator processes other than the module's (leader election replicas): their logs are checked
# for secret values too.
OTHER_OPERATORS = []


def as_v1(manifest):
    return manifest.replace("apiVersion: external-secrets.io/v1beta1",
                            "apiVersion: external-secrets.io/v1")


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operator(kube, coffer):
    work = tempfile.mkdtemp(prefix="coffer-kube-e2e-operator-")
    op = Operator(kube.kubeconfig, coffer.endpoint, work)
    try:
        op.start()
        yield op
        rc = op.stop()
        assert rc == 0, f"coffer operator exited with {rc} on SIGTERM:\n{op.log_tail()}"
    finally:
        op.kill()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(autouse=True)
def operator_log(operator):
    """Prints the operator's log lines of this test (pytest shows them for failures)."""
    start = operator.log_size()
    yield
    lines = operator.log_text()[start:].splitlines()
    print(f"--- coffer operator log during this test ({len(lines)} lines, last 200):")
    print("\n".join(lines[-200:]))


def make_namespace(kube, coffer, namespace, store="coffer", endpoint_field=True):
    """A namespace with the coffer credentials Secret and a Ready SecretStore `store` (its
    endpoint in spec.provider.aws.endpoint, or else from AWS_SECRETSMANAGER_ENDPOINT)."""
    kube.create_namespace(namespace)
    kube.apply(credentials_secret(namespace))
    kube.apply(secret_store(namespace, store,
                            endpoint=coffer.endpoint if endpoint_field else None))
    wait_store(kube, namespace, store, "True", "Valid")
    return namespace


def wait_store(kube, namespace, name, status, reason, timeout=60):
    def check():
        obj = kube.store(name, namespace)
        return obj if obj and ready_state(obj) == (status, reason) else None
    try:
        return wait_until(f"SecretStore {namespace}/{name} Ready {status}/{reason}", check,
                          timeout)
    except AssertionError as e:
        obj = kube.store(name, namespace) or {}
        raise AssertionError(f"{e}; status now: {json.dumps(obj.get('status'))}")


def has_data(expected):
    return lambda s: secret_data(s) == expected


def column(lines, name, column_name):
    """The value of `column_name` in the row of `name` in kubectl's table output."""
    header = lines[0]
    match = re.search(r"(?:^|(?<=\s))" + re.escape(column_name) + r"(?=\s|$)", header)
    assert match, f"no column {column_name!r} in {header!r}"
    start = match.start()
    for line in lines[1:]:
        if line.split() and line.split()[0] == name:
            return line[start:].split()[0]
    raise AssertionError(f"no row {name!r} in:\n" + "\n".join(lines))


def metrics_for(operator, name, namespace):
    samples = operator.metrics()
    return {
        "errors": metric_value(samples, "externalsecret_sync_calls_error", name=name,
                               namespace=namespace) or 0,
        "errors_alias": metric_value(samples, "external_secrets_sync_calls_error", name=name,
                                     namespace=namespace) or 0,
        "total": metric_value(samples, "externalsecret_sync_calls_total", name=name,
                              namespace=namespace) or 0,
    }


# --- 1. the seed guide's manifests --------------------------------------------------------------


def test_guide_manifests_sync_verbatim_v1beta1_and_as_v1(kube, coffer, operator):
    password = random_value("guide-db-pw")
    database = json.dumps({"username": "mlflow", "password": password, "port": 5432})
    coffer.create("ml-platform/database", database, password)
    credential = random_value("guide-svc-cred")
    coffer.create("ml-platform/service/credential", credential)

    # The guide's SecretStore uses IRSA (auth.jwt), which coffer cannot do: the same name with
    # auth.secretRef, the endpoint from AWS_SECRETSMANAGER_ENDPOINT.
    make_namespace(kube, coffer, "ml-platform", store="aws-secrets-manager",
                   endpoint_field=False)
    kube.apply(credentials_secret("default"))
    kube.apply(secret_store("default", "aws-secrets-manager",
                            api_version="external-secrets.io/v1beta1"))
    wait_store(kube, "default", "aws-secrets-manager", "True", "Valid")

    # As written (v1beta1); service-credentials has no namespace, so it lands in default.
    kube.apply(GUIDE_ROTATED_SECRET)
    kube.apply(GUIDE_SERVICE_CREDENTIALS)
    rotated = kube.wait_secret("rotated-secret", "ml-platform",
                               has_data({"database-password": password}), "with the password",
                               SYNC_TIMEOUT)
    service = kube.wait_secret("service-credentials", "default",
                               has_data({"password": credential}), "with the credential",
                               SYNC_TIMEOUT)
    for secret in (rotated, service):
        assert secret["type"] == "Opaque"
        assert secret["metadata"]["labels"][MANAGED_LABEL] == "true"
    kube.wait_es_ready("rotated-secret", "ml-platform")
    kube.wait_es_ready("service-credentials", "default")

    # As v1: the v1beta1 object goes (its Secret with it: Owner), the v1 one brings it back with
    # the value coffer has now.
    kube.kubectl("delete", "--wait=true", "-f", "-", input_text=GUIDE_ROTATED_SECRET)
    kube.wait_secret_gone("rotated-secret", "ml-platform", timeout=90)
    new_password = random_value("guide-db-pw2")
    coffer.put("ml-platform/database",
               json.dumps({"username": "mlflow", "password": new_password, "port": 5432}),
               new_password)
    new_credential = random_value("guide-svc-cred2")
    coffer.put("ml-platform/service/credential", new_credential)
    make_namespace(kube, coffer, "guide-v1", store="aws-secrets-manager", endpoint_field=False)
    kube.apply(as_v1(GUIDE_ROTATED_SECRET))
    kube.apply(as_v1(GUIDE_SERVICE_CREDENTIALS), namespace="guide-v1")
    kube.wait_secret("rotated-secret", "ml-platform", has_data({"database-password": new_password}),
                     "with the new password", SYNC_TIMEOUT)
    kube.wait_secret("service-credentials", "guide-v1", has_data({"password": new_credential}),
                     "with the new credential", SYNC_TIMEOUT)
    es = kube.wait_es_ready("rotated-secret", "ml-platform")
    assert es["spec"]["refreshInterval"] == "15m"
    kube.wait_es_ready("service-credentials", "guide-v1")
    # The v1beta1 one in default (refreshInterval 1h) still has the value it read.
    assert secret_data(kube.secret("service-credentials", "default")) == {"password": credential}


# --- 2. what kubectl shows ----------------------------------------------------------------------


def test_kubectl_get_and_describe_show_the_sync(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-kubectl")
    coffer.create("e2e/kubectl/db", random_value("kubectl-db"))
    kube.apply(external_secret(ns, "app-db", [("password", "e2e/kubectl/db", None)]))
    kube.wait_es_ready("app-db", ns, timeout=SYNC_TIMEOUT)

    for resource in ("externalsecrets", "es"):
        lines = kube.kubectl("get", resource, "-n", ns).stdout.splitlines()
        assert lines[0].split()[:2] == ["NAME", "STORETYPE"], lines
        assert column(lines, "app-db", "STATUS") == "SecretSynced", lines
        assert column(lines, "app-db", "READY") == "True", lines
        assert column(lines, "app-db", "STORE") == "coffer", lines

    def described():
        out = kube.kubectl("describe", "es", "app-db", "-n", ns).stdout
        events = out.split("\nEvents:", 1)
        if len(events) < 2 or not re.search(r"^\s*Normal\s+Created\s", events[1], re.M):
            return None
        return out
    out = wait_until("the Created event in kubectl describe es", described, AT_ONCE)
    conditions = out.split("Conditions:", 1)[1].split("\nEvents:", 1)[0]
    assert re.search(r"Reason:\s+SecretSynced\b", conditions), out
    assert re.search(r"Status:\s+True\b", conditions), out
    assert re.search(r"Type:\s+Ready\b", conditions), out
    assert re.search(r"Message:\s+secret synced", conditions), out

    lines = kube.kubectl("get", "secretstores", "-n", ns).stdout.splitlines()
    assert column(lines, "coffer", "STATUS") == "Valid", lines
    assert column(lines, "coffer", "READY") == "True", lines

    es = kube.es("app-db", ns)
    assert es["status"]["binding"]["name"] == "app-db"
    assert es["status"]["refreshTime"]
    assert es["status"]["syncedResourceVersion"]


# --- 3. refresh: the interval and force-sync ----------------------------------------------------


def test_refresh_interval_and_force_sync(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-refresh")
    fast_v1, slow_v1 = random_value("fast-v1"), random_value("slow-v1")
    coffer.create("e2e/refresh/fast", fast_v1)
    coffer.create("e2e/refresh/slow", slow_v1)
    kube.apply(external_secret(ns, "fast", [("value", "e2e/refresh/fast", None)], refresh="10s"))
    kube.apply(external_secret(ns, "slow", [("value", "e2e/refresh/slow", None)], refresh="1h"))
    kube.wait_secret("fast", ns, has_data({"value": fast_v1}), "with v1", SYNC_TIMEOUT)
    slow = kube.wait_secret("slow", ns, has_data({"value": slow_v1}), "with v1", SYNC_TIMEOUT)

    # refreshInterval 10s: a new value arrives within one interval (plus slack).
    fast_v2 = random_value("fast-v2")
    coffer.put("e2e/refresh/fast", fast_v2)
    started = time.monotonic()
    kube.wait_secret("fast", ns, has_data({"value": fast_v2}), "with v2 after one refresh", 40)
    print(f"refreshInterval 10s: the new value arrived after {time.monotonic() - started:.1f}s")

    # refreshInterval 1h: the new value does not arrive by itself ...
    slow_v2 = random_value("slow-v2")
    coffer.put("e2e/refresh/slow", slow_v2)
    rv = slow["metadata"]["resourceVersion"]
    stays("the 1h Secret keeps its old value and resourceVersion", lambda: (
        (s := kube.secret("slow", ns)) is not None and secret_data(s) == {"value": slow_v1}
        and s["metadata"]["resourceVersion"] == rv), 8)
    # ... but at once on force-sync.
    kube.force_sync("slow", ns)
    started = time.monotonic()
    kube.wait_secret("slow", ns, has_data({"value": slow_v2}), "with v2 after force-sync",
                     AT_ONCE)
    print(f"force-sync: the new value arrived after {time.monotonic() - started:.1f}s")
    kube.wait_es_ready("slow", ns)
    for name in ("slow", "fast"):
        wait_until(f"an Updated event on {name}",
                   lambda n=name: "Updated" in kube.event_reasons(ns, n), AT_ONCE)
        assert "Created" in kube.event_reasons(ns, name)


# --- 4. creationPolicy Owner and deletionPolicy -------------------------------------------------


def test_owner_reference_and_garbage_collection(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-owner")
    coffer.create("e2e/owner/db", random_value("owner-db"))
    kube.apply(external_secret(ns, "owned", [("password", "e2e/owner/db", None)],
                               target="owned-secret"))
    es = kube.wait_es_ready("owned", ns, timeout=SYNC_TIMEOUT)
    secret = kube.secret("owned-secret", ns)
    owners = secret["metadata"].get("ownerReferences") or []
    assert len(owners) == 1, owners
    assert owners[0]["kind"] == "ExternalSecret" and owners[0]["name"] == "owned", owners
    assert owners[0]["uid"] == es["metadata"]["uid"], owners
    assert owners[0]["apiVersion"].startswith("external-secrets.io/"), owners
    assert owners[0].get("controller") is True, owners
    assert secret["metadata"]["labels"][MANAGED_LABEL] == "true"
    assert secret["metadata"]["annotations"]["reconcile.external-secrets.io/data-hash"]

    kube.kubectl("delete", "es", "owned", "-n", ns, "--wait=true")
    kube.wait_secret_gone("owned-secret", ns, timeout=90)  # the controller-manager's GC


def test_deletion_policy_delete_removes_the_secret(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-delete")
    coffer.create("e2e/delete/db", random_value("delete-db"))
    kube.apply(external_secret(ns, "deleting", [("password", "e2e/delete/db", None)],
                               refresh="10s", deletion_policy="Delete"))
    kube.wait_es_ready("deleting", ns, timeout=SYNC_TIMEOUT)
    assert kube.secret("deleting", ns) is not None
    coffer.delete("e2e/delete/db")
    kube.wait_secret_gone("deleting", ns, timeout=40)
    kube.wait_es_ready("deleting", ns, reason="SecretDeleted", status="True", timeout=AT_ONCE)
    wait_until("a Deleted event", lambda: "Deleted" in kube.event_reasons(ns, "deleting"),
               AT_ONCE)


def test_deletion_policy_retain_keeps_the_secret(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-retain")
    value = random_value("retain-db")
    coffer.create("e2e/retain/db", value)
    kube.apply(external_secret(ns, "kept", [("password", "e2e/retain/db", None)],
                               refresh="10s"))
    kube.wait_es_ready("kept", ns, timeout=SYNC_TIMEOUT)
    assert kube.es("kept", ns)["spec"]["target"]["deletionPolicy"] == "Retain"  # the default
    before = kube.secret("kept", ns)
    coffer.delete("e2e/retain/db")
    es = kube.wait_es_ready("kept", ns, reason="SecretSyncedError", status="False", timeout=40)
    assert value not in json.dumps(es["status"])
    after = kube.secret("kept", ns)
    assert after is not None, "deletionPolicy Retain: the Secret must be kept"
    assert secret_data(after) == {"password": value}
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


# --- 6. SecretStore status ----------------------------------------------------------------------


def test_store_status_and_metric(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-stores", store="good")
    kube.apply(credentials_secret(ns, name="wrong-credentials",
                                  secret_access_key="wrong/" + random_value("key")))
    kube.apply(secret_store(ns, "bad", endpoint=coffer.endpoint, credentials="wrong-credentials"))
    bad = wait_store(kube, ns, "bad", "False", "ValidationFailed")
    assert condition(bad)["message"], bad["status"]
    good = wait_store(kube, ns, "good", "True", "Valid")
    assert condition(good)["message"] == "store validated"

    def gauges():
        samples = operator.metrics()
        got = {(store, status): metric_value(samples, "secretstore_status_condition",
                                             name=store, namespace=ns, condition="Ready",
                                             status=status)
               for store in ("good", "bad") for status in ("True", "False")}
        return got if got[("good", "True")] == 1 and got[("bad", "False")] == 1 else None
    got = wait_until("secretstore_status_condition for good (True) and bad (False)", gauges,
                     AT_ONCE)
    assert got[("good", "False")] in (0, None), got
    assert got[("bad", "True")] in (0, None), got

    # An ExternalSecret on the bad store does not sync, and says why.
    coffer.create("e2e/stores/db", random_value("stores-db"))
    kube.apply(external_secret(ns, "on-bad-store", [("password", "e2e/stores/db", None)],
                               store="bad"))
    es = kube.wait_es_ready("on-bad-store", ns, reason="SecretSyncedError", status="False",
                            timeout=SYNC_TIMEOUT)
    assert "bad" in condition(es)["message"], es["status"]
    assert kube.secret("on-bad-store", ns) is None


# --- 8. a deleted or edited target is repaired at once ------------------------------------------


def test_deleted_or_edited_target_is_restored_at_once(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-repair")
    value = random_value("repair-db")
    coffer.create("e2e/repair/db", value)
    kube.apply(external_secret(ns, "repaired", [("password", "e2e/repair/db", None)]))
    first = kube.wait_secret("repaired", ns, has_data({"password": value}), "", SYNC_TIMEOUT)

    kube.kubectl("delete", "secret", "repaired", "-n", ns, "--wait=true")
    again = kube.wait_secret("repaired", ns, lambda s: s["metadata"]["uid"] !=
                             first["metadata"]["uid"], "recreated", AT_ONCE)
    assert secret_data(again) == {"password": value}

    kube.kubectl("patch", "secret", "repaired", "-n", ns, "--type=merge", "-p",
                 json.dumps({"data": {"password": b64("edited-by-hand")}}))
    kube.wait_secret("repaired", ns, has_data({"password": value}), "restored after an edit",
                     AT_ONCE)
    kube.wait_es_ready("repaired", ns)


# --- 10. health and metrics ---------------------------------------------------------------------


def test_health_and_metrics(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-metrics")
    coffer.create("e2e/metrics/db", random_value("metrics-db"))
    kube.apply(external_secret(ns, "measured", [("password", "e2e/metrics/db", None)]))
    kube.wait_es_ready("measured", ns, timeout=SYNC_TIMEOUT)

    assert operator.http_status("/healthz") == 200
    assert operator.http_status("/readyz") == 200

    def synced_series():
        samples = operator.metrics()
        ready = metric_value(samples, "externalsecret_status_condition", name="measured",
                             namespace=ns, condition="Ready", status="True")
        return samples if ready == 1 else None
    samples = wait_until("externalsecret_status_condition Ready True 1 for measured",
                         synced_series, AT_ONCE)
    text = operator.metrics_text()
    assert re.search(r"^# TYPE externalsecret_sync_calls_total counter$", text, re.M)
    assert re.search(r"^# TYPE externalsecret_status_condition gauge$", text, re.M)
    assert (metric_value(samples, "externalsecret_sync_calls_total", name="measured",
                         namespace=ns) or 0) >= 1
    assert metric_value(samples, "externalsecret_status_condition", name="measured",
                        namespace=ns, condition="Ready", status="False") in (0, None)
    assert (metric_value(samples, "externalsecret_provider_api_calls_count",
                         provider="AWS/SecretsManager", call="GetSecretValue",
                         status="success") or 0) >= 1
    assert metric_value(samples, "externalsecret_reconcile_duration", name="measured",
                        namespace=ns) is not None


# --- issue 5: target.template (engine v2) ------------------------------------------------------


def make_pem_bundle():
    """A CA, a leaf certificate it signed and the leaf's key, as PEM (what a TLS bundle in a store
    holds): returns (key_pem, leaf_pem, ca_pem)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("coffer-e2e-ca")).issuer_name(
        name("coffer-e2e-ca")).public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("mlflow.ml-platform.svc")).issuer_name(
        ca.subject).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("mlflow.ml-platform.svc")]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return (key_pem, leaf.public_bytes(serialization.Encoding.PEM).decode(),
            ca.public_bytes(serialization.Encoding.PEM).decode())


def templated_external_secret(namespace, name, data, template):
    obj = json.loads(external_secret(namespace, name, data))
    obj["spec"]["target"]["template"] = template
    return json.dumps(obj)


def test_template_tls_secret_from_a_pem_bundle(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-tmpl-tls")
    key_pem, leaf_pem, ca_pem = make_pem_bundle()
    # Key first, then the chain: filterPEM picks blocks by type, in order.
    coffer.create("e2e/tmpl/tls-bundle", key_pem + leaf_pem + ca_pem)
    coffer.remember(key_pem)
    kube.apply(templated_external_secret(ns, "mlflow-tls", [("bundle", "e2e/tmpl/tls-bundle", None)], {
        "type": "kubernetes.io/tls",
        "engineVersion": "v2",
        "metadata": {"labels": {"app.kubernetes.io/name": "mlflow"}},
        "data": {
            "tls.crt": '{{ .bundle | filterPEM "CERTIFICATE" }}',
            "tls.key": '{{ .bundle | filterPEM "PRIVATE KEY" }}',
            # filterCertChain reads certificates only, as ESO's: pick them first.
            "ca.crt": '{{ .bundle | filterPEM "CERTIFICATE" | filterCertChain "root" }}',
        },
    }))
    secret = kube.wait_secret("mlflow-tls", ns, lambda s: bool(secret_data(s)), "rendered",
                              SYNC_TIMEOUT)
    assert secret["type"] == "kubernetes.io/tls"
    data = secret_data(secret)
    assert set(data) == {"tls.crt", "tls.key", "ca.crt"}  # Replace: the raw bundle is not kept
    assert data["tls.key"] == key_pem
    assert data["tls.crt"] == leaf_pem + ca_pem
    assert data["ca.crt"] == ca_pem
    assert secret["metadata"]["labels"]["app.kubernetes.io/name"] == "mlflow"
    assert secret["metadata"]["labels"][MANAGED_LABEL] == "true"
    kube.wait_es_ready("mlflow-tls", ns)


def test_template_dockerconfigjson_template_from_and_errors(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-tmpl-docker")
    password = random_value("registry-pw")
    coffer.create("e2e/tmpl/registry",
                  json.dumps({"username": "robot$ml", "password": password}), password)
    dockercfg = ('{"auths":{"registry.example.com":{"username":"{{ .user }}",'
                 '"password":"{{ .password }}",'
                 '"auth":"{{ printf "%s:%s" .user .password | b64enc }}"}}}')
    kube.apply(templated_external_secret(
        ns, "pull-secret",
        [("user", "e2e/tmpl/registry", "username"), ("password", "e2e/tmpl/registry", "password")],
        {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": dockercfg}}))
    secret = kube.wait_secret("pull-secret", ns, lambda s: bool(secret_data(s)), "rendered",
                              SYNC_TIMEOUT)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(secret_data(secret)[".dockerconfigjson"])
    auth = config["auths"]["registry.example.com"]
    assert auth["username"] == "robot$ml" and auth["password"] == password
    import base64
    assert base64.b64decode(auth["auth"]).decode() == f"robot$ml:{password}"

    # templateFrom a ConfigMap (KeysAndValues) and mergePolicy Merge, the precedence ESO has.
    kube.apply(json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "db-env-template", "namespace": ns},
        "data": {"env": "DB_USER: '{{ .user }}'\nDB_URL: 'postgres://{{ .user }}@db/ml'\n"},
    }))
    kube.apply(templated_external_secret(
        ns, "env-from-template",
        [("user", "e2e/tmpl/registry", "username"), ("password", "e2e/tmpl/registry", "password")],
        {"mergePolicy": "Merge",
         "templateFrom": [{"configMap": {"name": "db-env-template",
                                         "items": [{"key": "env", "templateAs": "KeysAndValues"}]}}],
         "data": {"DB_USER": "{{ .user | upper }}"}}))
    secret = kube.wait_secret("env-from-template", ns, lambda s: "DB_URL" in secret_data(s),
                              "rendered from the ConfigMap", SYNC_TIMEOUT)
    assert secret_data(secret) == {"DB_USER": "ROBOT$ML", "DB_URL": "postgres://robot$ml@db/ml",
                                   "user": "robot$ml", "password": password}

    # A template error: Ready False with a message naming the key, no value, no Secret written.
    kube.apply(templated_external_secret(
        ns, "broken-template", [("password", "e2e/tmpl/registry", "password")],
        {"data": {"url": "{{ .password }}@{{ .host }}"}}))
    es = kube.wait_es_ready("broken-template", ns, reason="SecretSyncedError", status="False",
                            timeout=SYNC_TIMEOUT)
    message = condition(es)["message"]
    assert "could not apply template" in message and "url" in message and "host" in message
    assert password not in message
    assert kube.secret("broken-template", ns) is None


# --- 5. coffer outage ---------------------------------------------------------------------------


def test_coffer_outage_keeps_the_secret_and_recovers(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-outage")
    v1 = random_value("outage-v1")
    coffer.create("e2e/outage/db", v1)
    kube.apply(external_secret(ns, "survivor", [("password", "e2e/outage/db", None)]))
    kube.wait_es_ready("survivor", ns, timeout=SYNC_TIMEOUT)
    before = kube.secret("survivor", ns)
    assert secret_data(before) == {"password": v1}
    # A new value the 1h ExternalSecret has not read yet: it must arrive after the outage.
    v2 = random_value("outage-v2")
    coffer.put("e2e/outage/db", v2)
    counts = metrics_for(operator, "survivor", ns)

    assert coffer.stop() == 0, coffer.log_tail()
    try:
        kube.force_sync("survivor", ns)
        es = kube.wait_es_ready("survivor", ns, reason="SecretSyncedError", status="False",
                                timeout=30)
        message = condition(es)["message"]
        assert CONNECTION_CAUSE.search(message), message
        assert v1 not in json.dumps(es["status"]) and v2 not in json.dumps(es["status"])
        after = kube.secret("survivor", ns)
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        assert secret_data(after) == {"password": v1}
        warning = wait_until("a Warning UpdateFailed event", lambda: [
            e for e in kube.events(ns, "survivor")
            if e.get("reason") == "UpdateFailed" and e.get("type") == "Warning"], AT_ONCE)
        assert v1 not in warning[0].get("message", "")
        now = wait_until("the error counters to increase", lambda: (
            c if (c := metrics_for(operator, "survivor", ns))["errors"] > counts["errors"]
            and c["errors_alias"] > counts["errors_alias"] else None), AT_ONCE)
        print(f"sync error counters {counts} -> {now}")
    finally:
        if coffer.proc is None:
            coffer.start()  # the same port and data dir
    started = time.monotonic()
    kube.wait_secret("survivor", ns, has_data({"password": v2}),
                     "with the value written before the outage", 60)
    kube.wait_es_ready("survivor", ns, timeout=AT_ONCE)
    print(f"recovered {time.monotonic() - started:.1f}s after coffer came back")


# --- 9. kube-apiserver restart ------------------------------------------------------------------


def test_watches_resume_after_an_apiserver_restart(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-apiserver")
    v1 = random_value("apiserver-v1")
    coffer.create("e2e/apiserver/db", v1)
    kube.apply(external_secret(ns, "before", [("password", "e2e/apiserver/db", None)]))
    first = kube.wait_secret("before", ns, has_data({"password": v1}), "", SYNC_TIMEOUT)

    started = time.monotonic()
    kube.restart_apiserver()
    print(f"kube-apiserver restarted in {time.monotonic() - started:.1f}s")
    assert operator.running(), f"the operator died with the apiserver:\n{operator.log_tail()}"

    # A changed value through force-sync: the ExternalSecret watch is back.
    v2 = random_value("apiserver-v2")
    coffer.put("e2e/apiserver/db", v2)

    kube.force_sync("before", ns)
    kube.wait_secret("before", ns, has_data({"password": v2}),
                     "with the value changed after an apiserver restart", 60)

    # A new ExternalSecret.
    v3 = random_value("apiserver-new")
    coffer.create("e2e/apiserver/new", v3)
    kube.apply(external_secret(ns, "after", [("password", "e2e/apiserver/new", None)]))
    kube.wait_secret("after", ns, has_data({"password": v3}), "for a new ExternalSecret", 60)
    kube.wait_es_ready("after", ns)

    # The Secret watch is back too: a deleted target comes back.
    kube.kubectl("delete", "secret", "before", "-n", ns, "--wait=true")
    kube.wait_secret("before", ns, lambda s: s["metadata"]["uid"] != first["metadata"]["uid"],
                     "recreated", 60)
    assert operator.http_status("/healthz") == 200


# --- 7. operator restart ------------------------------------------------------------------------


def test_operator_restart_writes_nothing(kube, coffer, operator):
    # Everything the earlier tests left behind, settled (no ExternalSecret waits for a change).
    def settled():
        items = kube.get_json("externalsecrets.external-secrets.io", "-A")["items"]
        pending = [f"{e['metadata']['namespace']}/{e['metadata']['name']}" for e in items
                   if ready_state(e) is None]
        return items if not pending else None
    items = wait_until("every ExternalSecret to have a Ready condition", settled, 60)
    secrets_before = kube.managed_secrets()
    assert len(secrets_before) >= 8, secrets_before
    # ExternalSecrets that are synced and not due for hours: their status must not move either.
    quiet = {(e["metadata"]["namespace"], e["metadata"]["name"]): e["metadata"]["resourceVersion"]
             for e in items
             if ready_state(e) == ("True", "SecretSynced")
             and e["spec"].get("refreshInterval") in ("1h", "1h0m0s")}
    assert len(quiet) >= 4, quiet

    rc = operator.stop()
    assert rc == 0, f"coffer operator exited with {rc} on SIGTERM:\n{operator.log_tail()}"
    operator.start()

    def reconciled_all():
        samples = operator.metrics()
        missing = [f"{e['metadata']['namespace']}/{e['metadata']['name']}" for e in items
                   if not metric_value(samples, "externalsecret_sync_calls_total",
                                       name=e["metadata"]["name"],
                                       namespace=e["metadata"]["namespace"])]
        return not missing or None
    wait_until("externalsecret_sync_calls_total for every ExternalSecret after the restart",
               reconciled_all, 30)

    def unchanged():
        return kube.managed_secrets() == secrets_before
    stays("every managed Secret's resourceVersion", unchanged, 5)
    assert kube.managed_secrets() == secrets_before
    quiet_after = {k: (kube.es(k[1], k[0]) or {}).get("metadata", {}).get("resourceVersion")
                   for k in quiet}
    assert quiet_after == quiet, "ExternalSecrets rewritten by a restart"


# --- beyond the issue's list: ClusterSecretStore + dataFrom, leader election -------------------


def test_cluster_secret_store_and_data_from_extract(kube, coffer, operator):
    creds = "e2e-cluster-creds"
    kube.create_namespace(creds)
    kube.apply(credentials_secret(creds))
    kube.apply(cluster_secret_store("coffer-cluster", creds, coffer.endpoint))

    def store_ready():
        obj = kube.get_or_none("clustersecretstores.external-secrets.io", "coffer-cluster",
                               "default")
        return obj if obj and ready_state(obj) == ("True", "Valid") else None
    wait_until("ClusterSecretStore coffer-cluster Ready True/Valid", store_ready, 60)
    lines = kube.kubectl("get", "clustersecretstores").stdout.splitlines()
    assert column(lines, "coffer-cluster", "STATUS") == "Valid", lines
    assert column(lines, "coffer-cluster", "READY") == "True", lines

    ns = "e2e-cluster"
    kube.create_namespace(ns)
    user, token = random_value("cluster-user"), random_value("cluster-token")
    coffer.create("e2e/cluster/config", json.dumps({"user": user, "token": token}), user, token)
    kube.apply(json.dumps({
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "metadata": {"name": "from-cluster-store", "namespace": ns},
        "spec": {"refreshInterval": "1h",
                 "secretStoreRef": {"name": "coffer-cluster", "kind": "ClusterSecretStore"},
                 "target": {"name": "from-cluster-store"},
                 "data": [{"secretKey": "login",
                           "remoteRef": {"key": "e2e/cluster/config", "property": "user"}}],
                 "dataFrom": [{"extract": {"key": "e2e/cluster/config"}}]},
    }))
    kube.wait_secret("from-cluster-store", ns,
                     has_data({"user": user, "token": token, "login": user}),
                     "with the extracted keys", SYNC_TIMEOUT)
    kube.wait_es_ready("from-cluster-store", ns)
    wait_until("clustersecretstore_status_condition Ready True 1", lambda: metric_value(
        operator.metrics(), "clustersecretstore_status_condition", name="coffer-cluster",
        condition="Ready", status="True") == 1, AT_ONCE)


def test_leader_election_one_replica_reconciles_and_hands_over(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-leader")
    coffer.create("e2e/leader/db", random_value("leader-db"))
    rc = operator.stop()
    assert rc == 0, f"coffer operator exited with {rc} on SIGTERM:\n{operator.log_tail()}"
    args = ["--enable-leader-election", "--leader-election-namespace", ns]
    replicas = [Operator(kube.kubeconfig, coffer.endpoint, operator.work, label=f"replica-{x}",
                         extra_args=args) for x in "ab"]
    OTHER_OPERATORS.extend(replicas)

    def holder():
        lease = kube.get_or_none("lease", "coffer-operator", ns)
        return ((lease or {}).get("spec") or {}).get("holderIdentity")

    def synced_by(name):
        """The replicas that reconciled ExternalSecret `name`."""
        return [r for r in replicas if r.running() and metric_value(
            r.metrics(), "externalsecret_sync_calls_total", name=name, namespace=ns)]

    def new_es(name):
        kube.apply(external_secret(ns, name, [("password", "e2e/leader/db", None)]))
        kube.wait_es_ready(name, ns, timeout=60)
        return wait_until(f"a replica's metrics for {name}", lambda: synced_by(name), AT_ONCE)

    try:
        for r in replicas:
            r.start()  # returns once /readyz is 200: the standby is ready too
        first = wait_until("a Lease holder", holder, 30)
        leaders = new_es("led-1")
        assert len(leaders) == 1, "both replicas reconciled"
        leader = leaders[0]
        standby = next(r for r in replicas if r is not leader)
        assert standby.http_status("/readyz") == 200 and standby.http_status("/healthz") == 200

        # A clean stop hands the Lease over at once.
        assert leader.stop() == 0, leader.log_tail()
        try:
            # At once, normally; a loaded CI machine once needed more than 30 s (a lease read
            # can take up to the client's 30 s request timeout).
            second = wait_until("a new Lease holder", lambda: (h := holder()) != first and h, 60)
        except AssertionError as e:
            raise AssertionError(f"{e}; standby running: {standby.running()}; its log:\n"
                                 f"{standby.log_tail(40)}") from None
        assert new_es("led-2") == [standby]

        # A crash: the Lease has to expire (15 s) before a new replica takes over.
        standby.kill()
        leader.start()
        wait_until("a third Lease holder", lambda: (h := holder()) not in (first, second) and h,
                   60)
        assert new_es("led-3") == [leader]
    finally:
        exits = [(r.label, r.stop()) for r in replicas if r.running()]
        operator.start()
    assert all(rc == 0 for _, rc in exits), exits


# --- 11. no secret value anywhere it should not be ----------------------------------------------


def test_secret_values_never_leak(kube, coffer, operator):
    values = sorted(coffer.values | {ROOT_SECRET_ACCESS_KEY})
    assert len(values) >= 15, len(values)
    sources = {
        "the operator's log": operator.log_text(),
        "the leader election replicas' logs": "\n".join(r.log_text() for r in OTHER_OPERATORS),
        "Events": kube.kubectl("get", "events", "-A", "-o", "json").stdout,
        "/metrics": operator.metrics_text(),
        "ExternalSecrets": kube.kubectl("get", "externalsecrets.external-secrets.io", "-A",
                                        "-o", "json").stdout,
        "SecretStores": kube.kubectl("get", "secretstores.external-secrets.io", "-A", "-o",
                                     "json").stdout,
    }
    assert "Created" in sources["Events"]
    found = [f"value #{i} in {where}" for where, text in sources.items()
             for i, value in enumerate(values)
             if value in text or b64(value) in text]
    assert not found, found  # names the places, never the values


# --- dataFrom.find + rewrite ---------------------------------------------------------------------


def test_find_with_rewrite(kube, coffer, operator):
    ns = make_namespace(kube, coffer, "e2e-find")
    values = {name: random_value(name.replace("/", "-"))
              for name in ("ml-platform/mlflow/db", "ml-platform/airflow/db", "other/x")}
    tags = {"ml-platform/mlflow/db": {"team": "ml", "env": "prod"},
            "ml-platform/airflow/db": {"team": "ml", "env": "dev"},
            # "mlops" starts with "ml": AWS's tag-value filter matches it, the exact check not.
            "other/x": {"team": "mlops", "env": "prod"}}
    client = coffer.client()
    for name, value in values.items():
        coffer.remember(value)
        client.create_secret(Name=name, SecretString=value,
                             Tags=[{"Key": k, "Value": v} for k, v in tags[name].items()])

    rewrite = [{"regexp": {"source": "ml-platform/(.*)/db", "target": "$1-db"}}]

    def find_es(name, find, rewrites):
        entry = {"find": find}
        if rewrites:
            entry["rewrite"] = rewrites
        return json.dumps({
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"refreshInterval": "1h",
                     "secretStoreRef": {"name": "coffer", "kind": "SecretStore"},
                     "target": {"name": name},
                     "dataFrom": [entry]},
        })

    # Anchored: other tests of this module keep secrets such as ml-platform/database in the same
    # coffer, which the rewrite would leave as an invalid key.
    kube.apply(find_es("by-name", {"name": {"regexp": "^ml-platform/[a-z]+/db$"}}, rewrite))
    kube.apply(find_es("by-tag", {"tags": {"team": "ml"}}, rewrite))
    kube.apply(find_es("by-tags-no-rewrite", {"tags": {"team": "ml", "env": "prod"}}, None))
    both = {"mlflow-db": values["ml-platform/mlflow/db"],
            "airflow-db": values["ml-platform/airflow/db"]}
    kube.wait_secret("by-name", ns, has_data(both), "with the rewritten keys", SYNC_TIMEOUT)
    kube.wait_secret("by-tag", ns, has_data(both), "with exact tag matches only", SYNC_TIMEOUT)
    # Without a rewrite, the full names are converted ('/' -> '_').
    kube.wait_secret("by-tags-no-rewrite", ns,
                     has_data({"ml-platform_mlflow_db": values["ml-platform/mlflow/db"]}),
                     "with the converted key", SYNC_TIMEOUT)
    for name in ("by-name", "by-tag", "by-tags-no-rewrite"):
        kube.wait_es_ready(name, ns)

    # A rewrite that leaves an invalid key fails the sync with the key named, no values.
    kube.apply(find_es("bad-key", {"name": {"regexp": "^ml-platform/"}},
                       [{"regexp": {"source": "^ml-platform/", "target": ""}}]))
    obj = kube.wait_es_ready("bad-key", ns, reason="SecretSyncedError", status="False")
    message = condition(obj)["message"]
    assert "is not a valid Secret key" in message, message
    assert not any(v in message for v in values.values()), "a secret value in the status"
