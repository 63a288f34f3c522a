"""Durability and encryption at rest, proved from the outside:

(a) SIGKILL mid-load: every acknowledged write survives, labels stay consistent, SQLite is intact.
(b) No secret value, not even a 4-byte piece of one, is on disk (DB, WAL, key file, anything in
    the data dir), and the files are private.
(c) `coffer keys rotate` while the server serves: nothing becomes unreadable, before or after a
    restart.

Assertion messages here never contain secret values: only names, version ids, file names and
offsets.
"""

import base64
import os
import secrets
import shutil
import stat
import subprocess
import threading
import time
import uuid

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from conftest import coffer_bin, unique_name


# ------------------------------------------------------------------------------------------------
# (a) SIGKILL mid-load
# ------------------------------------------------------------------------------------------------

class Writer(threading.Thread):
    """Creates secrets and puts versions on them (at most 12 versions per secret, so the
    ~100-versions quota never matters). Records what the server acknowledged."""

    def __init__(self, client, prefix, index, stop):
        super().__init__(daemon=True)
        self.client = client
        self.prefix = prefix
        self.index = index
        self.stop = stop
        self.acked = []          # (name, version_id, value) in acknowledgement order
        self.inflight = None     # (name, version_id) of the call in progress when it died
        self.errors = []         # (time, name, error code) of failed calls
        self.created = []        # names acknowledged as created

    def value(self, k):
        if k % 3 == 2:  # every third value is binary
            return os.urandom(48)
        return f"w{self.index}-{k}-" + secrets.token_urlsafe(24)

    def run(self):
        k = 0
        secret_no = 0
        while not self.stop.is_set():
            name = f"{self.prefix}/w{self.index}/s{secret_no}"
            secret_no += 1
            for j in range(12):
                if self.stop.is_set():
                    return
                token = str(uuid.uuid4())
                val = self.value(k)
                k += 1
                arg = {"SecretBinary": val} if isinstance(val, bytes) else {"SecretString": val}
                self.inflight = (name, token)
                try:
                    if j == 0:
                        out = self.client.create_secret(Name=name, ClientRequestToken=token,
                                                        **arg)
                        self.created.append(name)
                    else:
                        out = self.client.put_secret_value(SecretId=name,
                                                           ClientRequestToken=token, **arg)
                except ClientError as e:
                    self.errors.append((time.time(), name, e.response["Error"]["Code"]))
                    return
                except (BotoCoreError, OSError) as e:
                    self.errors.append((time.time(), name, type(e).__name__))
                    return
                assert out["VersionId"] == token
                self.acked.append((name, token, val))
                self.inflight = None


def integrity_check(db_path):
    p = subprocess.run(["sqlite3", db_path, "PRAGMA integrity_check;"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def value_of(response):
    return response["SecretBinary"] if "SecretBinary" in response else response["SecretString"]


def test_sigkill_mid_load_keeps_every_acknowledged_write(new_server, tmp_path):
    s = new_server(dev=False, data_dir=str(tmp_path / "data"))
    prefix = unique_name("dur")
    stop = threading.Event()
    writers = [Writer(s.boto3_client(), prefix, i, stop) for i in range(8)]
    for w in writers:
        w.start()
    time.sleep(3.0)
    kill_time = time.time()
    s.kill()  # SIGKILL while the writers are mid-request
    stop.set()
    for w in writers:
        w.join(30)
        assert not w.is_alive()

    acked = [a for w in writers for a in w.acked]
    early = [(name, code) for w in writers for (t, name, code) in w.errors if t < kill_time]
    assert not early, f"writes failed before the kill: {early[:5]}"
    print(f"{len(acked)} writes acknowledged by 8 writers before SIGKILL; "
          f"{sum(1 for w in writers if w.inflight)} in flight")
    assert len(acked) >= 40, f"only {len(acked)} writes acknowledged in 3 s: no real load"

    # The files as the crash left them pass SQLite's own check (on a copy, so that recovery
    # happens only in the copy).
    copy = tmp_path / "crash-copy"
    shutil.copytree(s.data_dir, copy)
    assert integrity_check(str(copy / "coffer.db")) == "ok"

    s.start()
    sm = s.boto3_client(max_attempts=3)
    missing = []
    for name, vid, val in acked:
        try:
            got = sm.get_secret_value(SecretId=name, VersionId=vid)
        except ClientError as e:
            missing.append((name, vid, e.response["Error"]["Code"]))
            continue
        if value_of(got) != val:
            missing.append((name, vid, "value differs"))
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged writes lost: {missing[:5]}"

    # Labels: exactly one AWSCURRENT per secret, on the last acknowledged version or on the one
    # whose acknowledgement the kill swallowed; AWSPREVIOUS right behind it.
    for w in writers:
        per_secret = {}
        for name, vid, _ in w.acked:
            per_secret.setdefault(name, []).append(vid)
        for name, vids in per_secret.items():
            st = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
            current = [v for v, labels in st.items() if "AWSCURRENT" in labels]
            previous = [v for v, labels in st.items() if "AWSPREVIOUS" in labels]
            assert len(current) == 1, (name, st)
            assert len(previous) <= 1, (name, st)
            unacked = w.inflight[1] if w.inflight and w.inflight[0] == name else None
            if current[0] == vids[-1]:
                expected_prev = vids[-2] if len(vids) > 1 else None
            else:
                assert current[0] == unacked, (name, st)
                expected_prev = vids[-1]
            assert (previous[0] if previous else None) == expected_prev, (name, st)
            listed = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
            listed_ids = {v["VersionId"] for v in listed["Versions"]}
            assert set(vids) <= listed_ids, name

    # New writes work after the restart, and the database is still consistent.
    name = prefix + "/after"
    sm.create_secret(Name=name, SecretString="after-restart")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "after-restart"
    s.stop_and_check()
    assert integrity_check(os.path.join(s.data_dir, "coffer.db")) == "ok"


def test_sigterm_under_load_drains_and_keeps_acknowledged_writes(new_server, tmp_path):
    s = new_server(dev=False, data_dir=str(tmp_path / "data"))
    prefix = unique_name("drain")
    stop = threading.Event()
    writers = [Writer(s.boto3_client(), prefix, i, stop) for i in range(8)]
    for w in writers:
        w.start()
    time.sleep(1.0)
    assert s.stop() == 0, s.log_tail()  # SIGTERM with requests in flight: a clean exit 0
    stop.set()
    for w in writers:
        w.join(30)
    acked = [a for w in writers for a in w.acked]
    assert len(acked) >= 20
    # While draining, requests either complete or find the server gone; none gets a 500.
    codes = [code for w in writers for (_, _, code) in w.errors]
    assert "InternalServiceError" not in codes, codes
    s.start()
    sm = s.boto3_client(max_attempts=3)
    lost = [(name, vid) for name, vid, val in acked
            if value_of(sm.get_secret_value(SecretId=name, VersionId=vid)) != val]
    assert not lost, f"{len(lost)} acknowledged writes lost over a SIGTERM: {lost[:5]}"


# ------------------------------------------------------------------------------------------------
# (b) no plaintext on disk
# ------------------------------------------------------------------------------------------------

# Printable values alternate a letter/digit with one of these punctuation characters, none of
# which occurs in base64, hex, UUIDs or ARNs. So a 4-byte window of a value can't match the
# server's own metadata text by chance, and against random ciphertext the chance is 2^-32 per
# position. Binary values use bytes 0x80-0xff, which never occur in ASCII text.
PUNCT = "!#$%&()*;<>?@[]^_{|}~"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def random_printable(n=48):
    return "".join(secrets.choice(ALNUM) + secrets.choice(PUNCT) for _ in range(n // 2))


def random_high_binary(n=48):
    return bytes(0x80 | b for b in os.urandom(n))


def data_files(data_dir):
    out = []
    for root, _, files in os.walk(data_dir):
        for f in files:
            out.append(os.path.join(root, f))
    return out


def find_leaks(paths, values, window):
    """Every (file, value index, offset) where `window` bytes of a value appear in a file."""
    leaks = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # e.g. a -wal file checkpointed away meanwhile
        for vi, value in enumerate(values):
            for off in range(0, len(value) - window + 1):
                if data.find(value[off:off + window]) != -1:
                    leaks.append((os.path.basename(path), vi, off))
                    break  # one offset per value and file is enough to report
    return leaks


# An "encoded but not encrypted" store must fail too: base64 (8-char windows = 48 bits) and hex
# (16-char windows = 64 bits) of each value, long enough not to match ids or ciphertext text.
def b64_forms(values):
    return [base64.b64encode(v) for v in values]


def hex_forms(values):
    return [v.hex().encode() for v in values]


def test_no_plaintext_on_disk_and_private_files(new_server, tmp_path):
    data_dir = str(tmp_path / "data")  # does not exist yet: the server creates it
    s = new_server(dev=False, data_dir=data_dir)
    sm = s.boto3_client()
    prefix = unique_name("plain")
    values = []
    for i in range(6):
        name = f"{prefix}/s{i}"
        if i % 2 == 0:
            v = random_printable(48 + 8 * i)
            sm.create_secret(Name=name, SecretString=v)
            values.append(v.encode())
        else:
            v = random_high_binary(40 + 8 * i)
            sm.create_secret(Name=name, SecretBinary=v)
            values.append(v)
        for _ in range(2):
            if i % 2 == 0:
                v = random_printable(64)
                sm.put_secret_value(SecretId=name, SecretString=v)
                values.append(v.encode())
            else:
                v = random_high_binary(64)
                sm.put_secret_value(SecretId=name, SecretBinary=v)
                values.append(v)
        v = random_printable(40)
        sm.update_secret(SecretId=name, SecretString=v)
        values.append(v.encode())
        sm.get_secret_value(SecretId=name)
    # A secret value in a non-ASCII string (UTF-8 bytes 0x80+).
    v = "".join(chr(0x4E00 + secrets.randbelow(0x5000)) for _ in range(20))
    sm.create_secret(Name=prefix + "/utf8", SecretString=v)
    values.append(v.encode())
    access_secret = s.secret_access_key.encode()

    def check(when):
        paths = data_files(s.data_dir)
        names = {os.path.basename(p) for p in paths}
        assert "coffer.db" in names and "master.key" in names, names
        leaks = find_leaks(paths, values, 4)
        assert not leaks, f"{when}: 4-byte pieces of secret values on disk at " \
                          f"(file, value#, offset): {leaks[:10]}"
        leaks = find_leaks(paths, b64_forms(values), 8) + find_leaks(paths, hex_forms(values), 16)
        assert not leaks, f"{when}: base64/hex of secret values on disk: {leaks[:10]}"
        leaks = find_leaks(paths, [access_secret], 12)
        assert not leaks, f"{when}: the root secret access key is on disk: {leaks[:3]}"
        return names

    names = check("while running")
    assert "coffer.db-wal" in names  # the WAL is checked while it holds the recent writes
    # The server's own log must not carry values either (8-byte windows: it is free text).
    leaks = find_leaks(s.log_paths, values + [access_secret], 8)
    assert not leaks, f"secret material in the server log at {leaks[:10]}"

    assert stat.S_IMODE(os.stat(s.data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(s.data_dir, "coffer.db")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(s.data_dir, "master.key")).st_mode) == 0o600
    for path in data_files(s.data_dir):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode & 0o077 == 0, f"{os.path.basename(path)} has mode {mode:o}"

    s.stop_and_check()
    check("after shutdown")
    # And the values are all still there (the test would be vacuous if they were not stored).
    s.start()
    sm = s.boto3_client()
    got = sm.get_secret_value(SecretId=prefix + "/utf8")["SecretString"]
    assert got.encode() == values[-1]


def test_key_file_with_loose_mode_is_refused(new_server, tmp_path):
    s = new_server(dev=False, data_dir=str(tmp_path / "data"))
    s.boto3_client().create_secret(Name=unique_name("mode"), SecretString="x")
    s.stop_and_check()
    key = os.path.join(s.data_dir, "master.key")
    os.chmod(key, 0o644)
    with pytest.raises(AssertionError, match="exited with") as info:
        s.start(timeout=15)
    assert "0644" in str(info.value) and "master.key" in str(info.value)  # says why
    os.chmod(key, 0o600)
    s.start()


# ------------------------------------------------------------------------------------------------
# (c) master key rotation while serving
# ------------------------------------------------------------------------------------------------

def test_keys_rotate_while_serving(new_server, tmp_path):
    s = new_server(dev=False, data_dir=str(tmp_path / "data"))
    sm = s.boto3_client(max_attempts=1)
    prefix = unique_name("rot")
    expected = {}  # (name, version id) -> value
    for i in range(20):
        name = f"{prefix}/s{i}"
        v1 = secrets.token_hex(20)
        vid = sm.create_secret(Name=name, SecretString=v1)["VersionId"]
        expected[(name, vid)] = v1
        v2 = os.urandom(32)
        vid = sm.put_secret_value(SecretId=name, SecretBinary=v2)["VersionId"]
        expected[(name, vid)] = v2

    stop = threading.Event()
    failures = []
    reads = [0]

    def reader():
        client = s.boto3_client(max_attempts=1)
        items = list(expected.items())
        while not stop.is_set():
            for (name, vid), val in items:
                try:
                    got = value_of(client.get_secret_value(SecretId=name, VersionId=vid))
                    if got != val:
                        failures.append((name, vid, "value differs"))
                except ClientError as e:
                    failures.append((name, vid, e.response["Error"]["Code"]))
                except (BotoCoreError, OSError) as e:
                    failures.append((name, vid, type(e).__name__))
                reads[0] += 1
                if stop.is_set():
                    break

    key_path = os.path.join(s.data_dir, "master.key")
    with open(key_path, "rb") as f:
        key_before = f.read()
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(0.5)
    reads_before = reads[0]
    p = subprocess.run([coffer_bin(), "keys", "rotate", "--data-dir", s.data_dir],
                       capture_output=True, text=True, timeout=120, env=s.env())
    assert p.returncode == 0, p.stderr[-2000:]
    # New writes after the rotation, while the reader keeps going.
    after = {}
    for i in range(10):
        name = f"{prefix}/s{i}"
        v = secrets.token_hex(24)
        after[(name, sm.put_secret_value(SecretId=name, SecretString=v)["VersionId"])] = v
    new_name = prefix + "/new"
    v = secrets.token_hex(16)
    after[(new_name, sm.create_secret(Name=new_name, SecretString=v)["VersionId"])] = v
    time.sleep(2.5)  # past the server's periodic key-file reload
    stop.set()
    t.join(30)
    assert not failures, f"reads failed during rotation: {failures[:5]}"
    assert reads[0] > reads_before + 20, "the reader loop did not run during the rotation"

    with open(key_path, "rb") as f:
        key_after = f.read()
    assert key_after != key_before, "coffer keys rotate left master.key unchanged"
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600

    expected.update(after)
    for (name, vid), val in expected.items():
        assert value_of(sm.get_secret_value(SecretId=name, VersionId=vid)) == val, (name, vid)

    s.stop_and_check()
    s.start()
    sm = s.boto3_client()
    for (name, vid), val in expected.items():
        assert value_of(sm.get_secret_value(SecretId=name, VersionId=vid)) == val, (name, vid)
    # A second rotation after the restart, then everything still reads.
    p = subprocess.run([coffer_bin(), "keys", "rotate", "--data-dir", s.data_dir],
                       capture_output=True, text=True, timeout=120, env=s.env())
    assert p.returncode == 0, p.stderr[-2000:]
    for (name, vid), val in expected.items():
        assert value_of(sm.get_secret_value(SecretId=name, VersionId=vid)) == val, (name, vid)
    assert sm.get_secret_value(SecretId=new_name)["SecretString"] == after[
        next(k for k in after if k[0] == new_name)]
