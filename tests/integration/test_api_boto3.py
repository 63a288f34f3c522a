"""Every Secrets Manager operation Debian's boto3 1.26.27 knows, against coffer.

One server for the module; every test uses its own secret names. Error paths assert AWS's exact
error codes and, where the reference gives them, the exact messages.
"""

import contextlib
import datetime
import json
import os
import string
import time
import types
import uuid
from unittest import mock

import botocore.auth
import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, unique_name

NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_FOR_DELETION = ("You can't perform this operation on the secret because it was marked for "
                       "deletion.")
INVALID_NAME = ("Invalid name. Must be a valid name containing alphanumeric characters, or any of "
                "the following: -/_+=.@!")


@pytest.fixture(scope="module")
def sm(server):
    return server.boto3_client()


def expect_error(code, call, message=None, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    resp = info.value.response
    assert resp["Error"]["Code"] == code, resp["Error"]
    if message is not None:
        assert resp["Error"]["Message"] == message
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert resp["ResponseMetadata"].get("RequestId"), "x-amzn-RequestId missing on an error"
    return resp["Error"]


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def stages(sm, name):
    return sm.describe_secret(SecretId=name).get("VersionIdsToStages", {})


def test_create_get_by_name_arn_partial_arn_and_binary(sm):
    name = unique_name("b3-get")
    out = sm.create_secret(Name=name, SecretString="s3cr3t")
    assert out["Name"] == name
    assert out["ResponseMetadata"]["RequestId"]
    arn = out["ARN"]
    assert arn.startswith(f"arn:aws:secretsmanager:us-east-1:{DEFAULT_ACCOUNT}:secret:{name}-")
    assert len(arn) == len(f"arn:aws:secretsmanager:us-east-1:{DEFAULT_ACCOUNT}:secret:{name}-")\
        + 6
    for secret_id in (name, arn, arn[:-7]):
        got = sm.get_secret_value(SecretId=secret_id)
        assert (got["Name"], got["ARN"], got["SecretString"], got["VersionId"],
                got["VersionStages"]) == (name, arn, "s3cr3t", out["VersionId"], ["AWSCURRENT"])
        assert isinstance(got["CreatedDate"], datetime.datetime)
    bname = unique_name("b3-bin")
    blob = bytes(range(256)) + os.urandom(64)
    sm.create_secret(Name=bname, SecretBinary=blob)
    got = sm.get_secret_value(SecretId=bname)
    assert got["SecretBinary"] == blob and "SecretString" not in got
    expect_error("InvalidParameterException", sm.create_secret, Name=unique_name("b3-both"),
                 SecretString="a", SecretBinary=b"b")


def test_describe_fields_and_timestamps(sm):
    name = unique_name("b3-desc")
    before = utcnow() - datetime.timedelta(seconds=5)
    out = sm.create_secret(Name=name, SecretString="x", Description="MLflow DB",
                           Tags=[{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": ""}])
    d = sm.describe_secret(SecretId=name)
    assert d["ARN"] == out["ARN"] and d["Name"] == name and d["Description"] == "MLflow DB"
    assert sorted(d["Tags"], key=lambda t: t["Key"]) == [{"Key": "env", "Value": ""},
                                                        {"Key": "team", "Value": "ml"}]
    assert d["VersionIdsToStages"] == {out["VersionId"]: ["AWSCURRENT"]}
    after = utcnow() + datetime.timedelta(seconds=5)
    for field in ("CreatedDate", "LastChangedDate"):
        assert isinstance(d[field], datetime.datetime)
        assert before <= d[field] <= after
    for absent in ("DeletedDate", "RotationLambdaARN", "KmsKeyId", "LastAccessedDate"):
        assert absent not in d, absent
    sm.get_secret_value(SecretId=name)
    accessed = sm.describe_secret(SecretId=name)["LastAccessedDate"]
    # Day resolution, as AWS: midnight UTC of today.
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    assert accessed == today or accessed == today - datetime.timedelta(days=1)


def test_label_movement_and_versions(sm):
    name = unique_name("b3-labels")
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    v3 = sm.put_secret_value(SecretId=name, SecretString="3")["VersionId"]
    assert stages(sm, name) == {v3: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "2"
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "1"
    listed = sm.list_secret_version_ids(SecretId=name)
    assert {v["VersionId"]: v["VersionStages"] for v in listed["Versions"]} == \
        {v3: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}
    for v in listed["Versions"]:
        assert isinstance(v["CreatedDate"], datetime.datetime)
    full = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    by_id = {v["VersionId"]: v for v in full}
    assert set(by_id) == {v1, v2, v3}
    assert not by_id[v1].get("VersionStages")
    # Pagination of versions.
    page = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True, MaxResults=2)
    assert len(page["Versions"]) == 2 and page["NextToken"]
    rest = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True, MaxResults=2,
                                      NextToken=page["NextToken"])
    assert len(rest["Versions"]) == 1 and "NextToken" not in rest
    assert {v["VersionId"] for v in page["Versions"] + rest["Versions"]} == {v1, v2, v3}


def test_rotation_style_label_cycle(sm):
    """The AWSPENDING -> AWSCURRENT cycle a rotation function performs (reference 1.5 rule 4)."""
    name = unique_name("b3-cycle")
    a = sm.create_secret(Name=name, SecretString="A")["VersionId"]
    b = sm.put_secret_value(SecretId=name, SecretString="B",
                            VersionStages=["AWSPENDING"])["VersionId"]
    assert stages(sm, name) == {a: ["AWSCURRENT"], b: ["AWSPENDING"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "A"
    expect_error("InvalidParameterException", sm.update_secret_version_stage, SecretId=name,
                 VersionStage="AWSCURRENT", MoveToVersionId=b)
    out = sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                         MoveToVersionId=b, RemoveFromVersionId=a)
    assert out["Name"] == name and out["ARN"]
    st = stages(sm, name)
    assert sorted(st[b]) == ["AWSCURRENT", "AWSPENDING"] and st[a] == ["AWSPREVIOUS"]
    c = sm.put_secret_value(SecretId=name, SecretString="C",
                            VersionStages=["AWSPENDING"])["VersionId"]
    assert stages(sm, name) == {a: ["AWSPREVIOUS"], b: ["AWSCURRENT"], c: ["AWSPENDING"]}
    # Moving a label to a version that does not exist fails (the reference does not pin the code)
    # and changes nothing.
    with pytest.raises(ClientError) as info:
        sm.update_secret_version_stage(SecretId=name, VersionStage="X",
                                       MoveToVersionId=str(uuid.uuid4()))
    assert info.value.response["Error"]["Code"] in ("ResourceNotFoundException",
                                                    "InvalidParameterException")
    assert stages(sm, name) == {a: ["AWSPREVIOUS"], b: ["AWSCURRENT"], c: ["AWSPENDING"]}


def test_update_secret(sm):
    name = unique_name("b3-upd")
    v1 = sm.create_secret(Name=name, SecretString="1", Description="d1")["VersionId"]
    out = sm.update_secret(SecretId=name, Description="d2")
    assert "VersionId" not in out and out["Name"] == name
    assert sm.describe_secret(SecretId=name)["Description"] == "d2"
    blob = os.urandom(40)
    v2 = sm.update_secret(SecretId=name, SecretBinary=blob)["VersionId"]
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == blob
    assert stages(sm, name) == {v2: ["AWSCURRENT"], v1: ["AWSPREVIOUS"]}
    tok = str(uuid.uuid4())
    assert sm.update_secret(SecretId=name, SecretString="3",
                            ClientRequestToken=tok)["VersionId"] == tok
    expect_error("ResourceExistsException", sm.update_secret, SecretId=name, SecretString="4",
                 ClientRequestToken=tok)


def test_list_secrets_filters_sort_and_paginator(sm):
    prefix = unique_name("b3-list")
    tag_key = "b3tk" + uuid.uuid4().hex[:8]
    names = []
    for i in range(7):
        kwargs = {"Tags": [{"Key": tag_key, "Value": f"v{i % 2}"}]} if i < 3 else {}
        sm.create_secret(Name=f"{prefix}/n{i}", SecretString="x",
                         Description=f"Entry number {i}", **kwargs)
        names.append(f"{prefix}/n{i}")
        time.sleep(0.02)  # distinct CreatedDate (millisecond resolution) for the sort checks

    flt = [{"Key": "name", "Values": [prefix + "/"]}]
    paginator = sm.get_paginator("list_secrets")
    pages = list(paginator.paginate(Filters=flt, SortOrder="asc",
                                    PaginationConfig={"PageSize": 3}))
    assert [len(p["SecretList"]) for p in pages] == [3, 3, 1]
    assert [e["Name"] for p in pages for e in p["SecretList"]] == names
    desc = sm.list_secrets(Filters=flt, SortOrder="desc", MaxResults=100)
    assert [e["Name"] for e in desc["SecretList"]] == names[::-1]
    assert "NextToken" not in desc
    entry = desc["SecretList"][-1]
    assert entry["Description"] == "Entry number 0"
    assert isinstance(entry["CreatedDate"], datetime.datetime)
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]

    def listed(filters):
        return sorted(e["Name"] for p in paginator.paginate(Filters=filters)
                      for e in p["SecretList"])

    assert listed([{"Key": "tag-key", "Values": [tag_key]}]) == names[:3]
    assert listed([{"Key": "tag-key", "Values": [tag_key]},
                   {"Key": "tag-value", "Values": ["v1"]}]) == [names[1]]
    assert listed(flt + [{"Key": "description", "Values": ["entry number 4"]}]) == [names[4]]
    assert listed([{"Key": "name", "Values": [prefix.upper()]}]) == []
    assert listed(flt + [{"Key": "name", "Values": ["!" + prefix + "/n1"]}]) == \
        [n for n in names if n != names[1]]
    expect_error("InvalidNextTokenException", sm.list_secrets, NextToken="garbage-token")


def test_delete_restore_and_force(sm):
    name = unique_name("b3-del")
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    out = sm.delete_secret(SecretId=name)  # default window: 30 days
    assert out["ARN"] == arn
    assert abs(out["DeletionDate"] - utcnow() - datetime.timedelta(days=30)) < \
        datetime.timedelta(minutes=2)
    assert isinstance(sm.describe_secret(SecretId=name)["DeletedDate"], datetime.datetime)
    for call, kw in ((sm.get_secret_value, {}), (sm.put_secret_value, {"SecretString": "y"}),
                     (sm.update_secret, {"Description": "z"}),
                     (sm.untag_resource, {"TagKeys": ["a"]}),
                     (sm.tag_resource, {"Tags": [{"Key": "a", "Value": "b"}]})):
        expect_error("InvalidRequestException", call, MARKED_FOR_DELETION, SecretId=name, **kw)
    expect_error("InvalidRequestException", sm.create_secret,
                 "You can't create this secret because a secret with this name is already "
                 "scheduled for deletion.", Name=name, SecretString="x")
    assert sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"] == []
    assert sm.restore_secret(SecretId=name)["ARN"] == arn
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    expect_error("ResourceNotFoundException", sm.describe_secret, NOT_FOUND, SecretId=name)
    # Force-deleting an already deleted secret is a success too.
    assert sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)["Name"] == name
    expect_error("InvalidParameterException", sm.delete_secret, SecretId=name,
                 RecoveryWindowInDays=31)


def test_tags(sm):
    name = unique_name("b3-tags")
    sm.create_secret(Name=name, SecretString="x")
    assert "Tags" not in sm.describe_secret(SecretId=name)
    sm.tag_resource(SecretId=name, Tags=[{"Key": "K", "Value": "1"}, {"Key": "k", "Value": "2"}])
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name)["Tags"]}
    assert tags == {"K": "1", "k": "2"}  # keys are case-sensitive
    sm.untag_resource(SecretId=name, TagKeys=["K"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "k", "Value": "2"}]
    too_many = [{"Key": f"t{i}", "Value": "v"} for i in range(51)]
    # Over the 50-tag quota: refused (the reference does not pin the code), nothing added.
    with pytest.raises(ClientError) as info:
        sm.tag_resource(SecretId=name, Tags=too_many)
    assert info.value.response["Error"]["Code"] in ("InvalidParameterException",
                                                    "LimitExceededException",
                                                    "ValidationException")
    assert len(sm.describe_secret(SecretId=name)["Tags"]) == 1


def test_random_password(sm):
    pw = sm.get_random_password()["RandomPassword"]
    assert len(pw) == 32
    for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits,
                  string.punctuation):
        assert set(pw) & set(chars)
    pw = sm.get_random_password(PasswordLength=4096, ExcludeCharacters="abc")["RandomPassword"]
    assert len(pw) == 4096 and not set(pw) & set("abc")
    pw = sm.get_random_password(PasswordLength=20, ExcludeUppercase=True,
                                ExcludeLowercase=True, ExcludePunctuation=True)["RandomPassword"]
    assert len(pw) == 20 and pw.isdigit()
    # Over the model's 4096 maximum: AWS's model-constraint error (ValidationException, as the
    # server answers) or InvalidParameterException.
    with pytest.raises(ClientError) as info:
        sm.get_random_password(PasswordLength=4097)
    assert info.value.response["Error"]["Code"] in ("ValidationException",
                                                    "InvalidParameterException")
    expect_error("InvalidParameterException", sm.get_random_password, PasswordLength=3,
                 message="Password length is too short based on the required types.")


def test_resource_policies(sm):
    name = unique_name("b3-pol")
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    ok_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
        "Resource": "*"}]})
    assert sm.validate_resource_policy(ResourcePolicy=ok_policy)["PolicyValidationPassed"]
    sm.put_resource_policy(SecretId=name, ResourcePolicy=ok_policy)
    got = sm.get_resource_policy(SecretId=name)
    assert got["ARN"] == arn and json.loads(got["ResourcePolicy"]) == json.loads(ok_policy)
    expect_error("PublicPolicyException", sm.put_resource_policy, SecretId=name,
                 ResourcePolicy=public, BlockPublicPolicy=True)
    assert json.loads(sm.get_resource_policy(SecretId=name)["ResourcePolicy"]) == \
        json.loads(ok_policy)
    expect_error("MalformedPolicyDocumentException", sm.put_resource_policy, SecretId=name,
                 ResourcePolicy="{not json")
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    expect_error("ResourceNotFoundException", sm.get_resource_policy,
                 SecretId=unique_name("b3-nopol"))


def test_rotation_config(sm):
    name = unique_name("b3-rot")
    sm.create_secret(Name=name, SecretString="x")
    expect_error("InvalidRequestException", sm.rotate_secret,
                 "No Lambda rotation function ARN is associated with this secret.",
                 SecretId=name)
    lam = f"arn:aws:lambda:us-east-1:{DEFAULT_ACCOUNT}:function:rot"
    sm.rotate_secret(SecretId=name, RotationLambdaARN=lam,
                     RotationRules={"AutomaticallyAfterDays": 30})
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == lam
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    expect_error("InvalidParameterException", sm.rotate_secret, SecretId=name,
                 RotationLambdaARN=lam, RotationRules={"AutomaticallyAfterDays": 1001})
    sm.cancel_rotate_secret(SecretId=name)
    assert sm.describe_secret(SecretId=name).get("RotationEnabled", False) is False


def test_replication_not_supported(sm):
    name = unique_name("b3-repl")
    sm.create_secret(Name=name, SecretString="x")
    with pytest.raises(ClientError) as info:
        sm.replicate_secret_to_regions(SecretId=name,
                                       AddReplicaRegions=[{"Region": "eu-west-1"}])
    assert "not supported" in info.value.response["Error"]["Message"].lower()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_errors(sm):
    missing = unique_name("b3-missing")
    expect_error("ResourceNotFoundException", sm.get_secret_value, NOT_FOUND, SecretId=missing)
    name = unique_name("b3-dup")
    sm.create_secret(Name=name, SecretString="x")
    expect_error("ResourceExistsException", sm.create_secret,
                 f"The operation failed because the secret {name} already exists.",
                 Name=name, SecretString="y")
    for bad in ("Inv Name", " Inv*Name? "):
        expect_error("ValidationException", sm.create_secret, INVALID_NAME, Name=bad,
                     SecretString="x")
        expect_error("ValidationException", sm.describe_secret, INVALID_NAME, SecretId=bad)
    # Names that AWS accepts.
    for good in ("Valid/_+=.@-Name-" + uuid.uuid4().hex[:6], "a" * 512):
        assert sm.create_secret(Name=good, SecretString="x")["Name"] == good
        sm.delete_secret(SecretId=good, ForceDeleteWithoutRecovery=True)


def test_value_limits(sm):
    name = unique_name("b3-size")
    sm.create_secret(Name=name, SecretString="q" * 65536)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "q" * 65536
    expect_error("InvalidParameterException", sm.put_secret_value, SecretId=name,
                 SecretString="r" * 65537)
    # Bytes, not characters: 21846 three-byte characters are 65538 bytes.
    expect_error("InvalidParameterException", sm.put_secret_value, SecretId=name,
                 SecretString="\u20ac" * 21846)
    euro = "\u20ac" * 21845 + "a"  # 65536 bytes of UTF-8
    sm.put_secret_value(SecretId=name, SecretString=euro)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == euro
    assert len(sm.list_secret_version_ids(SecretId=name)["Versions"]) == 2


def test_idempotency(sm):
    name = unique_name("b3-idem")
    tok = str(uuid.uuid4())
    a = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=tok)
    b = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=tok)
    assert a["VersionId"] == b["VersionId"] == tok and a["ARN"] == b["ARN"]
    expect_error("ResourceExistsException", sm.put_secret_value, SecretId=name,
                 SecretString="changed", ClientRequestToken=tok)
    again = sm.put_secret_value(SecretId=name, SecretString="v", ClientRequestToken=tok)
    assert again["VersionId"] == tok
    assert stages(sm, name) == {tok: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"


def test_signature_failures(server):
    name = unique_name("b3-sig")
    server.boto3_client().create_secret(Name=name, SecretString="x")
    bad = server.boto3_client(secret_access_key="X" * 40)
    err = expect_error("InvalidSignatureException", bad.get_secret_value, SecretId=name)
    assert err["Message"].startswith("The request signature we calculated does not match the "
                                     "signature you provided.")
    unknown = server.boto3_client(access_key_id="AKIAUNKNOWN000000000")
    expect_error("UnrecognizedClientException", unknown.get_secret_value,
                 "The security token included in the request is invalid.", SecretId=name)


@contextlib.contextmanager
def client_clock(offset):
    """Shifts the clock botocore signs with. With python3-awscrt installed (Debian's awscli pulls
    it in) boto3 signs through botocore.crt.auth, otherwise through botocore.auth: patch both."""
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + offset

    fake = types.SimpleNamespace(datetime=Shifted, timezone=datetime.timezone)
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(botocore.auth, "datetime", fake))
        try:
            import botocore.crt.auth as crt_auth
            stack.enter_context(mock.patch.object(crt_auth, "datetime", fake))
        except ImportError:
            pass
        yield


@pytest.mark.parametrize("minutes,text", [(-10, "Signature expired"),
                                          (10, "Signature not yet current")])
def test_clock_skew(server, minutes, text):
    sm = server.boto3_client()
    name = unique_name("b3-skew")
    sm.create_secret(Name=name, SecretString="x")
    with client_clock(datetime.timedelta(minutes=minutes)):
        err = expect_error("InvalidSignatureException", sm.get_secret_value, SecretId=name)
        assert err["Message"].startswith(text + ": "), err["Message"]
    # Four minutes off is inside the 5-minute window.
    with client_clock(datetime.timedelta(minutes=minutes * 4 // 10)):
        assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"


def test_region_isolation(server):
    us = server.boto3_client(region="us-east-1")
    eu = server.boto3_client(region="eu-west-1")
    name = unique_name("b3-region")
    arn = us.create_secret(Name=name, SecretString="x")["ARN"]
    assert ":us-east-1:" in arn
    expect_error("ResourceNotFoundException", eu.describe_secret, NOT_FOUND, SecretId=name)
    expect_error("ResourceNotFoundException", eu.get_secret_value, SecretId=arn)
    assert eu.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"] == []
    assert [e["ARN"] for e in us.list_secrets(
        Filters=[{"Key": "name", "Values": [name]}])["SecretList"]] == [arn]
