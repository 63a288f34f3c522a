"""The test control plane (tools/kube/control-plane.sh) and coffer's CRDs (deploy/crds/) on it.

One real Kubernetes 1.20 control plane (etcd, kube-apiserver, kube-controller-manager on free
loopback ports) is started for the module, driven with the machine's kubectl, and stopped at the
end. If the binaries are not cached yet, `control-plane.sh build` builds them first (about 9
minutes on 2 cores, once per machine).

The seed guide's ExternalSecret manifests are copied verbatim below (a test checks that each
still appears in shared/seed/secrets-management-guide.md when the guide is reachable) and applied
as written (v1beta1) and with apiVersion external-secrets.io/v1. The guide applies its
SecretStore from infrastructure/kubernetes/secrets-management.yaml, which it does not show, so
the stores below are written after ESO's documented AWS examples, with the names the guide's
ExternalSecrets and IRSA setup use.
"""

import base64
import json
import os
import shutil
import tempfile

import pytest
import yaml

# The control plane fixture `cluster` and these helpers are in conftest.py.
from conftest import CRD_DIR, REPO, SCRIPT, run, wait_until
from seed_manifests import GUIDE_ROTATED_SECRET, GUIDE_SERVICE_CREDENTIALS

GUIDE_CANDIDATES = [
    os.path.join(REPO, "..", "shared", "seed", "secrets-management-guide.md"),
    "/work/shared/seed/secrets-management-guide.md",
]

CRD_NAMES = [
    "externalsecrets.external-secrets.io",
    "secretstores.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "clusterexternalsecrets.external-secrets.io",
]

# The stores the guide's ExternalSecrets reference, in ESO's documented form.
SECRET_STORES = """apiVersion: external-secrets.io/v1beta1
kind: SecretStore
metadata:
  name: aws-secrets-manager
  namespace: ml-platform
spec:
  provider:
    aws:
      service: SecretsManager
      region: us-east-1
      auth:
        jwt:
          serviceAccountRef:
            name: external-secrets-sa
---
apiVersion: external-secrets.io/v1beta1
kind: SecretStore
metadata:
  name: aws-secrets-manager
  namespace: default
spec:
  refreshInterval: 5m
  provider:
    aws:
      service: SecretsManager
      region: us-east-1
      endpoint: https://coffer.coffer-system.svc:8443
      auth:
        secretRef:
          accessKeyIDSecretRef:
            name: coffer-credentials
            key: access-key-id
          secretAccessKeySecretRef:
            name: coffer-credentials
            key: secret-access-key
---
apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: aws-secrets-manager
spec:
  provider:
    aws:
      service: SecretsManager
      region: us-east-1
      role: arn:aws:iam::123456789012:role/external-secrets
      auth:
        secretRef:
          accessKeyIDSecretRef:
            name: awssm-secret
            key: access-key
            namespace: external-secrets
          secretAccessKeySecretRef:
            name: awssm-secret
            key: secret-access-key
            namespace: external-secrets
---
apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: fake
spec:
  refreshInterval: 300
  provider:
    fake:
      data:
      - key: /foo/bar
        value: HELLO1
        version: v1
      - key: /foo/baz
        value: '{"john": "doe"}'
"""

# Today's v1 manifest with most of ESO's ExternalSecret fields, to show nothing is pruned.
FULL_EXTERNAL_SECRET = """apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: everything
  namespace: ml-platform
spec:
  refreshInterval: 1m
  refreshPolicy: Periodic
  secretStoreRef:
    name: aws-secrets-manager
    kind: ClusterSecretStore
  target:
    name: everything-secret
    creationPolicy: Merge
    deletionPolicy: Retain
    immutable: false
    template:
      type: kubernetes.io/basic-auth
      engineVersion: v2
      mergePolicy: Merge
      metadata:
        labels:
          app: mlflow
        annotations:
          team: ml
      data:
        username: "{{ .user }}"
      templateFrom:
      - configMap:
          name: tpl
          items:
          - key: config.yaml
            templateAs: Values
  data:
  - secretKey: password
    remoteRef:
      key: ml-platform/postgres/mlflow
      property: password
      version: uuid/0b6d4c33-0000-4000-8000-000000000001
      decodingStrategy: Auto
      metadataPolicy: None
      conversionStrategy: Default
  dataFrom:
  - extract:
      key: ml-platform/api-keys
      version: AWSPREVIOUS
  - find:
      path: ml-platform/
      name:
        regexp: "^ml-platform/redis/.*"
      tags:
        team: ml
    rewrite:
    - regexp:
        source: "ml-platform/(.*)"
        target: "$1"
"""

CLUSTER_EXTERNAL_SECRET = """apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata:
  name: shared-api-keys
spec:
  externalSecretName: api-keys
  namespaceSelectors:
  - matchLabels:
      team: ml
  refreshTime: 1m
  externalSecretSpec:
    refreshInterval: 15m
    secretStoreRef:
      name: aws-secrets-manager
      kind: ClusterSecretStore
    dataFrom:
    - extract:
        key: ml-platform/api-keys
"""


def find_guide():
    for path in GUIDE_CANDIDATES:
        if os.path.exists(path):
            return path
    return None


def as_v1(manifest_text):
    """The same manifests with apiVersion external-secrets.io/v1 instead of v1beta1."""
    return manifest_text.replace("apiVersion: external-secrets.io/v1beta1",
                                 "apiVersion: external-secrets.io/v1")


def is_subset(want, got):
    """True if every field of `want` is in `got` with the same value (`got` may have more)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and is_subset(v, got[k])
                                             for k, v in want.items())
    if isinstance(want, list):
        return (isinstance(got, list) and len(want) == len(got)
                and all(is_subset(w, g) for w, g in zip(want, got)))
    return want == got


@pytest.fixture(scope="module")
def crds(cluster):
    cluster.apply_result = cluster.kubectl("apply", "-f", CRD_DIR)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    *[f"crd/{n}" for n in CRD_NAMES])
    cluster.kubectl("create", "namespace", "ml-platform")
    return cluster


# --- tests --------------------------------------------------------------------------------


def test_crd_files_are_generated_from_the_script():
    result = run(["/usr/bin/python3", os.path.join(REPO, "tools", "kube", "gen-crds.py"),
                  "--check"], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_guide_manifests_are_verbatim():
    guide = find_guide()
    if guide is None:
        pytest.skip("shared/seed/secrets-management-guide.md not reachable")
    with open(guide, encoding="utf-8") as f:
        text = f.read()
    assert GUIDE_ROTATED_SECRET in text
    assert GUIDE_SERVICE_CREDENTIALS in text


def test_status_reports_a_running_control_plane(cluster):
    result = run(["bash", SCRIPT, "status", cluster.dir])
    assert "apiserver: ready at https://127.0.0.1:" in result.stdout
    assert "controller-manager: running" in result.stdout
    version = json.loads(cluster.kubectl("get", "--raw", "/version").stdout)
    assert version["gitVersion"].startswith("v1.20.")


def test_crds_install_and_are_listed(crds):
    assert "created" in crds.apply_result.stdout or "unchanged" in crds.apply_result.stdout
    listed = crds.kubectl("get", "crd", "-o", "name").stdout.split()
    for name in CRD_NAMES:
        assert f"customresourcedefinition.apiextensions.k8s.io/{name}" in listed
    for name in CRD_NAMES:
        crd = crds.get_json("crd", name)
        versions = {v["name"]: v for v in crd["spec"]["versions"]}
        assert set(versions) == {"v1", "v1beta1"}
        assert versions["v1"]["storage"] and not versions["v1beta1"]["storage"]
        assert versions["v1"]["schema"] == versions["v1beta1"]["schema"]
        assert all(v["subresources"] == {"status": {}} for v in versions.values())
        assert crd["spec"]["names"]["categories"] == ["external-secrets"]
    # PushSecret is served in v1alpha1 only, as in ESO.
    push = crds.get_json("crd", "pushsecrets.external-secrets.io")
    assert [(v["name"], v["storage"], v["subresources"]) for v in push["spec"]["versions"]] == [
        ("v1alpha1", True, {"status": {}})]
    # Applying again changes nothing.
    again = crds.kubectl("apply", "-f", CRD_DIR).stdout
    assert again.count("unchanged") == len(CRD_NAMES) + 1, again


@pytest.mark.parametrize("api_version", ["v1beta1", "v1"])
def test_seed_manifests_apply_and_read_back_in_both_versions(crds, api_version):
    manifests = SECRET_STORES + "---\n" + GUIDE_ROTATED_SECRET + "---\n" + \
        GUIDE_SERVICE_CREDENTIALS
    if api_version == "v1":
        manifests = as_v1(manifests)
    crds.apply(manifests)
    try:
        for doc in yaml.safe_load_all(manifests):
            kind = doc["kind"].lower() + "s"
            name = doc["metadata"]["name"]
            ns = doc["metadata"].get("namespace", "default")
            scope = [] if kind.startswith("cluster") else ["-n", ns]
            for read_version in ("v1beta1", "v1"):
                got = crds.get_json(f"{kind}.{read_version}.external-secrets.io", name, *scope)
                assert got["apiVersion"] == f"external-secrets.io/{read_version}"
                # Every field as written survives (no pruning), whichever version it is read in.
                assert is_subset(doc["spec"], got["spec"]), (doc["spec"], got["spec"])
        es = crds.get_json("externalsecrets.v1beta1.external-secrets.io", "rotated-secret",
                           "-n", "ml-platform")
        assert es["spec"]["refreshInterval"] == "15m"
        assert es["spec"]["target"]["deletionPolicy"] == "Retain"  # ESO's default
        defaulted = crds.get_json("es", "service-credentials")
        assert defaulted["spec"]["refreshInterval"] == "1h0m0s"  # ESO's default
        assert defaulted["spec"]["data"][0]["remoteRef"]["decodingStrategy"] == "None"
    finally:
        crds.kubectl("delete", "--wait=true", "-f", "-", input_text=manifests)


def test_full_v1_manifests_keep_every_field(crds):
    crds.apply(FULL_EXTERNAL_SECRET + "---\n" + CLUSTER_EXTERNAL_SECRET)
    try:
        for text, kind, scope in ((FULL_EXTERNAL_SECRET, "externalsecrets",
                                   ["-n", "ml-platform"]),
                                  (CLUSTER_EXTERNAL_SECRET, "clusterexternalsecrets", [])):
            doc = yaml.safe_load(text)
            for read_version in ("v1", "v1beta1"):
                got = crds.get_json(f"{kind}.{read_version}.external-secrets.io",
                                    doc["metadata"]["name"], *scope)
                assert is_subset(doc["spec"], got["spec"]), (doc["spec"], got["spec"])
    finally:
        crds.kubectl("delete", "-f", "-",
                     input_text=FULL_EXTERNAL_SECRET + "---\n" + CLUSTER_EXTERNAL_SECRET)


def test_schema_rejects_invalid_values(crds):
    # --validate=false: kubectl sends the object as is, so the apiserver's schema answers.
    bad = GUIDE_ROTATED_SECRET.replace("creationPolicy: Owner", "creationPolicy: Sometimes")
    result = crds.kubectl("apply", "--validate=false", "-f", "-", input_text=bad, check=False)
    assert result.returncode != 0
    assert "creationPolicy" in result.stderr and "Unsupported value" in result.stderr
    missing_key = GUIDE_SERVICE_CREDENTIALS.replace(
        "      key: ml-platform/service/credential\n", "      property: password\n")
    result = crds.kubectl("apply", "--validate=false", "-f", "-", input_text=missing_key,
                          check=False)
    assert result.returncode != 0
    assert "remoteRef.key" in result.stderr and "Required value" in result.stderr

    bogus_service = SECRET_STORES.split("---\n")[0].replace("service: SecretsManager",
                                                          "service: Bogus")
    result = crds.kubectl("apply", "--validate=false", "-f", "-", input_text=bogus_service,
                          check=False)
    assert result.returncode != 0
    assert "spec.provider.aws.service" in result.stderr, result.stderr

    two_providers = """apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: two-providers
  namespace: ml-platform
spec:
  provider:
    aws:
      service: SecretsManager
      region: us-east-1
    fake:
      data: []
"""
    result = crds.kubectl("apply", "--validate=false", "-f", "-", input_text=two_providers,
                          check=False)
    assert result.returncode != 0
    assert "should have at most 1 properties" in result.stderr, result.stderr


def test_other_providers_are_kept_as_written(crds):
    # coffer implements aws and fake; an ESO manifest for another provider still applies, and
    # nothing of it is pruned, so the operator can report it as unsupported.
    vault = """apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: vault-backend
  namespace: ml-platform
spec:
  provider:
    vault:
      server: https://vault.example:8200
      path: secret
      version: v2
      auth:
        tokenSecretRef:
          name: vault-token
          key: token
"""
    crds.apply(vault)
    try:
        got = crds.get_json("ss", "vault-backend", "-n", "ml-platform")
        assert got["spec"] == yaml.safe_load(vault)["spec"]
    finally:
        crds.kubectl("delete", "-f", "-", input_text=vault)


def test_short_names_printer_columns_and_status_subresource(crds):
    crds.apply(SECRET_STORES + "---\n" + GUIDE_ROTATED_SECRET + "---\n" + CLUSTER_EXTERNAL_SECRET)
    try:
        ready = {"status": {"conditions": [{
            "type": "Ready", "status": "True", "reason": "SecretSynced",
            "message": "secret synced", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            "refreshTime": "2026-01-01T00:00:00Z"}}
        crds.kubectl("patch", "es", "rotated-secret", "-n", "ml-platform", "--subresource=status",
                     "--type=merge", "-p", json.dumps(ready))
        store_ready = {"status": {"conditions": [{
            "type": "Ready", "status": "True", "reason": "Valid", "message": "store validated",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}], "capabilities": "ReadWrite"}}
        crds.kubectl("patch", "ss", "aws-secrets-manager", "-n", "ml-platform",
                     "--subresource=status", "--type=merge", "-p", json.dumps(store_ready))

        es = crds.kubectl("get", "es", "-n", "ml-platform").stdout.splitlines()
        assert es[0].split() == ["NAME", "STORETYPE", "STORE", "REFRESH", "INTERVAL", "STATUS",
                                 "READY", "LAST", "SYNC"], es
        row = es[1].split()
        assert row[:6] == ["rotated-secret", "SecretStore", "aws-secrets-manager", "15m",
                           "SecretSynced", "True"], es

        ss = crds.kubectl("get", "ss", "-n", "ml-platform").stdout.splitlines()
        assert ss[0].split() == ["NAME", "AGE", "STATUS", "CAPABILITIES", "READY"], ss
        row = ss[1].split()
        assert row[0] == "aws-secrets-manager" and row[2:] == ["Valid", "ReadWrite", "True"], ss

        css = crds.kubectl("get", "css").stdout.splitlines()
        assert css[0].split() == ["NAME", "AGE", "STATUS", "CAPABILITIES", "READY"], css
        assert sorted(line.split()[0] for line in css[1:]) == ["aws-secrets-manager", "fake"]

        ces = crds.kubectl("get", "ces").stdout.splitlines()
        assert ces[0].split() == ["NAME", "STORE", "REFRESH", "INTERVAL", "READY"], ces
        assert ces[1].split()[:3] == ["shared-api-keys", "aws-secrets-manager", "1m"], ces

        # The status subresource: a status written through the main resource is ignored.
        crds.kubectl("patch", "es", "rotated-secret", "-n", "ml-platform", "--type=merge", "-p",
                     json.dumps({"status": {"syncedResourceVersion": "1-abc"}}))
        got = crds.get_json("es", "rotated-secret", "-n", "ml-platform")
        assert "syncedResourceVersion" not in got["status"]
        assert got["status"]["conditions"][0]["reason"] == "SecretSynced"

        # The category lists all of them.
        every = crds.kubectl("get", "external-secrets", "-A", "-o", "name").stdout.split()
        assert "externalsecret.external-secrets.io/rotated-secret" in every
        assert "clustersecretstore.external-secrets.io/fake" in every
    finally:
        crds.kubectl("delete", "-f", "-", input_text=SECRET_STORES + "---\n" +
                     GUIDE_ROTATED_SECRET + "---\n" + CLUSTER_EXTERNAL_SECRET)


def test_controller_manager_creates_replicasets_and_collects_garbage(cluster):
    cluster.kubectl("create", "deployment", "web", "--image=nginx:1.25", "-n", "default")
    rs = wait_until("a ReplicaSet of deployment web", lambda: cluster.get_json(
        "replicasets", "-n", "default", "-l", "app=web")["items"])
    owner = rs[0]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Deployment" and owner["name"] == "web"
    # The ReplicaSet controller creates the pod (no kubelet runs it).
    wait_until("a pod of deployment web", lambda: cluster.get_json(
        "pods", "-n", "default", "-l", "app=web")["items"])
    cluster.kubectl("delete", "deployment", "web", "-n", "default", "--wait=true")
    wait_until("garbage collection of the ReplicaSet", lambda: not cluster.get_json(
        "replicasets", "-n", "default", "-l", "app=web")["items"])


def test_rbac_is_enforced_for_service_account_tokens(cluster):
    cluster.kubectl("create", "serviceaccount", "nobody", "-n", "default")

    def token_secret():
        for s in cluster.get_json("secrets", "-n", "default")["items"]:
            if (s["type"] == "kubernetes.io/service-account-token"
                    and s["metadata"]["annotations"].get("kubernetes.io/service-account.name")
                    == "nobody" and "token" in s.get("data", {})):
                return s
        return None

    secret = wait_until("the token controller's Secret for nobody", token_secret)
    token = base64.b64decode(secret["data"]["token"]).decode()

    denied = cluster.kubectl("get", "secrets", "-n", "default", token=token, check=False)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr, denied.stderr
    assert "system:serviceaccount:default:nobody" in denied.stderr
    assert "cannot list resource \"secrets\"" in denied.stderr

    # The same token works once RBAC grants the right, so the 403 came from authorization.
    cluster.kubectl("create", "role", "read-secrets", "--verb=list", "--resource=secrets",
                    "-n", "default")
    cluster.kubectl("create", "rolebinding", "nobody-reads", "--role=read-secrets",
                    "--serviceaccount=default:nobody", "-n", "default")
    wait_until("the RoleBinding to take effect", lambda: cluster.kubectl(
        "get", "secrets", "-n", "default", token=token, check=False).returncode == 0)
    still_denied = cluster.kubectl("get", "configmaps", "-n", "default", token=token,
                                   check=False)
    assert "Forbidden" in still_denied.stderr

    # A made-up token is not authenticated at all.
    unknown = cluster.kubectl("get", "secrets", token="not-a-token", check=False)
    assert unknown.returncode != 0 and "Unauthorized" in unknown.stderr


def test_stop_ends_every_process():
    # Its own control plane, so stopping it does not disturb the module's.
    work = tempfile.mkdtemp(prefix="coffer-kube-stop-")
    run(["bash", SCRIPT, "start", work], timeout=600)
    pids = []
    for name in ("etcd", "apiserver", "controller-manager"):
        with open(os.path.join(work, name + ".pid"), encoding="utf-8") as f:
            pids.append(int(f.read()))
    run(["bash", SCRIPT, "stop", work])
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    status = run(["bash", SCRIPT, "status", work], check=False)
    assert status.returncode != 0 and "apiserver: stopped" in status.stdout
    shutil.rmtree(work, ignore_errors=True)
