"""deploy/operator, the kustomize base of coffer operator, on the test control plane.

The base is rendered with the machine's kubectl (built-in kustomize) and applied with
`kubectl apply -k` to a real Kubernetes 1.20 apiserver (tools/kube/control-plane.sh; the
`cluster` fixture is in conftest.py). There is no kubelet, so the operator's pod never runs: the
tests check the objects, that kube-controller-manager makes the Deployment's ReplicaSet, and the
service account's permissions as the apiserver's RBAC authorizer answers them
(`kubectl auth can-i --as=system:serviceaccount:coffer-system:coffer-operator`).
"""

import os
import tempfile

import pytest
import yaml

from conftest import CRD_DIR, REPO, run, wait_until

BASE = os.path.join(REPO, "deploy", "operator")
NAMESPACE = "coffer-system"
SA = f"system:serviceaccount:{NAMESPACE}:coffer-operator"
ES_GROUP = "external-secrets.io"
ES_KINDS = ["externalsecrets", "secretstores", "clustersecretstores", "clusterexternalsecrets"]
CRD_NAMES = [f"{kind}.{ES_GROUP}" for kind in ES_KINDS + ["pushsecrets"]]

# (kind, name, namespace) of every object in the base.
EXPECTED_OBJECTS = {
    ("Namespace", NAMESPACE, None),
    ("ServiceAccount", "coffer-operator", NAMESPACE),
    ("ClusterRole", "coffer-operator", None),
    ("ClusterRoleBinding", "coffer-operator", None),
    ("Role", "coffer-operator", NAMESPACE),
    ("RoleBinding", "coffer-operator", NAMESPACE),
    ("Deployment", "coffer-operator", NAMESPACE),
    ("Service", "coffer-operator-metrics", NAMESPACE),
} | {("CustomResourceDefinition", name, None) for name in CRD_NAMES}


def rule_set(rules, verbs=None):
    """Rules flattened to (apiGroup, resource, verb, resourceName) tuples ('' = any name)."""
    out = set()
    for rule in rules:
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                for verb in rule["verbs"]:
                    for name in rule.get("resourceNames") or [""]:
                        out.add((group, resource, verb, name))
    return out


# What the operator needs, and nothing else (see deploy/operator/README.md).
EXPECTED_CLUSTER_RULES = (
    {(ES_GROUP, kind, verb, "") for kind in ES_KINDS for verb in ("get", "list", "watch")}
    | {(ES_GROUP, kind + "/status", verb, "") for kind in ES_KINDS
       for verb in ("get", "update", "patch")}
    | {(ES_GROUP, "pushsecrets", verb, "") for verb in ("get", "list", "watch", "update")}
    | {(ES_GROUP, "pushsecrets/status", verb, "") for verb in ("get", "update", "patch")}
    # ClusterExternalSecrets stamp ExternalSecrets (create, JSON patch, delete; never update).
    | {(ES_GROUP, "externalsecrets", verb, "") for verb in ("create", "patch", "delete")}
    | {(ES_GROUP, "clusterexternalsecrets/finalizers", "update", "")}
    | {("", "secrets", verb, "") for verb in ("get", "list", "watch", "create", "update", "patch",
                                              "delete")}
    | {("", "events", verb, "") for verb in ("create", "patch")}
    | {("", "namespaces", verb, "") for verb in ("get", "list", "watch")}
    | {("", "configmaps", "get", "")})
EXPECTED_LEASE_RULES = {("coordination.k8s.io", "leases", "create", ""),
                        ("coordination.k8s.io", "leases", "get", "coffer-operator"),
                        ("coordination.k8s.io", "leases", "update", "coffer-operator")}

# `kubectl auth can-i` arguments the service account must be allowed ...
ALLOWED = [
    *[(verb, f"{kind}.{ES_GROUP}", "-A") for kind in ES_KINDS for verb in ("get", "list", "watch")],
    *[(verb, f"{kind}.{ES_GROUP}", "--subresource=status", "-n", "team-a")
      for kind in ES_KINDS for verb in ("get", "update", "patch")],
    *[(verb, f"pushsecrets.{ES_GROUP}", "-A") for verb in ("get", "list", "watch")],
    ("update", f"pushsecrets.{ES_GROUP}", "-n", "team-a"),
    *[(verb, f"externalsecrets.{ES_GROUP}", "-n", "team-a") for verb in ("create", "patch",
                                                                        "delete")],
    ("update", f"clusterexternalsecrets.{ES_GROUP}", "--subresource=finalizers"),
    *[(verb, f"pushsecrets.{ES_GROUP}", "--subresource=status", "-n", "team-a")
      for verb in ("get", "update", "patch")],
    *[(verb, "secrets", "-n", "team-a") for verb in ("get", "list", "watch", "create", "update",
                                                     "patch", "delete")],
    ("list", "secrets", "-A"),
    ("create", "events", "-n", "team-a"),
    ("patch", "events", "-n", "team-a"),
    ("get", "namespaces"),
    ("list", "namespaces"),
    ("watch", "namespaces"),
    ("get", "configmaps", "-n", "team-a"),
    ("create", "leases.coordination.k8s.io", "-n", NAMESPACE),
    ("get", "leases.coordination.k8s.io/coffer-operator", "-n", NAMESPACE),
    ("update", "leases.coordination.k8s.io/coffer-operator", "-n", NAMESPACE),
]
# ... and a selection of what it must not do.
DENIED = [
    # The spec of external-secrets.io objects is the user's (ExternalSecrets: only those a
    # ClusterExternalSecret stamps are created, patched and deleted).
    *[(verb, f"{kind}.{ES_GROUP}", "-n", "team-a") for kind in ES_KINDS
      for verb in ("create", "update", "patch", "delete")
      if not (kind == "externalsecrets" and verb != "update")],
    ("patch", f"clusterexternalsecrets.{ES_GROUP}", "--subresource=finalizers"),
    ("deletecollection", f"externalsecrets.{ES_GROUP}", "-n", "team-a"),
    # PushSecrets: update is for the finalizer only.
    *[(verb, f"pushsecrets.{ES_GROUP}", "-n", "team-a") for verb in ("create", "patch", "delete")],
    ("delete", f"externalsecrets.{ES_GROUP}", "--subresource=status", "-n", "team-a"),
    ("deletecollection", "secrets", "-n", "team-a"),
    ("list", "events", "-n", "team-a"),
    ("delete", "events", "-n", "team-a"),
    ("create", "events.events.k8s.io", "-n", "team-a"),
    ("create", "namespaces"),
    ("delete", "namespaces"),
    ("update", "namespaces"),
    ("list", "configmaps", "-n", "team-a"),
    ("watch", "configmaps", "-A"),
    ("update", "configmaps", "-n", NAMESPACE),
    ("get", "pods", "-n", NAMESPACE),
    ("create", "pods", "-n", "team-a"),
    ("create", "deployments.apps", "-n", NAMESPACE),
    ("update", "deployments.apps", "-n", NAMESPACE),
    ("list", "serviceaccounts", "-n", NAMESPACE),
    ("create", "serviceaccounts", "--subresource=token", "-n", NAMESPACE),
    ("create", "clusterroles.rbac.authorization.k8s.io"),
    ("create", "rolebindings.rbac.authorization.k8s.io", "-n", NAMESPACE),
    ("update", "customresourcedefinitions.apiextensions.k8s.io"),
    # Leases: only in its own namespace, only create, and get/update of its own Lease.
    ("create", "leases.coordination.k8s.io", "-n", "default"),
    ("create", "leases.coordination.k8s.io", "-n", "team-a"),
    ("get", "leases.coordination.k8s.io/coffer-operator", "-n", "default"),
    ("get", "leases.coordination.k8s.io/kube-controller-manager", "-n", NAMESPACE),
    ("update", "leases.coordination.k8s.io/someone-else", "-n", NAMESPACE),
    ("list", "leases.coordination.k8s.io", "-n", NAMESPACE),
    ("watch", "leases.coordination.k8s.io", "-n", NAMESPACE),
    ("delete", "leases.coordination.k8s.io/coffer-operator", "-n", NAMESPACE),
    ("patch", "leases.coordination.k8s.io/coffer-operator", "-n", NAMESPACE),
]


def kustomize(directory):
    docs = yaml.safe_load_all(run(["kubectl", "kustomize", directory]).stdout)
    return [d for d in docs if d]


def find(docs, kind, name):
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, (kind, name, [(d["kind"], d["metadata"]["name"]) for d in docs])
    return matches[0]


@pytest.fixture(scope="module")
def applied(cluster):
    """The base applied twice to a fresh control plane; the outputs of both applies."""
    first = cluster.kubectl("apply", "-k", BASE)
    second = cluster.kubectl("apply", "-k", BASE)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    *[f"crd/{n}" for n in CRD_NAMES])
    return cluster, first.stdout, second.stdout


# --- the files, without a cluster ---------------------------------------------------------


def test_crds_kustomization_lists_every_crd_and_nothing_else():
    with open(os.path.join(CRD_DIR, "Kustomization"), encoding="utf-8") as f:
        kustomization = yaml.safe_load(f)
    assert kustomization["kind"] == "Kustomization"
    crd_files = sorted(n for n in os.listdir(CRD_DIR) if n.endswith(".yaml"))
    assert sorted(kustomization["resources"]) == crd_files
    # A kustomization.yaml/.yml here would make `kubectl apply -f deploy/crds/` fail.
    assert not {"kustomization.yaml", "kustomization.yml"} & set(os.listdir(CRD_DIR))
    assert sorted(d["metadata"]["name"] for d in kustomize(CRD_DIR)) == sorted(CRD_NAMES)


def test_base_renders_the_expected_objects():
    docs = kustomize(BASE)
    got = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for d in docs}
    assert got == EXPECTED_OBJECTS
    assert len(docs) == len(EXPECTED_OBJECTS)


def test_deployment_spec():
    docs = kustomize(BASE)
    deploy = find(docs, "Deployment", "coffer-operator")
    spec = deploy["spec"]
    assert spec["replicas"] == 1
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "coffer-operator"
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["containers"]
    assert container["image"] == "coffer:latest"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert "command" not in container  # the image's ENTRYPOINT is coffer
    assert container["args"] == ["operator", "--metrics-addr=:8080", "--enable-leader-election"]
    assert container["ports"] == [{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65532
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"] == {"requests": {"cpu": "20m", "memory": "32Mi"},
                                      "limits": {"memory": "128Mi"}}
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    # The Secrets Manager endpoint is an optional, commented example.
    assert "AWS_SECRETSMANAGER_ENDPOINT" not in env
    with open(os.path.join(BASE, "deployment.yaml"), encoding="utf-8") as f:
        assert "# - name: AWS_SECRETSMANAGER_ENDPOINT" in f.read()


def test_metrics_service_selects_the_operator_pod():
    docs = kustomize(BASE)
    service = find(docs, "Service", "coffer-operator-metrics")
    assert service["metadata"]["annotations"] == {"prometheus.io/scrape": "true",
                                                  "prometheus.io/port": "8080",
                                                  "prometheus.io/path": "/metrics"}
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8080,
                                         "targetPort": "metrics", "protocol": "TCP"}]
    pod_labels = find(docs, "Deployment", "coffer-operator")["spec"]["template"]["metadata"][
        "labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_overlay_can_override_the_image_and_namespace():
    with tempfile.TemporaryDirectory(prefix="coffer-overlay-") as overlay:
        with open(os.path.join(overlay, "kustomization.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump({"resources": [os.path.relpath(BASE, overlay)],
                            "namespace": "secrets-ops",
                            "images": [{"name": "coffer", "newName": "registry.example/coffer",
                                        "newTag": "1.2.3"}]}, f)
        docs = kustomize(overlay)
    deploy = find(docs, "Deployment", "coffer-operator")
    assert deploy["metadata"]["namespace"] == "secrets-ops"
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/coffer:1.2.3"
    find(docs, "Namespace", "secrets-ops")
    binding = find(docs, "ClusterRoleBinding", "coffer-operator")
    assert binding["subjects"][0]["namespace"] == "secrets-ops"


# --- on the control plane -----------------------------------------------------------------


def test_apply_creates_everything_and_is_idempotent(applied):
    _, first, second = applied
    for kind, name, _ in EXPECTED_OBJECTS:
        if kind != "CustomResourceDefinition":
            assert f"/{name} created" in first, first
    for name in CRD_NAMES:
        assert f"customresourcedefinition.apiextensions.k8s.io/{name} created" in first, first
    lines = second.strip().splitlines()
    assert len(lines) == len(EXPECTED_OBJECTS), second
    assert all(line.endswith(" unchanged") for line in lines), second


def test_cluster_role_and_role_grant_exactly_what_the_operator_needs(applied):
    cluster, _, _ = applied
    role = cluster.get_json("clusterrole", "coffer-operator")
    assert rule_set(role["rules"]) == EXPECTED_CLUSTER_RULES
    lease_role = cluster.get_json("role", "coffer-operator", "-n", NAMESPACE)
    assert rule_set(lease_role["rules"]) == EXPECTED_LEASE_RULES

    # The service account is bound to those two roles and nothing else.
    subject = {"kind": "ServiceAccount", "name": "coffer-operator", "namespace": NAMESPACE}
    bound = set()
    for binding in (cluster.get_json("clusterrolebindings")["items"]
                    + cluster.get_json("rolebindings", "-A")["items"]):
        if subject in (binding.get("subjects") or []):
            bound.add((binding["kind"], binding["metadata"].get("namespace"),
                       binding["roleRef"]["kind"], binding["roleRef"]["name"]))
    assert bound == {("ClusterRoleBinding", None, "ClusterRole", "coffer-operator"),
                     ("RoleBinding", NAMESPACE, "Role", "coffer-operator")}


def test_service_account_permissions(applied):
    cluster, _, _ = applied

    def can_i(args):
        result = cluster.kubectl("auth", "can-i", f"--as={SA}", *args, check=False)
        answer = result.stdout.strip()
        assert answer in ("yes", "no"), (args, result.stdout, result.stderr)
        return answer == "yes"

    wrong = [("should be allowed", a) for a in ALLOWED if not can_i(a)]
    wrong += [("should be denied", a) for a in DENIED if can_i(a)]
    assert not wrong, "\n".join(f"{why}: {' '.join(args)}" for why, args in wrong)


def test_deployment_gets_a_replicaset(applied):
    cluster, _, _ = applied
    deploy = cluster.get_json("deployment", "coffer-operator", "-n", NAMESPACE)
    assert deploy["spec"]["replicas"] == 1
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "coffer:latest"
    assert container["args"] == ["operator", "--metrics-addr=:8080", "--enable-leader-election"]

    def replicasets():
        items = cluster.get_json("replicasets", "-n", NAMESPACE)["items"]
        return [rs for rs in items
                if any(o["kind"] == "Deployment" and o["name"] == "coffer-operator"
                       and o["uid"] == deploy["metadata"]["uid"]
                       for o in rs["metadata"].get("ownerReferences", []))]

    [rs] = wait_until("the ReplicaSet of deployment coffer-operator", replicasets)
    assert rs["spec"]["replicas"] == 1
    assert rs["spec"]["template"]["spec"]["serviceAccountName"] == "coffer-operator"
    # No kubelet: the pod is created but never runs, so availability is not checked.


def test_metrics_service_exists(applied):
    cluster, _, _ = applied
    service = cluster.get_json("service", "coffer-operator-metrics", "-n", NAMESPACE)
    assert service["spec"]["ports"][0]["port"] == 8080
    assert service["spec"]["ports"][0]["name"] == "metrics"
    assert service["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


def test_plain_apply_of_the_crds_still_works(applied):
    cluster, _, _ = applied
    # deploy/crds/Kustomization has no .yaml extension, so kubectl apply -f skips it.
    result = cluster.kubectl("apply", "-f", CRD_DIR)
    lines = result.stdout.strip().splitlines()
    assert sorted(lines) == sorted(
        f"customresourcedefinition.apiextensions.k8s.io/{name} unchanged" for name in CRD_NAMES)
    assert "Kustomization" not in result.stderr
