"""deploy/reloader (coffer reloader as its own Deployment) and deploy/operator-with-reloader
(`coffer operator --reloader`) on the test control plane.

Both kustomizations are applied with `kubectl apply -k` to a real Kubernetes 1.20 apiserver (the
`cluster` fixture, conftest.py). The tests check the objects, that the RBAC is exactly what the
reloader needs (`kubectl auth can-i` as the service accounts), and finally run `coffer reloader`
with nothing but a token of deploy/reloader's ServiceAccount (`kubectl create token`), leader
election on as the Deployment runs it: it must create its HMAC key Secret and Lease and roll a
Deployment whose Secret changes, without a single 403.
"""

import json
import os
import subprocess
import tempfile

import yaml

from conftest import REPO, wait_until
from operator_harness import clean_env, token_kubeconfig
from test_operator_rbac import free_port, get

RELOADER = os.path.join(REPO, "deploy", "reloader")
EMBEDDED = os.path.join(REPO, "deploy", "operator-with-reloader")
NAMESPACE = "coffer-system"
COFFER_BIN = os.environ.get("COFFER_BIN", os.path.join(REPO, "build", "coffer"))
SA = f"system:serviceaccount:{NAMESPACE}:coffer-reloader"
OPERATOR_SA = f"system:serviceaccount:{NAMESPACE}:coffer-operator"

EXPECTED_OBJECTS = {
    ("Namespace", NAMESPACE, None),
    ("ServiceAccount", "coffer-reloader", NAMESPACE),
    ("ClusterRole", "coffer-reloader", None),
    ("ClusterRoleBinding", "coffer-reloader", None),
    ("Role", "coffer-reloader", NAMESPACE),
    ("RoleBinding", "coffer-reloader", NAMESPACE),
    ("Deployment", "coffer-reloader", NAMESPACE),
    ("Service", "coffer-reloader-metrics", NAMESPACE),
}

CLUSTER_RULES = {
    ("", "secrets", "get"), ("", "secrets", "list"), ("", "secrets", "watch"),
    ("", "configmaps", "get"), ("", "configmaps", "list"), ("", "configmaps", "watch"),
    ("", "namespaces", "get"), ("", "namespaces", "list"), ("", "namespaces", "watch"),
    ("", "events", "create"), ("", "events", "patch"),
} | {("apps", r, v) for r in ("deployments", "statefulsets", "daemonsets")
     for v in ("get", "list", "watch", "patch")}

ROLE_RULES = {
    ("coordination.k8s.io", "leases", "create", ""),
    ("coordination.k8s.io", "leases", "get", "coffer-reloader"),
    ("coordination.k8s.io", "leases", "update", "coffer-reloader"),
    ("", "secrets", "create", ""),
}


def render(path):
    out = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True,
                         check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def find(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def flat(rules, with_names=False):
    out = set()
    for r in rules:
        for group in r.get("apiGroups", []):
            for resource in r["resources"]:
                for verb in r["verbs"]:
                    if with_names:
                        for name in r.get("resourceNames", [""]):
                            out.add((group, resource, verb, name))
                    else:
                        assert not r.get("resourceNames"), r
                        out.add((group, resource, verb))
    return out


def can_i(cluster, who, *args):
    r = cluster.kubectl("auth", "can-i", f"--as={who}", *args, check=False)
    return r.stdout.strip() == "yes"


def test_objects_and_exact_rbac():
    docs = render(RELOADER)
    assert {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
            for d in docs} == EXPECTED_OBJECTS
    assert flat(find(docs, "ClusterRole", "coffer-reloader")["rules"]) == CLUSTER_RULES
    assert flat(find(docs, "Role", "coffer-reloader")["rules"], with_names=True) == ROLE_RULES
    deployment = find(docs, "Deployment", "coffer-reloader")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:1] == ["reloader"] and "--enable-leader-election" in container["args"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "coffer-reloader"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service = find(docs, "Service", "coffer-reloader-metrics")
    assert service["spec"]["selector"].items() <= \
        deployment["spec"]["template"]["metadata"]["labels"].items()
    # The embedded variant: the operator with --reloader and the extra rules for its account.
    embedded = render(EMBEDDED)
    operator = find(embedded, "Deployment", "coffer-operator")
    assert "--reloader" in operator["spec"]["template"]["spec"]["containers"][0]["args"]
    binding = find(embedded, "ClusterRoleBinding", "coffer-operator-reloader")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "coffer-operator",
                                    "namespace": NAMESPACE}]


def test_apply_twice_and_the_permissions_the_apiserver_grants(cluster):
    first = cluster.kubectl("apply", "-k", RELOADER).stdout
    assert "created" in first
    second = cluster.kubectl("apply", "-k", RELOADER).stdout
    assert "created" not in second and "configured" not in second, second
    wait_until("the reloader Deployment's ReplicaSet",
               lambda: cluster.get_json("replicasets", "-n", NAMESPACE, "-l",
                                        "app.kubernetes.io/name=coffer-reloader")["items"],
               timeout=60)
    assert can_i(cluster, SA, "patch", "deployments", "-n", "default")
    assert can_i(cluster, SA, "watch", "secrets", "-A")
    assert can_i(cluster, SA, "create", "secrets", "-n", NAMESPACE)
    assert can_i(cluster, SA, "update", "leases/coffer-reloader", "-n", NAMESPACE)
    # The HMAC key Secret: created by the first replica, then read. Reading any Secret by name is
    # the ClusterRole's get (the informers need it everywhere), so the Role adds no get of its own;
    # what stays restricted is writing: no update, patch or delete of the key or of any Secret.
    assert can_i(cluster, SA, "get", "secrets/coffer-reloader-hmac", "-n", NAMESPACE)
    for verb in ("update", "patch", "delete"):
        assert not can_i(cluster, SA, verb, "secrets/coffer-reloader-hmac", "-n", NAMESPACE), verb
    # The rules the apiserver stored are exactly the manifests'.
    assert flat(cluster.get_json("clusterrole", "coffer-reloader")["rules"]) == CLUSTER_RULES
    assert flat(cluster.get_json("role", "coffer-reloader", "-n", NAMESPACE)["rules"],
                with_names=True) == ROLE_RULES
    for verb, what, ns in (("update", "deployments", "default"), ("delete", "deployments", "default"),
                           ("create", "deployments", "default"), ("patch", "secrets", "default"),
                           ("create", "secrets", "default"), ("update", "secrets", NAMESPACE),
                           ("update", "leases/coffer-operator", NAMESPACE),
                           ("patch", "replicasets", "default"), ("delete", "pods", "default")):
        assert not can_i(cluster, SA, verb, what, "-n", ns), f"{verb} {what} -n {ns}"
    # The embedded variant gives coffer operator's account what the reloader needs.
    cluster.kubectl("apply", "-k", EMBEDDED)
    assert can_i(cluster, OPERATOR_SA, "patch", "statefulsets", "-n", "default")
    assert can_i(cluster, OPERATOR_SA, "watch", "configmaps", "-A")
    assert not can_i(cluster, OPERATOR_SA, "delete", "deployments", "-n", "default")



def test_reloader_runs_with_only_its_service_accounts_permissions(cluster):
    cluster.kubectl("apply", "-k", RELOADER)
    work = tempfile.mkdtemp(prefix="coffer-reloader-rbac-")
    kubeconfig = token_kubeconfig(cluster.kubectl, cluster.env["KUBECONFIG"], "coffer-reloader",
                                  os.path.join(work, "kubeconfig"))
    ns = "reloader-rbac"
    cluster.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": ns}}))
    cluster.apply(json.dumps({"apiVersion": "v1", "kind": "Secret",
                              "metadata": {"name": "app-secret", "namespace": ns},
                              "stringData": {"password": "rbac-first"}}))
    cluster.apply(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app", "namespace": ns,
                     "annotations": {"reloader.stakater.com/auto": "true"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "app"}},
                 "template": {"metadata": {"labels": {"app": "app"}},
                              "spec": {"containers": [{
                                  "name": "app", "image": "registry.invalid/app:1",
                                  "envFrom": [{"secretRef": {"name": "app-secret"}}]}]}}}}))

    def replica_sets():
        return len(cluster.get_json("replicasets", "-n", ns, "-l", "app=app")["items"])

    port = free_port()
    log_path = os.path.join(work, "reloader.log")
    env = clean_env()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [COFFER_BIN, "reloader", "--kubeconfig", kubeconfig,
             "--metrics-addr", f"127.0.0.1:{port}", "--enable-leader-election",
             "--leader-election-namespace", NAMESPACE, "--reload-debounce-ms", "500"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def ready():
            assert proc.poll() is None, "coffer reloader exited"
            try:
                return get(port, "/readyz")[0] == 200
            except OSError:
                return False
        wait_until("/readyz", ready, timeout=30)
        wait_until("the record on the Deployment", lambda: "reloader.coffer.dev/hashes" in (
            cluster.get_json("deployment", "-n", ns, "app")["metadata"].get("annotations", {})),
            timeout=30)
        assert replica_sets() == 1
        cluster.kubectl("patch", "secret", "app-secret", "-n", ns, "--type", "merge", "-p",
                        json.dumps({"stringData": {"password": "rbac-second"}}))
        wait_until("a rollout", lambda: replica_sets() == 2, timeout=30)
        key = cluster.get_json("secret", "-n", NAMESPACE, "coffer-reloader-hmac")
        assert len(key["data"]["key"]) >= 40  # 32 random bytes, base64
        lease = cluster.get_json("lease", "-n", NAMESPACE, "coffer-reloader")
        assert lease["spec"]["holderIdentity"]
    finally:
        proc.terminate()
        rc = proc.wait(30)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        print(log[-5000:])
    assert rc == 0
    assert "Forbidden" not in log and "forbidden" not in log, log
    assert "rbac-first" not in log and "rbac-second" not in log
