"""ClusterExternalSecret end to end: a real Kubernetes 1.20 control plane (with
kube-controller-manager, so ownerReference garbage collection works), a real `coffer server` and
`coffer operator`, driven with kubectl as an ESO user would.

- A ClusterExternalSecret whose namespaceSelectors match `team=ml` stamps an ExternalSecret into
  each labelled namespace (their Secrets get the value from coffer) and leaves the others alone;
  labelling a namespace later adds it, removing the label deletes the ExternalSecret there (and
  the garbage collector its Secret); an ExternalSecret of the same name it does not own is a
  failed namespace and is left alone; the status lists it all.
- A ClusterSecretStore whose spec.conditions exclude a namespace: the ExternalSecret stamped there
  says it is not allowed; the allowed one syncs.
- Referent authentication: a ClusterSecretStore whose credential refs name no namespace reads
  them in each ExternalSecret's namespace.
- No secret value in the operator's log or the ClusterExternalSecrets' status.

Helpers: operator_harness.py.
"""

import json
import shutil
import tempfile
import time

import pytest

from operator_harness import (REGION, Operator, cluster_secret_store, condition, credentials_secret,
                              random_value, secret_data, stays, wait_until)

SYNC_TIMEOUT = 45
CES_GROUP = "clusterexternalsecrets.external-secrets.io"
ALREADY_EXISTS = "external secret already exists in namespace"


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operator(kube, coffer):
    work = tempfile.mkdtemp(prefix="coffer-kube-ces-operator-")
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


# --- helpers ------------------------------------------------------------------------------------


def namespace(kube, name, labels=None):
    kube.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": name, "labels": labels or {}}}))


def label(kube, ns, *labels):
    kube.kubectl("label", "namespace", ns, "--overwrite", *labels)


def cluster_store_ready(kube, name):
    def check():
        obj = kube.get_json("clustersecretstores.external-secrets.io", name)
        c = condition(obj)
        return obj if c and c.get("status") == "True" else None
    return wait_until(f"ClusterSecretStore {name} Ready", check, SYNC_TIMEOUT)


def ces_manifest(name, selector_labels, store, remote_key, es_name=None, refresh="1h"):
    spec = {
        "namespaceSelectors": [{"matchLabels": selector_labels}],
        "refreshTime": refresh,
        "externalSecretMetadata": {"labels": {"stamped-by": name}},
        "externalSecretSpec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": store, "kind": "ClusterSecretStore"},
            "target": {"name": "app-db"},
            "data": [{"secretKey": "password", "remoteRef": {"key": remote_key}}],
        },
    }
    if es_name:
        spec["externalSecretName"] = es_name
    return json.dumps({"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret",
                       "metadata": {"name": name}, "spec": spec})


def ces(kube, name):
    return kube.get_json(CES_GROUP, name)


def ces_status(kube, name):
    return ces(kube, name).get("status") or {}


def wait_ces(kube, name, predicate, what):
    try:
        def check():
            status = ces_status(kube, name)
            return status if predicate(status) else None
        return wait_until(f"ClusterExternalSecret {name} {what}", check, SYNC_TIMEOUT)
    except AssertionError as e:
        raise AssertionError(f"{e}; status now: {json.dumps(ces_status(kube, name))}")


def provisioned(names):
    return lambda status: sorted(status.get("provisionedNamespaces") or []) == sorted(names)


def has_password(value):
    return lambda s: secret_data(s) == {"password": value}


def es_ready_message(kube, name, ns):
    es = kube.es(name, ns)
    c = condition(es) if es else None
    return (c.get("status"), c.get("message", "")) if c else None


# --- tests --------------------------------------------------------------------------------------


def test_namespace_selectors_follow_labels(kube, coffer, operator):
    value = random_value("ces-ml-db")
    coffer.create("ces/ml/db", value)
    namespace(kube, "ces-creds")
    kube.apply(credentials_secret("ces-creds"))
    kube.apply(cluster_secret_store("ces-coffer", "ces-creds", coffer.endpoint))
    cluster_store_ready(kube, "ces-coffer")

    namespace(kube, "ml-a", {"team": "ml"})
    namespace(kube, "ml-b", {"team": "ml", "tier": "prod"})
    namespace(kube, "ml-plain")                      # no label: left alone
    namespace(kube, "ml-web", {"team": "web"})       # another team: left alone
    namespace(kube, "ml-late")                       # labelled later
    namespace(kube, "ml-taken", {"team": "ml"})      # the name is taken by someone else's
    foreign = {
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "metadata": {"name": "ml-db", "namespace": "ml-taken", "labels": {"owner": "me"}},
        "spec": {"refreshInterval": "1h",
                 "secretStoreRef": {"name": "ces-coffer", "kind": "ClusterSecretStore"},
                 "target": {"name": "mine"},
                 "data": [{"secretKey": "password", "remoteRef": {"key": "ces/ml/db"}}]},
    }
    kube.apply(json.dumps(foreign))
    foreign_before = kube.es("ml-db", "ml-taken")

    kube.apply(ces_manifest("ml-db", {"team": "ml"}, "ces-coffer", "ces/ml/db"))

    # The two labelled namespaces get the ExternalSecret and, from it, the Secret.
    for ns in ("ml-a", "ml-b"):
        kube.wait_secret("app-db", ns, has_password(value), "with the value", SYNC_TIMEOUT)
        es = kube.es("ml-db", ns)
        assert es["metadata"]["labels"] == {"stamped-by": "ml-db"}
        owner = es["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == (
            "ClusterExternalSecret", "ml-db", True)
        assert owner["uid"] == ces(kube, "ml-db")["metadata"]["uid"]
        assert es["spec"]["target"]["name"] == "app-db"
        kube.wait_es_ready("ml-db", ns)
    status = wait_ces(kube, "ml-db", provisioned(["ml-a", "ml-b"]), "provisions ml-a and ml-b")
    assert status["externalSecretName"] == "ml-db"
    assert status["failedNamespaces"] == [{"namespace": "ml-taken", "reason": ALREADY_EXISTS}]
    ready = condition({"status": status})
    assert ready["status"] == "False" and ready["message"] == "one or more namespaces failed"

    # The others are left alone, and so is the ExternalSecret it does not own.
    for ns in ("ml-plain", "ml-web", "ml-late"):
        assert kube.es("ml-db", ns) is None, ns
    taken = kube.es("ml-db", "ml-taken")
    assert taken["metadata"]["resourceVersion"] == foreign_before["metadata"]["resourceVersion"]
    assert "ownerReferences" not in taken["metadata"]
    assert taken["spec"]["target"]["name"] == "mine"

    # Labelled later: provisioned.
    label(kube, "ml-late", "team=ml")
    kube.wait_secret("app-db", "ml-late", has_password(value), "with the value", SYNC_TIMEOUT)
    wait_ces(kube, "ml-db", provisioned(["ml-a", "ml-b", "ml-late"]), "adds ml-late")

    # The label removed: the ExternalSecret there is deleted (its Secret follows by garbage
    # collection), the other namespaces keep theirs.
    label(kube, "ml-a", "team-")
    wait_until("ExternalSecret ml-a/ml-db deleted", lambda: kube.es("ml-db", "ml-a") is None,
               SYNC_TIMEOUT)
    kube.wait_secret_gone("app-db", "ml-a", timeout=90)
    wait_ces(kube, "ml-db", provisioned(["ml-b", "ml-late"]), "drops ml-a")
    assert kube.es("ml-db", "ml-b") is not None

    # The conflicting ExternalSecret goes: the namespace is provisioned, and the status is Ready.
    kube.kubectl("delete", "externalsecrets.external-secrets.io", "ml-db", "-n", "ml-taken")
    status = wait_ces(kube, "ml-db", provisioned(["ml-b", "ml-late", "ml-taken"]),
                      "provisions ml-taken")
    wait_ces(kube, "ml-db", lambda s: not s.get("failedNamespaces")
             and (condition({"status": s}) or {}).get("status") == "True", "Ready True")
    kube.wait_secret("app-db", "ml-taken", has_password(value), "with the value", SYNC_TIMEOUT)

    # An ExternalSecret edited by hand is put back.
    kube.kubectl("patch", "externalsecrets.external-secrets.io", "ml-db", "-n", "ml-b",
                 "--type=merge", "-p", json.dumps({"metadata": {"labels": {"stamped-by": "me"}},
                                                   "spec": {"refreshInterval": "5m"}}))
    wait_until("ExternalSecret ml-b/ml-db restored",
               lambda: (kube.es("ml-db", "ml-b")["spec"]["refreshInterval"] == "1h"
                        and kube.es("ml-db", "ml-b")["metadata"]["labels"]
                        == {"stamped-by": "ml-db"}), SYNC_TIMEOUT)

    # Nothing changes while nothing is changed: no rewrite of the stamped ExternalSecrets.
    before = {ns: kube.es("ml-db", ns)["metadata"]["resourceVersion"]
              for ns in ("ml-b", "ml-late", "ml-taken")}
    stays("stamped ExternalSecrets unchanged",
          lambda: {ns: kube.es("ml-db", ns)["metadata"]["resourceVersion"]
                   for ns in before} == before, 4)

    # The ClusterExternalSecret deleted: the garbage collector removes what it stamped.
    kube.kubectl("delete", CES_GROUP, "ml-db")
    for ns in ("ml-b", "ml-late", "ml-taken"):
        wait_until(f"ExternalSecret {ns}/ml-db collected",
                   lambda ns=ns: kube.es("ml-db", ns) is None, 90)


def test_cluster_store_conditions_exclude_a_namespace(kube, coffer, operator):
    value = random_value("ces-data-db")
    coffer.create("ces/data/db", value)
    namespace(kube, "data-creds")
    kube.apply(credentials_secret("data-creds"))
    store = json.loads(cluster_secret_store("data-only-allowed", "data-creds", coffer.endpoint))
    store["spec"]["conditions"] = [{"namespaceSelector": {"matchLabels": {"allowed": "yes"}}},
                                   {"namespaces": ["data-listed"]}]
    kube.apply(json.dumps(store))
    cluster_store_ready(kube, "data-only-allowed")
    namespace(kube, "data-ok", {"team": "data", "allowed": "yes"})
    namespace(kube, "data-listed", {"team": "data"})
    namespace(kube, "data-denied", {"team": "data"})

    kube.apply(ces_manifest("data-db", {"team": "data"}, "data-only-allowed", "ces/data/db"))
    for ns in ("data-ok", "data-listed"):
        kube.wait_secret("app-db", ns, has_password(value), "with the value", SYNC_TIMEOUT)
    wait_until("ExternalSecret data-denied/data-db not allowed",
               lambda: (es_ready_message(kube, "data-db", "data-denied") or ("", ""))[0]
               == "False", SYNC_TIMEOUT)
    status, message = es_ready_message(kube, "data-db", "data-denied")
    assert ('using cluster store "data-only-allowed" is not allowed from namespace '
            '"data-denied"') in message, message
    assert value not in message
    assert kube.secret("app-db", "data-denied") is None
    # The ClusterExternalSecret did its part everywhere; the store decides who may read.
    wait_ces(kube, "data-db", provisioned(["data-denied", "data-listed", "data-ok"]),
             "provisions all three")


def test_referent_auth_reads_credentials_in_each_namespace(kube, coffer, operator):
    value = random_value("ces-ref-db")
    coffer.create("ces/ref/db", value)
    # No namespace on the credential refs: each ExternalSecret's own namespace is used.
    refs = {k: {"name": "coffer-credentials", "key": key}
            for k, key in (("accessKeyIDSecretRef", "access-key-id"),
                           ("secretAccessKeySecretRef", "secret-access-key"))}
    kube.apply(json.dumps({
        "apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
        "metadata": {"name": "referent"},
        "spec": {"provider": {"aws": {"service": "SecretsManager", "region": REGION,
                                      "endpoint": coffer.endpoint,
                                      "auth": {"secretRef": refs}}}}}))
    cluster_store_ready(kube, "referent")
    namespace(kube, "ref-with-creds", {"team": "ref"})
    kube.apply(credentials_secret("ref-with-creds"))
    namespace(kube, "ref-without-creds", {"team": "ref"})

    kube.apply(ces_manifest("ref-db", {"team": "ref"}, "referent", "ces/ref/db"))
    kube.wait_secret("app-db", "ref-with-creds", has_password(value), "with the value",
                     SYNC_TIMEOUT)
    wait_until("ExternalSecret ref-without-creds/ref-db failed",
               lambda: (es_ready_message(kube, "ref-db", "ref-without-creds") or ("", ""))[0]
               == "False", SYNC_TIMEOUT)
    _, message = es_ready_message(kube, "ref-db", "ref-without-creds")
    assert "ref-without-creds/coffer-credentials" in message, message
    assert kube.secret("app-db", "ref-without-creds") is None
    # With its own credentials Secret it syncs too. The retry backs off, so force a sync the
    # ESO way for stamped ExternalSecrets: the ClusterExternalSecret's force-sync annotation is
    # mirrored onto them.
    kube.apply(credentials_secret("ref-without-creds"))
    stamp = f"{time.time():.6f}"
    kube.kubectl("annotate", CES_GROUP, "ref-db", f"external-secrets.io/force-sync={stamp}",
                 "--overwrite")
    wait_until("force-sync mirrored",
               lambda: (kube.es("ref-db", "ref-without-creds")["metadata"].get("annotations")
                        or {}).get("external-secrets.io/force-sync") == stamp, SYNC_TIMEOUT)
    kube.wait_secret("app-db", "ref-without-creds", has_password(value), "with the value",
                     SYNC_TIMEOUT)


def test_no_secret_value_in_log_or_status(kube, coffer, operator):
    texts = {"operator log": operator.log_text()}
    for item in kube.get_json(CES_GROUP)["items"]:
        texts[f"ClusterExternalSecret {item['metadata']['name']}"] = json.dumps(
            item.get("status") or {})
    for where, text in texts.items():
        for value in coffer.values:
            assert value not in text, f"a secret value appears in the {where}"
