"""The newer boto3 (1.43 under pyenv, where present) for what Debian's clients lack:
BatchGetSecretValue, ListSecrets SortBy, and AWS_ENDPOINT_URL.

Each check runs a small script with that interpreter (it has no pytest) and asserts on the JSON
it prints. The whole module is skipped when the interpreter or its boto3 is missing.
"""

import json
import os
import subprocess
import time

import pytest

from conftest import MODERN_PYTHON, unique_name

PRELUDE = r'''
import base64, json, os, sys
import boto3
from botocore.exceptions import ClientError

sm = boto3.client("secretsmanager", endpoint_url=os.environ["COFFER_ENDPOINT"])

def call(op, **kw):
    try:
        out = getattr(sm, op)(**kw)
        out.pop("ResponseMetadata", None)
        return out
    except ClientError as e:
        return {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}

def emit(obj):
    def enc(o):
        if isinstance(o, bytes):
            return {"__bytes__": base64.b64encode(o).decode()}
        return str(o)
    print(json.dumps(obj, default=enc))
'''


def modern_available():
    if not os.path.exists(MODERN_PYTHON):
        return "no pyenv python at " + MODERN_PYTHON
    p = subprocess.run([MODERN_PYTHON, "-c",
                        "import boto3; c = boto3.client('secretsmanager', region_name='us-east-1');"
                        "print(hasattr(c, 'batch_get_secret_value'))"],
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    if p.returncode != 0:
        return "boto3 missing under " + MODERN_PYTHON
    if p.stdout.strip() != "True":
        return "that boto3 has no batch_get_secret_value"
    return None


_why = modern_available()
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")


def run_modern(server, body, env_endpoint=False):
    env = server.creds_env()
    if env_endpoint:
        env["AWS_ENDPOINT_URL"] = server.endpoint
        script = PRELUDE.replace('endpoint_url=os.environ["COFFER_ENDPOINT"]', "") + body
    else:
        env["COFFER_ENDPOINT"] = server.endpoint
        script = PRELUDE + body
    p = subprocess.run([MODERN_PYTHON, "-c", script], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_batch_get_secret_value_by_id_list(server):
    sm = server.boto3_client()
    a, b, missing = unique_name("mod-a"), unique_name("mod-b"), unique_name("mod-missing")
    sm.create_secret(Name=a, SecretString="alpha-value")
    b_arn = sm.create_secret(Name=b, SecretBinary=b"\x00\x01beta")["ARN"]
    sm.put_secret_value(SecretId=a, SecretString="alpha-value-2")
    out = run_modern(server, f"""
emit(call("batch_get_secret_value", SecretIdList={[a, b_arn, missing]!r}))
""")
    assert "error" not in out, out
    values = {v["Name"]: v for v in out["SecretValues"]}
    assert set(values) == {a, b}
    assert values[a]["SecretString"] == "alpha-value-2"
    assert values[a]["VersionStages"] == ["AWSCURRENT"]
    assert values[b]["SecretBinary"] == {"__bytes__": "AAFiZXRh"}
    assert values[b]["ARN"] == b_arn
    assert out["Errors"] == [{"SecretId": missing, "ErrorCode": "ResourceNotFoundException",
                              "Message": "Secrets Manager can't find the specified secret."}]


def test_batch_get_secret_value_with_filters_and_pages(server):
    sm = server.boto3_client()
    prefix = unique_name("mod-filt")
    names = [f"{prefix}/s{i}" for i in range(5)]
    for i, n in enumerate(names):
        sm.create_secret(Name=n, SecretString=f"value-{i}")
    out = run_modern(server, f"""
flt = [{{"Key": "name", "Values": [{prefix + '/'!r}]}}]
pages, token = [], None
while True:
    kw = {{"Filters": flt, "MaxResults": 2}}
    if token:
        kw["NextToken"] = token
    page = call("batch_get_secret_value", **kw)
    pages.append(page)
    token = page.get("NextToken")
    if not token or "error" in page or len(pages) > 10:
        break
both = call("batch_get_secret_value", SecretIdList={names[:1]!r}, Filters=flt)
emit({{"pages": pages, "both": both}})
""")
    pages = out["pages"]
    assert all("error" not in p for p in pages), pages
    got = {v["Name"]: v["SecretString"] for p in pages for v in p["SecretValues"]}
    assert got == {n: f"value-{i}" for i, n in enumerate(names)}
    assert all(len(p["SecretValues"]) <= 2 for p in pages)
    assert len(pages) >= 3
    assert out["both"] == {"error": "InvalidParameterException",
                           "message": "Either 'SecretIdList' or 'Filters' must be provided, but "
                                      "not both."}


def test_list_secrets_sort_by(server):
    sm = server.boto3_client()
    prefix = unique_name("mod-sort")
    created = [f"{prefix}/c", f"{prefix}/a", f"{prefix}/b"]
    for n in created:
        sm.create_secret(Name=n, SecretString="x")
        time.sleep(0.02)  # distinct CreatedDate (millisecond resolution)
    out = run_modern(server, f"""
import botocore
model = sm.meta.service_model.operation_model("ListSecrets").input_shape.members
if "SortBy" not in model:
    emit({{"unsupported": True}})
else:
    flt = [{{"Key": "name", "Values": [{prefix + '/'!r}]}}]
    res = {{}}
    for by in ("name", "created-date"):
        for order in ("asc", "desc"):
            r = call("list_secrets", Filters=flt, SortBy=by, SortOrder=order)
            res[by + "/" + order] = r.get("error") or [e["Name"] for e in r["SecretList"]]
    emit(res)
""")
    if out.get("unsupported"):
        pytest.skip("this boto3 has no ListSecrets SortBy")
    assert out["name/asc"] == sorted(created)
    assert out["name/desc"] == sorted(created, reverse=True)
    assert out["created-date/asc"] == created
    assert out["created-date/desc"] == created[::-1]


def test_aws_endpoint_url_env_and_include_planned_deletion(server):
    sm = server.boto3_client()
    name = unique_name("mod-env")
    sm.create_secret(Name=name, SecretString="via-env")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    out = run_modern(server, f"""
flt = [{{"Key": "name", "Values": [{name!r}]}}]
emit({{"hidden": call("list_secrets", Filters=flt),
      "shown": call("list_secrets", Filters=flt, IncludePlannedDeletion=True),
      "get": call("get_secret_value", SecretId={name!r})}})
""", env_endpoint=True)
    assert out["hidden"]["SecretList"] == []
    assert [e["Name"] for e in out["shown"]["SecretList"]] == [name]
    assert out["get"]["error"] == "InvalidRequestException"
    sm.restore_secret(SecretId=name)
    out = run_modern(server, f"""
emit(call("get_secret_value", SecretId={name!r}))
""", env_endpoint=True)
    assert out["SecretString"] == "via-env"
