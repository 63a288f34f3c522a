"""The audit trail end to end: CloudTrail lookups through the real aws CLI, `coffer audit verify`
against records edited on disk, fail-closed writes, and a canary value that must never leak.
"""

import glob
import json
import os
import resource
import subprocess
import time

import pytest

from conftest import AWS_CLI, DEFAULT_ACCOUNT, coffer_bin, unique_name

# Copied verbatim from the guide's "CloudTrail Logging" step.
SEED_LOOKUP = """aws cloudtrail lookup-events \\
  --lookup-attributes AttributeKey=ResourceName,AttributeValue=ml-platform/mlflow/database \\
  --max-results 10"""


def run_bash(server, script, **creds):
    prelude = (f'aws() {{ "{AWS_CLI}" --endpoint-url "{server.endpoint}" --output json "$@"; }}\n'
               "set -e\n")
    return subprocess.run(["bash", "-c", prelude + script], cwd=server.work, capture_output=True,
                          env=server.creds_env(**creds), timeout=120, text=True)


def lookup(server, *args, **creds):
    return server.aws("cloudtrail", "lookup-events", *args, **creds)


def segments(server):
    return sorted(glob.glob(os.path.join(server.data_dir, "audit", "audit-*.jsonl")))


def verify(server):
    p = subprocess.run([coffer_bin(), "audit", "verify", "--data-dir", server.data_dir],
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def test_seed_lookup_word_for_word(new_server):
    s = new_server()
    s.sm("create-secret", "--name", "ml-platform/mlflow/database", "--secret-string",
         '{"password":"STRONG_PASSWORD_HERE"}').ok()
    for _ in range(3):
        s.sm("get-secret-value", "--secret-id", "ml-platform/mlflow/database").ok()
    s.sm("describe-secret", "--secret-id", "ml-platform/mlflow/database").ok()
    s.sm("create-secret", "--name", "ml-platform/other", "--secret-string", "x").ok()

    p = run_bash(s, SEED_LOOKUP)
    assert p.returncode == 0, p.stderr
    events = json.loads(p.stdout)["Events"]
    names = [e["EventName"] for e in events]
    # Newest first, only this secret's events.
    assert names == ["DescribeSecret", "GetSecretValue", "GetSecretValue", "GetSecretValue",
                     "CreateSecret"]
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    first = events[0]
    assert first["EventSource"] == "secretsmanager.amazonaws.com"
    assert first["ReadOnly"] == "true"
    assert first["Username"] == "root"
    assert first["AccessKeyId"] == s.access_key_id
    assert first["Resources"] == [{"ResourceType": "AWS::SecretsManager::Secret",
                                   "ResourceName": "ml-platform/mlflow/database"}]
    event = json.loads(first["CloudTrailEvent"])
    assert event["eventName"] == "DescribeSecret"
    assert event["userIdentity"]["arn"] == f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"
    assert event["sourceIPAddress"] == "127.0.0.1"
    assert event["awsRegion"] == "us-east-1"
    assert event["eventID"] == first["EventId"]
    assert "aws-cli" in event["userAgent"]
    create = json.loads(events[-1]["CloudTrailEvent"])
    assert create["readOnly"] is False


def test_other_lookup_attributes_and_paging(new_server):
    s = new_server()
    name = unique_name("audit")
    s.sm("create-secret", "--name", name, "--secret-string", "v").ok()
    s.sm("get-secret-value", "--secret-id", name).ok()
    s.sm("get-secret-value", "--secret-id", "does/not/exist").error("ResourceNotFoundException")
    s.sm("put-secret-value", "--secret-id", name, "--secret-string", "w").ok()

    by_name = lookup(s, "--lookup-attributes",
                     "AttributeKey=EventName,AttributeValue=PutSecretValue").ok()["Events"]
    assert [e["EventName"] for e in by_name] == ["PutSecretValue"]
    event_id = by_name[0]["EventId"]
    by_id = lookup(s, "--lookup-attributes",
                   f"AttributeKey=EventId,AttributeValue={event_id}").ok()["Events"]
    assert [e["EventId"] for e in by_id] == [event_id]
    by_user = lookup(s, "--lookup-attributes",
                     "AttributeKey=Username,AttributeValue=root").ok()["Events"]
    assert len(by_user) >= 4
    by_key = lookup(s, "--lookup-attributes",
                    f"AttributeKey=AccessKeyId,AttributeValue={s.access_key_id}").ok()["Events"]
    assert len(by_key) >= 4
    writes = lookup(s, "--lookup-attributes",
                    "AttributeKey=ReadOnly,AttributeValue=false").ok()["Events"]
    assert {e["EventName"] for e in writes} >= {"CreateSecret", "PutSecretValue"}
    assert all(e["ReadOnly"] == "false" for e in writes)
    typed = lookup(s, "--lookup-attributes", "AttributeKey=ResourceType,"
                   "AttributeValue=AWS::SecretsManager::Secret").ok()["Events"]
    assert len(typed) >= 3
    failed = [json.loads(e["CloudTrailEvent"]) for e in lookup(
        s, "--lookup-attributes", "AttributeKey=EventName,AttributeValue=GetSecretValue").ok()[
        "Events"]]
    assert "ResourceNotFoundException" in [e.get("errorCode") for e in failed]

    # A time window that ends before everything holds nothing; one around now holds all.
    now = int(time.time())
    assert lookup(s, "--start-time", str(now - 3600), "--end-time",
                  str(now - 1800)).ok()["Events"] == []
    assert len(lookup(s, "--start-time", str(now - 600), "--end-time",
                      str(now + 600)).ok()["Events"]) >= 4
    lookup(s, "--start-time", str(now), "--end-time", str(now - 10)).error(
        "InvalidTimeRangeException")
    lookup(s, "--max-results", "51").error("InvalidMaxResultsException")

    # Paging: pages of 2 (manual NextToken) give every event once, newest first.
    everything = lookup(s).ok()["Events"]
    seen, token = [], None
    while True:
        args = ["--max-results", "2"] + (["--next-token", token] if token else [])
        page = lookup(s, *args).ok()
        assert len(page["Events"]) <= 2
        seen += [e["EventId"] for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            break
    # The lookups themselves are audited too, so compare the prefix that existed before paging.
    assert seen[-len(everything):] == [e["EventId"] for e in everything] or \
        set(e["EventId"] for e in everything) <= set(seen)
    lookup(s, "--next-token", "garbage").error("InvalidNextTokenException")


def test_denied_and_unauthenticated_requests_are_recorded(new_server):
    s = new_server()
    s.sm("list-secrets", secret_access_key="wrong" * 8).error("InvalidSignatureException")
    s.sm("list-secrets", access_key_id="AKIANOSUCHKEY0000000").error(
        "UnrecognizedClientException")
    events = [json.loads(e["CloudTrailEvent"]) for e in lookup(
        s, "--lookup-attributes", "AttributeKey=EventName,AttributeValue=ListSecrets").ok()[
        "Events"]]
    codes = [e.get("errorCode") for e in events]
    assert "InvalidSignatureException" in codes and "UnrecognizedClientException" in codes


def test_verify_detects_tampering(new_server):
    s = new_server(dev=False)
    for i in range(5):
        s.sm("create-secret", "--name", f"tamper/{i}", "--secret-string", "v").ok()
    s.stop_and_check()  # seals the tail with a digest
    rc, out = verify(s)
    assert rc == 0, out
    assert "OK" in out

    path = segments(s)[-1]
    original = open(path, "rb").read()
    lines = original.split(b"\n")
    # Edit one record's field.
    record = json.loads(lines[2])
    record["event_name"] = record["event_name"] + "X"
    edited = lines[:]
    edited[2] = json.dumps(record, separators=(",", ":")).encode()
    open(path, "wb").write(b"\n".join(edited))
    rc, out = verify(s)
    assert rc == 1 and "record 3" in out, out
    # Delete one.
    open(path, "wb").write(b"\n".join(lines[:3] + lines[4:]))
    rc, out = verify(s)
    assert rc == 1 and ("record 4" in out or "record 5" in out), out
    # Reorder two.
    swapped = lines[:]
    swapped[1], swapped[2] = swapped[2], swapped[1]
    open(path, "wb").write(b"\n".join(swapped))
    rc, out = verify(s)
    assert rc == 1 and "record 2" in out, out
    open(path, "wb").write(original)
    rc, out = verify(s)
    assert rc == 0, out


def test_fail_closed_when_the_trail_cannot_be_written(new_server):
    # RLIMIT_FSIZE makes any write past the limit fail (EFBIG), as a full disk would.
    limit = 2 * 1024 * 1024

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    s = new_server(preexec_fn=small_files)
    name = unique_name("fc")
    s.sm("create-secret", "--name", name, "--secret-string", "fail-closed-value").ok()
    client = s.boto3_client()
    import botocore.exceptions
    failure = None
    for _ in range(20000):
        try:
            client.get_secret_value(SecretId=name)
        except botocore.exceptions.ClientError as e:
            failure = e.response
            break
    assert failure is not None, "the audit segment never hit the file size limit"
    assert failure["Error"]["Code"] == "InternalServiceError"
    assert "fail-closed-value" not in json.dumps(failure, default=str)
    # Nothing is served unaudited: every further read fails too.
    with pytest.raises(botocore.exceptions.ClientError):
        client.get_secret_value(SecretId=name)
    text = s.metrics()
    failures = [line for line in text.splitlines()
                if line.startswith("coffer_audit_write_failures_total")]
    assert failures and float(failures[0].split()[-1]) >= 2, failures


def test_canary_never_leaks(new_server):
    s = new_server(start=False, dev=False, extra_args=["--log-level", "debug"])
    sink = os.path.join(s.work, "events.jsonl")
    s.args += ["--audit-jsonl-sink", sink]
    s.start()
    canary = "CANARY-" + os.urandom(12).hex()
    name = unique_name("canary")
    s.sm("create-secret", "--name", name, "--secret-string", canary).ok()
    s.sm("put-secret-value", "--secret-id", name, "--secret-string", canary + "-2").ok()
    s.sm("get-secret-value", "--secret-id", name).ok()
    s.sm("put-secret-value", "--secret-id", name, "--secret-string", canary + "x" * 70000).error(
        "InvalidParameterException")
    metrics = s.metrics()
    events = lookup(s).ok()
    s.stop_and_check()
    assert os.path.getsize(sink) > 0
    haystacks = {"metrics": metrics.encode(), "lookup": json.dumps(events).encode()}
    for path in segments(s) + [sink] + s.log_paths + glob.glob(
            os.path.join(s.data_dir, "audit", "*")):
        haystacks[path] = open(path, "rb").read()
    for where, data in haystacks.items():
        assert canary.encode() not in data, f"canary value found in {where}"


def test_sink_reopens_on_sighup_for_logrotate(new_server):
    import signal
    s = new_server(start=False)
    sink = os.path.join(s.work, "events.jsonl")
    s.args += ["--audit-jsonl-sink", sink]
    s.start()
    s.sm("list-secrets").ok()
    os.rename(sink, sink + ".1")  # what logrotate does
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while not os.path.exists(sink) and time.time() < deadline:
        time.sleep(0.05)
    assert os.path.exists(sink), "SIGHUP did not reopen the sink"
    s.sm("describe-secret", "--secret-id", "nope").error("ResourceNotFoundException")
    rotated = [json.loads(line) for line in open(sink + ".1")]
    fresh = [json.loads(line) for line in open(sink)]
    assert [e["eventName"] for e in rotated] == ["ListSecrets"]
    assert [e["eventName"] for e in fresh] == ["DescribeSecret"]
    assert fresh[0]["errorCode"] == "ResourceNotFoundException"
