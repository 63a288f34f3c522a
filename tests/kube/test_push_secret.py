"""PushSecret (external-secrets.io/v1alpha1) end to end: the real Kubernetes 1.20 control plane, a
coffer server and `coffer operator` (tests/kube/operator_harness.py). A Kubernetes Secret is pushed
to coffer; the remote secrets are checked with boto3 against the server.

The operator runs with nothing but a token of deploy/operator's ServiceAccount (the base is applied
with `kubectl apply -k`; no kubelet, so its Deployment never runs): every test is also a check that
the RBAC rules are enough (finalizer updates, status patches, Events, source Secret watches), and
the log must show no 403.

Nothing asserts on a fixed sleep: `wait_until` polls with a deadline, and "nothing was written" is
shown by a reconcile that provably happened (status.syncedResourceVersion moved after an annotation
change) without a new version.
"""

import json
import os
import shutil
import tempfile

import pytest

from operator_harness import (CRD_NAMES, REPO, ControlPlane, Operator, condition,
                              credentials_secret, random_value, secret_store, token_kubeconfig,
                              wait_until)

NS = "push"
STORE = "coffer"
PUSH_CRD = "pushsecrets.external-secrets.io"
MANAGED_BY = {"Key": "managed-by", "Value": "external-secrets"}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kube():
    cp = ControlPlane()
    try:
        cp.start()
        cp.kubectl("apply", "-k", os.path.join(REPO, "deploy", "operator"))
        cp.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                   *[f"crd/{n}" for n in CRD_NAMES + [PUSH_CRD]])
        yield cp
    finally:
        cp.stop()
        cp.cleanup()



@pytest.fixture(scope="module")
def operator(kube, coffer):
    work = tempfile.mkdtemp(prefix="coffer-kube-e2e-push-")
    kubeconfig = token_kubeconfig(kube.kubectl, kube.kubeconfig, "coffer-operator",
                                  os.path.join(work, "sa-kubeconfig"))
    op = Operator(kubeconfig, coffer.endpoint, work, label="push-operator")
    try:
        op.start()
        kube.create_namespace(NS)
        kube.apply(credentials_secret(NS))
        kube.apply(secret_store(NS, STORE, endpoint=coffer.endpoint))

        def store_ready():
            store = kube.store(STORE, NS)
            c = condition(store) if store else None
            return c and c.get("status") == "True"
        wait_until("the SecretStore is Ready", store_ready, 60)
        yield op
        rc = op.stop()
        assert rc == 0, f"coffer operator exited with {rc} on SIGTERM:\n{op.log_tail()}"
        # No value ever reached the operator's log.
        log = op.log_text()
        leaked = [v for v in coffer.values if v in log]
        assert not leaked, "secret values in the operator log"
        # Nothing the operator did was refused by RBAC.
        assert "Forbidden" not in log and "PermissionDenied" not in log, op.log_tail()
    finally:
        op.kill()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(autouse=True)
def operator_log(operator):
    start = operator.log_size()
    yield
    lines = operator.log_text()[start:].splitlines()
    print(f"--- coffer operator log during this test ({len(lines)} lines, last 100):")
    print("\n".join(lines[-100:]))


# --- helpers ------------------------------------------------------------------------------------


def apply_secret(kube, coffer, name, data):
    for v in data.values():
        coffer.remember(v)
    kube.apply(json.dumps({"apiVersion": "v1", "kind": "Secret",
                           "metadata": {"name": name, "namespace": NS},
                           "type": "Opaque", "stringData": data}))


def push_secret(name, source, data, update_policy="Replace", deletion_policy="None",
                refresh="1h"):
    """data: [(secretKey or None, remoteKey, property or None)]."""
    items = []
    for secret_key, remote_key, prop in data:
        remote = {"remoteKey": remote_key}
        if prop:
            remote["property"] = prop
        match = {"remoteRef": remote}
        if secret_key:
            match["secretKey"] = secret_key
        items.append({"match": match})
    return json.dumps({
        "apiVersion": "external-secrets.io/v1alpha1", "kind": "PushSecret",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"refreshInterval": refresh, "updatePolicy": update_policy,
                 "deletionPolicy": deletion_policy,
                 "secretStoreRefs": [{"name": STORE, "kind": "SecretStore"}],
                 "selector": {"secret": {"name": source}},
                 "data": items},
    })


def get_push(kube, name):
    return kube.get_or_none("pushsecrets.external-secrets.io", name, NS)


def wait_push(kube, name, status="True", reason="Synced", timeout=60):
    def check():
        obj = get_push(kube, name)
        c = condition(obj) if obj else None
        return obj if c and (c.get("status"), c.get("reason")) == (status, reason) else None
    try:
        return wait_until(f"PushSecret {name} Ready={status} {reason}", check, timeout)
    except AssertionError:
        raise AssertionError(f"PushSecret {name}: {json.dumps(get_push(kube, name), indent=1)}")


def remote_value(coffer, name):
    """AWSCURRENT's value as text (SecretBinary, ESO's default format, or SecretString)."""
    r = coffer.client().get_secret_value(SecretId=name)
    if "SecretBinary" in r:
        return r["SecretBinary"].decode("utf-8")
    return r["SecretString"]


def version_count(coffer, name):
    return len(coffer.client().list_secret_version_ids(SecretId=name)["Versions"])


def describe(coffer, name):
    """DescribeSecret, or None when the secret does not exist."""
    client = coffer.client()
    try:
        return client.describe_secret(SecretId=name)
    except client.exceptions.ResourceNotFoundException:
        return None


def tag_managed(coffer, name):
    coffer.client().tag_resource(SecretId=name, Tags=[MANAGED_BY])


def resync(kube, name):
    """Makes the operator reconcile `name` now and waits until it did: an annotation change moves
    status.syncedResourceVersion (generation + hash of labels and annotations)."""
    before = get_push(kube, name)["status"]["syncedResourceVersion"]
    kube.kubectl("annotate", "pushsecrets.external-secrets.io", name, "-n", NS,
                 f"resync={random_value('r')}", "--overwrite")
    wait_until(f"PushSecret {name} reconciled again",
               lambda: get_push(kube, name)["status"].get("syncedResourceVersion") != before, 60)


def push_events(kube, name):
    return kube.events(NS, name, kind="PushSecret")


# --- tests --------------------------------------------------------------------------------------


def test_crd_is_v1alpha1_with_status_subresource(kube):
    crd = kube.get_json(f"crd/{PUSH_CRD}")
    versions = crd["spec"]["versions"]
    assert [v["name"] for v in versions] == ["v1alpha1"]
    assert versions[0]["storage"] and versions[0]["subresources"] == {"status": {}}
    assert crd["spec"]["names"]["shortNames"] == ["ps"]


def test_push_creates_tagged_remote_secret_and_updates_it_on_change(kube, coffer):
    first, second = random_value("first"), random_value("second")
    apply_secret(kube, coffer, "db", {"password": first})
    kube.apply(push_secret("db", "db", [("password", "push/db", None)]))
    obj = wait_push(kube, "db")

    assert remote_value(coffer, "push/db") == first
    assert MANAGED_BY in describe(coffer, "push/db")["Tags"]
    assert version_count(coffer, "push/db") == 1
    status = obj["status"]
    assert status["syncedPushSecrets"]["SecretStore/coffer"]["push/db"]["match"] == {
        "secretKey": "password", "remoteRef": {"remoteKey": "push/db"}}
    assert status["refreshTime"] and status["syncedResourceVersion"].startswith("1-")
    assert condition(obj)["message"] == "PushSecret synced successfully"
    assert "finalizers" not in obj["metadata"]  # deletionPolicy None
    assert "Synced" in [e["reason"] for e in push_events(kube, "db")]

    # An unchanged re-sync writes nothing.
    resync(kube, "db")
    assert version_count(coffer, "push/db") == 1

    # The source Secret changes: one new version with the new value.
    apply_secret(kube, coffer, "db", {"password": second})
    wait_until("the new value pushed", lambda: remote_value(coffer, "push/db") == second, 60)
    assert version_count(coffer, "push/db") == 2
    resync(kube, "db")
    assert version_count(coffer, "push/db") == 2

    # No value in the PushSecret or its events.
    text = json.dumps(get_push(kube, "db")) + json.dumps(push_events(kube, "db"))
    assert first not in text and second not in text


def test_property_merges_into_the_existing_json_document(kube, coffer):
    password = random_value("pw")
    coffer.create("push/doc", json.dumps({"keep": "me", "password": "old"}))
    tag_managed(coffer, "push/doc")
    apply_secret(kube, coffer, "doc-src", {"password": password, "user": "app"})
    kube.apply(push_secret("doc", "doc-src", [("password", "push/doc", "password"),
                                              ("user", "push/doc", "login.user")]))
    wait_push(kube, "doc")
    assert json.loads(remote_value(coffer, "push/doc")) == {
        "keep": "me", "password": password, "login": {"user": "app"}}
    assert version_count(coffer, "push/doc") == 2  # both properties in one write

    # A value that is not JSON is not overwritten by a property push.
    coffer.create("push/plain", "not-json")
    tag_managed(coffer, "push/plain")
    kube.apply(push_secret("plain", "doc-src", [("password", "push/plain", "password")]))
    obj = wait_push(kube, "plain", "False", "Errored")
    assert "not a JSON object" in condition(obj)["message"]
    assert remote_value(coffer, "push/plain") == "not-json"


def test_whole_secret_as_json_without_secret_key(kube, coffer):
    a = random_value("a")
    apply_secret(kube, coffer, "whole-src", {"a": a, "b": "bee"})
    kube.apply(push_secret("whole", "whole-src", [(None, "push/whole", None)]))
    wait_push(kube, "whole")
    assert json.loads(remote_value(coffer, "push/whole")) == {"a": a, "b": "bee"}


def test_if_not_exists_leaves_an_existing_remote_secret_alone(kube, coffer):
    coffer.create("push/existing", "original")
    apply_secret(kube, coffer, "once-src", {"k": random_value("once")})
    kube.apply(push_secret("once", "once-src", [("k", "push/existing", None),
                                                ("k", "push/created-once", None)],
                           update_policy="IfNotExists"))
    wait_push(kube, "once")
    assert remote_value(coffer, "push/existing") == "original"
    assert version_count(coffer, "push/existing") == 1
    assert MANAGED_BY in describe(coffer, "push/created-once")["Tags"]
    # Later changes of the source are not pushed over the existing secrets.
    apply_secret(kube, coffer, "once-src", {"k": random_value("later")})
    resync(kube, "once")
    assert version_count(coffer, "push/created-once") == 1


def test_remote_secret_without_the_managed_by_tag_is_refused(kube, coffer):
    value = random_value("mine")
    coffer.create("push/foreign", "theirs")
    apply_secret(kube, coffer, "foreign-src", {"k": value})
    kube.apply(push_secret("foreign", "foreign-src", [("k", "push/foreign", None)]))
    obj = wait_push(kube, "foreign", "False", "Errored")
    message = condition(obj)["message"]
    assert "secret not managed by external-secrets" in message
    assert "push/foreign" in message
    assert value not in message and "theirs" not in message
    assert remote_value(coffer, "push/foreign") == "theirs"
    assert version_count(coffer, "push/foreign") == 1
    wait_until("a Warning Errored event",
               lambda: any(e["type"] == "Warning" and e["reason"] == "Errored"
                           for e in push_events(kube, "foreign")), 30)


def test_deletion_policy_delete_deletes_the_remote_secret(kube, coffer):
    apply_secret(kube, coffer, "del-src",
                 {"a": random_value("a"), "b": random_value("b"), "c": random_value("c")})
    kube.apply(push_secret("del", "del-src", [("a", "push/del-a", None),
                                              ("b", "push/del-b", None),
                                              ("c", "push/del-c", None)],
                           deletion_policy="Delete"))
    obj = wait_push(kube, "del")
    assert obj["metadata"]["finalizers"] == ["pushsecret.externalsecrets.io/finalizer"]
    assert describe(coffer, "push/del-a") and describe(coffer, "push/del-b")

    def gone(name):
        d = describe(coffer, name)
        return d is None or "DeletedDate" in d

    # An entry dropped from the spec: its remote secret is deleted.
    kube.apply(push_secret("del", "del-src", [("a", "push/del-a", None),
                                              ("c", "push/del-c", None)],
                           deletion_policy="Delete"))
    wait_until("push/del-b deleted", lambda: gone("push/del-b"), 60)
    assert not gone("push/del-a")
    wait_until("del-b dropped from the status",
               lambda: sorted(get_push(kube, "del")["status"]["syncedPushSecrets"]
                              ["SecretStore/coffer"]) == ["push/del-a", "push/del-c"], 30)

    # Someone takes push/del-c over (removes the tag): it is not deleted with the PushSecret.
    coffer.client().untag_resource(SecretId="push/del-c", TagKeys=["managed-by"])
    kube.kubectl("delete", "pushsecrets.external-secrets.io", "del", "-n", NS, "--wait=false")
    wait_until("the PushSecret is gone", lambda: get_push(kube, "del") is None, 60)
    assert gone("push/del-a")
    assert not gone("push/del-c")


def test_deletion_policy_none_leaves_the_remote_secret(kube, coffer):
    apply_secret(kube, coffer, "keep-src", {"a": random_value("a")})
    kube.apply(push_secret("keep", "keep-src", [("a", "push/keep", None)]))
    wait_push(kube, "keep")
    kube.kubectl("delete", "pushsecrets.external-secrets.io", "keep", "-n", NS)
    wait_until("the PushSecret is gone", lambda: get_push(kube, "keep") is None, 60)
    d = describe(coffer, "push/keep")
    assert d is not None and "DeletedDate" not in d


def test_missing_source_secret_is_reported(kube, coffer):
    kube.apply(push_secret("nosrc", "does-not-exist", [("a", "push/nosrc", None)]))
    obj = wait_push(kube, "nosrc", "False", "Errored")
    assert "could not get source secret" in condition(obj)["message"]
    assert describe(coffer, "push/nosrc") is None
    # It appears: pushed without waiting for the next refresh.
    apply_secret(kube, coffer, "does-not-exist", {"a": random_value("late")})
    wait_push(kube, "nosrc", timeout=90)
    assert describe(coffer, "push/nosrc") is not None
