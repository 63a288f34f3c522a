"""coffer operator runs with nothing but the permissions deploy/operator grants.

The base (`kubectl apply -k deploy/operator`) is applied to the real Kubernetes 1.20 control plane
(`cluster` fixture, conftest.py); a token of its ServiceAccount is requested with
`kubectl create token` (the TokenRequest API), and `coffer operator` is run with a kubeconfig
holding only that token, with leader election in coffer-system as the Deployment runs it. It must
sync an ExternalSecret end to end (read stores, ExternalSecrets, Namespaces and credentials;
write Secrets, statuses, Events and its Lease), and stamp a ClusterExternalSecret's ExternalSecret
into the labelled namespace, without a single 403.

The store uses ESO's `fake` provider, so no coffer server is needed.
"""

import http.client
import json
import os
import socket
import subprocess
import tempfile


from conftest import REPO, wait_until
from operator_harness import clean_env, token_kubeconfig

COFFER_BIN = os.environ.get("COFFER_BIN", os.path.join(REPO, "build", "coffer"))
NAMESPACE = "rbac-check"

MANIFESTS = f"""apiVersion: v1
kind: Namespace
metadata:
  name: {NAMESPACE}
  labels:
    team: ml
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: fake
  namespace: {NAMESPACE}
spec:
  provider:
    fake:
      data:
      - key: ml-platform/database
        value: '{{"password":"rbac-check-value"}}'
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: fake-for-team-ml
spec:
  conditions:
  - namespaceSelector:
      matchLabels:
        team: ml
  provider:
    fake:
      data:
      - key: shared
        value: shared-value
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: database
  namespace: {NAMESPACE}
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: fake
  target:
    name: database
  data:
  - secretKey: password
    remoteRef:
      key: ml-platform/database
      property: password
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: shared
  namespace: {NAMESPACE}
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: fake-for-team-ml
    kind: ClusterSecretStore
  data:
  - secretKey: value
    remoteRef:
      key: shared
---
apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata:
  name: stamped
spec:
  namespaceSelectors:
  - matchLabels:
      team: ml
  externalSecretSpec:
    refreshInterval: 1h
    secretStoreRef:
      name: fake-for-team-ml
      kind: ClusterSecretStore
    target:
      name: stamped
    data:
    - secretKey: value
      remoteRef:
        key: shared
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_operator_syncs_with_only_the_service_accounts_permissions(cluster):
    cluster.kubectl("apply", "-k", os.path.join(REPO, "deploy", "operator"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    "crd/externalsecrets.external-secrets.io",
                    "crd/clusterexternalsecrets.external-secrets.io")
    work = tempfile.mkdtemp(prefix="coffer-rbac-")
    kubeconfig = token_kubeconfig(cluster.kubectl, cluster.env["KUBECONFIG"], "coffer-operator",
                                  os.path.join(work, "kubeconfig"))
    # The token really is limited: it cannot read ConfigMaps.
    denied = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "configmaps", "-A"],
                            capture_output=True, text=True)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()

    port = free_port()
    log_path = os.path.join(work, "operator.log")
    env = clean_env()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [COFFER_BIN, "operator", "--kubeconfig", kubeconfig,
             "--metrics-addr", f"127.0.0.1:{port}", "--enable-leader-election",
             "--leader-election-namespace", "coffer-system"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        cluster.apply(MANIFESTS)

        def synced():
            out = cluster.kubectl("get", "secret", "-n", NAMESPACE, "-o", "json").stdout
            items = {i["metadata"]["name"]: i for i in json.loads(out)["items"]}
            return "database" in items and "shared" in items and "stamped" in items and items
        items = wait_until("the three target Secrets", synced, timeout=60)
        assert items["database"]["metadata"]["labels"][
            "reconcile.external-secrets.io/managed"] == "true"

        def ready(name):
            es = cluster.get_json("externalsecret", "-n", NAMESPACE, name)
            conditions = es.get("status", {}).get("conditions", [])
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        wait_until("database Ready", lambda: ready("database"), timeout=30)
        wait_until("shared Ready", lambda: ready("shared"), timeout=30)
        wait_until("stamped Ready", lambda: ready("stamped"), timeout=30)
        stamped = cluster.get_json("externalsecret", "-n", NAMESPACE, "stamped")
        assert stamped["metadata"]["ownerReferences"][0]["kind"] == "ClusterExternalSecret"
        wait_until("ClusterExternalSecret status",
                   lambda: cluster.get_json("clusterexternalsecret", "stamped").get(
                       "status", {}).get("provisionedNamespaces") == [NAMESPACE], timeout=30)

        store = cluster.get_json("secretstore", "-n", NAMESPACE, "fake")
        assert store["status"]["conditions"][0]["reason"] == "Valid"
        lease = cluster.get_json("lease", "-n", "coffer-system", "coffer-operator")
        assert lease["spec"]["holderIdentity"]
        events = cluster.get_json("events", "-n", NAMESPACE)["items"]
        assert any(e["reason"] == "Created" for e in events)
        assert get(port, "/readyz")[0] == 200
        status, metrics = get(port, "/metrics")
        assert status == 200
        assert 'externalsecret_status_condition{name="database",namespace="rbac-check",' \
               'condition="Ready",status="True"} 1' in metrics
    finally:
        proc.terminate()
        rc = proc.wait(30)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        print(log[-5000:])
    assert rc == 0
    # Nothing the operator did was refused.
    assert "Forbidden" not in log and "PermissionDenied" not in log, log
    assert "rbac-check-value" not in log
