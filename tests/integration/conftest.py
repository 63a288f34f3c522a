"""Shared fixtures for the integration tests: a real `coffer server` process and the real clients.

The binary comes from $COFFER_BIN (CTest sets it to the built target); the default is
<repo>/build/coffer. Every server gets its own data dir, its own port (port 0 + --port-file)
and fixed root credentials, and is stopped with SIGTERM on teardown, which must exit 0.

The aws CLI is always Debian's v2 at /usr/bin/aws (the `aws` on PATH may be another one), called
with --endpoint-url because CLI 2.9.19 ignores AWS_ENDPOINT_URL, and with HOME pointing to an
empty temp dir so that no user config or credentials leak in.
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

AWS_CLI = "/usr/bin/aws"
MODERN_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3"
DEFAULT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "coffer")

ROOT_ACCESS_KEY_ID = "AKIAITESTCOFFER00001"
ROOT_SECRET_ACCESS_KEY = "itest+Secret/Key0123456789abcdefGHIJKLMN"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"

# The aws CLI prints service errors as:
#   An error occurred (Code) when calling the Op operation: Message
CLI_ERROR_RE = re.compile(
    r"An error occurred \((?P<code>[A-Za-z0-9_.#:]+)\) when calling the (?P<op>\w+) operation"
    r"(?: \(reached max retries: \d+\))?: (?P<message>.*)",
    re.S,
)


def coffer_bin():
    return os.environ.get("COFFER_BIN", DEFAULT_BIN)


def unique_name(prefix="itest"):
    """A secret name nobody else in this run uses."""
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


def clean_env(extra=None):
    """The process env without any AWS_* / COFFER_* settings of the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("COFFER_")}
    if extra:
        env.update(extra)
    return env


class CofferServer:
    """One `coffer server` process."""

    def __init__(self, data_dir=None, dev=True, region=None, account_id=None,
                 allowed_regions=None, extra_args=(), root_key=(ROOT_ACCESS_KEY_ID,
                                                                  ROOT_SECRET_ACCESS_KEY),
                 extra_env=None, preexec_fn=None):
        self.work = tempfile.mkdtemp(prefix="coffer-itest-")
        self.data_dir = data_dir or os.path.join(self.work, "data")
        if data_dir is None:
            os.makedirs(self.data_dir, mode=0o700)
        self.dev = dev
        self.region = region or DEFAULT_REGION
        self.account_id = account_id or DEFAULT_ACCOUNT
        self.access_key_id, self.secret_access_key = root_key
        self.args = ["server", "--listen", "127.0.0.1:0"]
        if dev:
            self.args.append("--dev")
        self.args += ["--data-dir", self.data_dir]
        if region:
            self.args += ["--region", region]
        if account_id:
            self.args += ["--account-id", account_id]
        if allowed_regions:
            self.args += ["--allowed-regions", ",".join(allowed_regions)]
        self.args += list(extra_args)
        # Extra COFFER_* variables (e.g. the test-only COFFER_TESTING_CLOCK_OFFSET_SECONDS) and a
        # function run in the child before exec (e.g. to set resource limits). Both may be
        # changed between stop() and start().
        self.extra_env = dict(extra_env or {})
        self.preexec_fn = preexec_fn
        self.proc = None
        self.port = None
        self.starts = 0

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_paths(self):
        return sorted(os.path.join(self.work, f) for f in os.listdir(self.work)
                      if f.startswith("server-") and f.endswith(".log"))

    def env(self):
        env = clean_env({
            "COFFER_ROOT_ACCESS_KEY_ID": self.access_key_id,
            "COFFER_ROOT_SECRET_ACCESS_KEY": self.secret_access_key,
        })
        env.update(self.extra_env)
        return env

    def start(self, timeout=30):
        assert self.proc is None, "server already running"
        self.starts += 1
        port_file = os.path.join(self.work, f"port-{self.starts}")
        log = open(os.path.join(self.work, f"server-{self.starts}.log"), "wb")
        self.proc = subprocess.Popen([coffer_bin()] + self.args + ["--port-file", port_file],
                                     stdout=log, stderr=subprocess.STDOUT, env=self.env(),
                                     stdin=subprocess.DEVNULL, preexec_fn=self.preexec_fn)
        log.close()
        deadline = time.time() + timeout
        self.port = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                raise AssertionError(f"coffer server exited with {rc} during start-up:\n"
                                     f"{self.log_tail()}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
            except (FileNotFoundError, ValueError):
                pass
            if self.port and self.healthz() == 200:
                return self
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"coffer server did not become healthy in {timeout}s:\n"
                             f"{self.log_tail()}")

    def healthz(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            return None

    def get(self, path):
        """GET path on the server; returns (status, headers dict, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def metrics(self):
        """The /metrics text."""
        status, _, body = self.get("/metrics")
        assert status == 200, f"/metrics answered {status}"
        return body.decode("utf-8")

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            raise AssertionError(f"coffer server ignored SIGTERM for {timeout}s:\n"
                                 f"{self.log_tail()}")
        self.proc = None
        return rc

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop_and_check(self):
        rc = self.stop()
        assert rc == 0, f"coffer server exited with {rc} on SIGTERM:\n{self.log_tail()}"

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.work, ignore_errors=True)

    def log_tail(self, n=40):
        lines = []
        for path in self.log_paths:
            with open(path, "rb") as f:
                lines += f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])

    # -- clients -----------------------------------------------------------------------------
    def creds_env(self, region=None, access_key_id=None, secret_access_key=None):
        home = os.path.join(self.work, "home")
        os.makedirs(home, exist_ok=True)
        return clean_env({
            "AWS_ACCESS_KEY_ID": access_key_id or self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key or self.secret_access_key,
            "AWS_DEFAULT_REGION": region or self.region,
            "AWS_PAGER": "",
            "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": home,
        })

    def aws(self, *args, region=None, access_key_id=None, secret_access_key=None, cwd=None,
            timeout=120):
        """Runs /usr/bin/aws <args> against this server. Returns CliResult."""
        cmd = [AWS_CLI] + list(args) + ["--endpoint-url", self.endpoint, "--output", "json"]
        p = subprocess.run(cmd, capture_output=True, env=self.creds_env(
            region, access_key_id, secret_access_key), cwd=cwd or self.work, timeout=timeout)
        return CliResult(p.returncode, p.stdout.decode("utf-8", "replace"),
                         p.stderr.decode("utf-8", "replace"), cmd)

    def sm(self, *args, **kwargs):
        """`aws secretsmanager <args>`."""
        return self.aws("secretsmanager", *args, **kwargs)

    def boto3_client(self, region=None, access_key_id=None, secret_access_key=None,
                     max_attempts=1):
        import boto3
        import botocore.config
        return boto3.session.Session().client(
            "secretsmanager", endpoint_url=self.endpoint, region_name=region or self.region,
            aws_access_key_id=access_key_id or self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            config=botocore.config.Config(retries={"max_attempts": max_attempts,
                                                   "mode": "standard"},
                                          connect_timeout=5, read_timeout=60))


class CliResult:
    def __init__(self, rc, stdout, stderr, cmd):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.cmd = cmd
        self.json = None
        if stdout.strip():
            try:
                self.json = json.loads(stdout)
            except ValueError:
                pass
        m = CLI_ERROR_RE.search(stderr)
        self.error_code = m.group("code") if m else None
        self.error_message = m.group("message").strip() if m else None

    def ok(self):
        """Asserts success and returns the parsed JSON output (None for empty output)."""
        assert self.rc == 0, f"{self.describe()} failed: rc={self.rc} stderr={self.stderr!r}"
        return self.json

    def error(self, code, message=None):
        """Asserts a service error with this code (and exact message, when given)."""
        assert self.rc == 254, (f"{self.describe()}: expected {code}, got rc={self.rc} "
                                f"stdout={self.stdout[:500]!r} stderr={self.stderr!r}")
        assert self.error_code == code, f"{self.describe()}: expected {code}: {self.stderr!r}"
        if message is not None:
            assert self.error_message == message, (
                f"{self.describe()}: expected message {message!r}, got {self.error_message!r}")
        return self

    def describe(self):
        # Only the operation and its flags, never values (some tests pass secret material).
        return " ".join(a for a in self.cmd[1:4])


@pytest.fixture
def new_server():
    """A factory: new_server(**CofferServer kwargs) -> started server; all stopped at teardown,
    each with an asserted clean SIGTERM exit."""
    servers = []

    def make(start=True, **kwargs):
        s = CofferServer(**kwargs)
        servers.append(s)
        if start:
            s.start()
        return s

    yield make
    failures = []
    for s in servers:
        try:
            if s.proc is not None:
                rc = s.stop()
                if rc != 0:
                    failures.append(f"exit code {rc} on SIGTERM:\n{s.log_tail()}")
        finally:
            s.cleanup()
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def server():
    """One dev server shared by a test module (tests use unique secret names)."""
    s = CofferServer()
    try:
        s.start()
        yield s
        s.stop_and_check()
    finally:
        s.cleanup()
