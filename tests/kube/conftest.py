"""Shared by the tests in tests/kube: a real Kubernetes 1.20 control plane per test module.

`kube` and `coffer` (module scope) are the end-to-end tests' control plane (operator_harness.py's
ControlPlane, with coffer's CRDs established) and `coffer server`; a module may define its own
`kube` to set the cluster up differently (test_push_secret.py applies deploy/operator).

`cluster` (module scope) builds the binaries if they are not cached yet (`control-plane.sh build`,
about 9 minutes on 2 cores, once per machine), starts etcd, kube-apiserver and
kube-controller-manager on free loopback ports, and stops them after the module. `Cluster.kubectl`
runs the machine's kubectl against it.
"""

import json
import os
import shutil
import tempfile

import pytest

from operator_harness import CRD_DIR, CRD_NAMES, SCRIPT, CofferServer, ControlPlane, run
# Re-exported: the test modules import these from here.
from operator_harness import REPO, wait_until  # noqa: F401


# --- the control plane --------------------------------------------------------------------


class Cluster:
    def __init__(self, directory):
        self.dir = directory
        self.env = dict(os.environ)
        with open(os.path.join(directory, "env"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("export "):
                    key, _, value = line[len("export "):].partition("=")
                    self.env[key] = value

    def kubectl(self, *args, check=True, input_text=None, token=None):
        cmd = ["kubectl", "--kubeconfig", self.env["KUBECONFIG"]]
        if token:
            cmd.append("--token=" + token)
        return run(cmd + list(args), check=check, env=self.env, input_text=input_text)

    def apply(self, manifest_text):
        return self.kubectl("apply", "-f", "-", input_text=manifest_text)

    def get_json(self, *args):
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)


@pytest.fixture(scope="module")
def cluster():
    # Returns at once when the binaries are cached; the first run on a machine builds them
    # (about 9 minutes).
    run(["bash", SCRIPT, "build"], timeout=3600)
    work = tempfile.mkdtemp(prefix="coffer-kube-")
    run(["bash", SCRIPT, "start", work], timeout=600)
    try:
        yield Cluster(work)
    finally:
        run(["bash", SCRIPT, "stop", work], check=False)
        for log in ("etcd.log", "apiserver.log", "controller-manager.log"):
            path = os.path.join(work, log)
            if os.path.exists(path):
                print(f"--- {log} (last lines)")
                with open(path, encoding="utf-8", errors="replace") as f:
                    print("".join(f.readlines()[-5:]))
        shutil.rmtree(work, ignore_errors=True)


# --- the end-to-end tests' fixtures --------------------------------------------------------


@pytest.fixture(scope="module")
def kube():
    cp = ControlPlane()
    try:
        cp.start()
        cp.kubectl("apply", "-f", CRD_DIR)
        cp.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                   *[f"crd/{n}" for n in CRD_NAMES])
        yield cp
    finally:
        cp.stop()
        for log in ("apiserver.log", "controller-manager.log"):
            print(f"--- {log} (last lines)\n{cp.log_tail(log, 5)}")
        cp.cleanup()


@pytest.fixture(scope="module")
def coffer():
    server = CofferServer()
    try:
        server.start()
        yield server
        assert server.stop() in (0, None), f"coffer server exit:\n{server.log_tail()}"
    finally:
        server.cleanup()
