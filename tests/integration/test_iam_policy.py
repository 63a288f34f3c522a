"""IAM through the real aws CLI, and least privilege enforced on Secrets Manager calls.

The seed guide's `aws iam create-policy` runs word for word. A user created with the CLI gets the
guide's ExternalSecretsPolicy (with ACCOUNT_ID filled in, as a reader would) and may then read
ml-platform/* and nothing else; every denial is AccessDeniedException with AWS's message.
"""

import json
import os
import subprocess
import time

import pytest

from conftest import AWS_CLI, DEFAULT_ACCOUNT, unique_name

ACCOUNT = DEFAULT_ACCOUNT
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ExternalSecretsPolicy"

# Copied verbatim from the guide's "Create IAM Role for IRSA" step.
SEED_CREATE_POLICY = """cat > external-secrets-policy.json <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:ListSecrets"
      ],
      "Resource": [
        "arn:aws:secretsmanager:us-east-1:ACCOUNT_ID:secret:ml-platform/*"
      ]
    }
  ]
}
EOF

aws iam create-policy \\
  --policy-name ExternalSecretsPolicy \\
  --policy-document file://external-secrets-policy.json"""


def run_bash(server, script, workdir):
    """Runs `script` with `aws` bound to the real CLI pointed at `server`."""
    prelude = (f'aws() {{ "{AWS_CLI}" --endpoint-url "{server.endpoint}" --output json "$@"; }}\n'
               "set -e\n")
    return subprocess.run(["bash", "-c", prelude + script], cwd=workdir, capture_output=True,
                          env=server.creds_env(), timeout=120, text=True)


def denial(action, resource, why="because no identity-based policy allows the {a} action",
           user=None):
    principal = user or f"arn:aws:iam::{ACCOUNT}:user/esouser"
    return (f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
            + why.format(a=action))


@pytest.fixture(scope="module")
def world(server):
    """The guide's policy, a user holding it with an access key, and a few secrets."""
    workdir = os.path.join(server.work, "iam")
    os.makedirs(workdir, exist_ok=True)
    p = run_bash(server, SEED_CREATE_POLICY, workdir)
    assert p.returncode == 0, p.stderr
    created = json.loads(p.stdout)["Policy"]
    # A reader fills in their account id and publishes that as the policy's new default version.
    doc = open(os.path.join(workdir, "external-secrets-policy.json")).read()
    doc = doc.replace("ACCOUNT_ID", ACCOUNT)
    with open(os.path.join(workdir, "policy-v2.json"), "w") as f:
        f.write(doc)
    server.aws("iam", "create-policy-version", "--policy-arn", POLICY_ARN, "--policy-document",
               "file://policy-v2.json", "--set-as-default", cwd=workdir).ok()
    server.aws("iam", "create-user", "--user-name", "esouser").ok()
    server.aws("iam", "attach-user-policy", "--user-name", "esouser", "--policy-arn",
               POLICY_ARN).ok()
    key = server.aws("iam", "create-access-key", "--user-name", "esouser").ok()["AccessKey"]
    arns = {}
    for name in ("ml-platform/mlflow/database", "ml-platform/feast/database", "other/app/db"):
        arns[name] = server.sm("create-secret", "--name", name, "--secret-string",
                               '{"password":"p"}').ok()["ARN"]
    return {"policy": created, "key": key, "arns": arns, "workdir": workdir}


def as_user(server, world, *args):
    key = world["key"]
    return server.aws(*args, access_key_id=key["AccessKeyId"],
                      secret_access_key=key["SecretAccessKey"])


def test_seed_create_policy_word_for_word(server, world):
    policy = world["policy"]
    assert policy["PolicyName"] == "ExternalSecretsPolicy"
    assert policy["Arn"] == POLICY_ARN
    assert policy["DefaultVersionId"] == "v1"
    assert policy["PolicyId"].startswith("ANPA")
    got = server.aws("iam", "get-policy", "--policy-arn", POLICY_ARN).ok()["Policy"]
    assert got["DefaultVersionId"] == "v2"
    assert got["AttachmentCount"] == 1


def test_policy_versions_round_trip(server, world):
    v1 = server.aws("iam", "get-policy-version", "--policy-arn", POLICY_ARN, "--version-id",
                    "v1").ok()["PolicyVersion"]
    # The CLI url-decodes the document and prints it as JSON.
    stmt = v1["Document"]["Statement"][0]
    assert stmt["Resource"] == ["arn:aws:secretsmanager:us-east-1:ACCOUNT_ID:secret:ml-platform/*"]
    assert v1["IsDefaultVersion"] is False
    v2 = server.aws("iam", "get-policy-version", "--policy-arn", POLICY_ARN, "--version-id",
                    "v2").ok()["PolicyVersion"]
    assert v2["IsDefaultVersion"] is True
    versions = server.aws("iam", "list-policy-versions", "--policy-arn",
                          POLICY_ARN).ok()["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2"]


def test_list_commands(server, world):
    users = server.aws("iam", "list-users").ok()["Users"]
    assert "esouser" in [u["UserName"] for u in users]
    user = server.aws("iam", "get-user", "--user-name", "esouser").ok()["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/esouser"
    keys = server.aws("iam", "list-access-keys", "--user-name", "esouser").ok()
    assert [k["AccessKeyId"] for k in keys["AccessKeyMetadata"]] == [world["key"]["AccessKeyId"]]
    assert keys["AccessKeyMetadata"][0]["Status"] == "Active"
    attached = server.aws("iam", "list-attached-user-policies", "--user-name",
                          "esouser").ok()["AttachedPolicies"]
    assert attached == [{"PolicyName": "ExternalSecretsPolicy", "PolicyArn": POLICY_ARN}]
    local = server.aws("iam", "list-policies", "--scope", "Local").ok()["Policies"]
    assert POLICY_ARN in [p["Arn"] for p in local]


def test_iam_errors(server, world):
    server.aws("iam", "get-user", "--user-name", "nobody").error("NoSuchEntity")
    server.aws("iam", "create-user", "--user-name", "esouser").error("EntityAlreadyExists")
    server.aws("iam", "create-user", "--user-name", "bad/name").error("ValidationError")
    bad = os.path.join(world["workdir"], "bad.json")
    with open(bad, "w") as f:
        f.write('{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"*",'
                '"Resource":"*"}]}')
    server.aws("iam", "create-policy", "--policy-name", "Bad", "--policy-document",
               "file://" + bad).error("MalformedPolicyDocument")
    # A user with a key and an attached policy cannot be deleted yet.
    server.aws("iam", "delete-user", "--user-name", "esouser").error("DeleteConflict")


def test_least_privilege_reads(server, world):
    arns = world["arns"]
    got = as_user(server, world, "secretsmanager", "get-secret-value", "--secret-id",
                  "ml-platform/mlflow/database").ok()
    assert got["SecretString"] == '{"password":"p"}'
    as_user(server, world, "secretsmanager", "describe-secret", "--secret-id",
            "ml-platform/feast/database").ok()
    # ListSecrets is granted on ml-platform/* only: the listing holds just those secrets.
    names = [s["Name"] for s in as_user(server, world, "secretsmanager",
                                        "list-secrets").ok()["SecretList"]]
    assert "ml-platform/mlflow/database" in names and "ml-platform/feast/database" in names
    assert "other/app/db" not in names
    r = as_user(server, world, "secretsmanager", "get-secret-value", "--secret-id", "other/app/db")
    r.error("AccessDeniedException",
            denial("secretsmanager:GetSecretValue", arns["other/app/db"]))


def test_least_privilege_writes_and_iam_denied(server, world):
    arn = world["arns"]["ml-platform/mlflow/database"]
    as_user(server, world, "secretsmanager", "put-secret-value", "--secret-id",
            "ml-platform/mlflow/database", "--secret-string", "x").error(
        "AccessDeniedException", denial("secretsmanager:PutSecretValue", arn))
    as_user(server, world, "secretsmanager", "delete-secret", "--secret-id",
            "ml-platform/mlflow/database").error("AccessDeniedException")
    as_user(server, world, "secretsmanager", "create-secret", "--name", "ml-platform/new",
            "--secret-string", "x").error("AccessDeniedException")
    # A missing secret the user may not read is denied, not "not found": no existence leak.
    as_user(server, world, "secretsmanager", "get-secret-value", "--secret-id",
            "other/missing").error("AccessDeniedException")
    # A missing secret the user may read is "not found".
    as_user(server, world, "secretsmanager", "get-secret-value", "--secret-id",
            "ml-platform/missing").error("ResourceNotFoundException")
    r = as_user(server, world, "iam", "create-user", "--user-name", "mallory")
    r.error("AccessDenied", denial("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/mallory"))


def test_resource_policy_deny_beats_identity_allow(server, world):
    name = "ml-platform/feast/database"
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/esouser"
    deny = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "secretsmanager:*",
        "Resource": "*"}]})
    server.sm("validate-resource-policy", "--resource-policy", deny).ok()
    server.sm("put-resource-policy", "--secret-id", name, "--resource-policy", deny).ok()
    try:
        as_user(server, world, "secretsmanager", "get-secret-value", "--secret-id", name).error(
            "AccessDeniedException",
            denial("secretsmanager:GetSecretValue", world["arns"][name],
                   why="with an explicit deny in a resource-based policy"))
    finally:
        server.sm("delete-resource-policy", "--secret-id", name).ok()
    as_user(server, world, "secretsmanager", "get-secret-value", "--secret-id", name).ok()


def test_resource_policy_checked_for_real(server, world):
    name = "ml-platform/mlflow/database"
    for bad in ('{"Statement": []}', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                '"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}', 'not json'):
        server.sm("put-resource-policy", "--secret-id", name, "--resource-policy",
                  bad).error("MalformedPolicyDocumentException")
        result = server.sm("validate-resource-policy", "--resource-policy", bad).ok()
        assert result["PolicyValidationPassed"] is False
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
        "Resource": "*"}]})
    server.sm("put-resource-policy", "--secret-id", name, "--resource-policy", public,
              "--block-public-policy").error("PublicPolicyException")


def test_condition_on_resource_tag(server, new_server):
    s = new_server()
    s.aws("iam", "create-user", "--user-name", "tagged").ok()
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
        "Condition": {"StringEquals": {"secretsmanager:ResourceTag/team": "ml"}}}]})
    s.aws("iam", "put-user-policy", "--user-name", "tagged", "--policy-name", "by-tag",
          "--policy-document", doc).ok()
    key = s.aws("iam", "create-access-key", "--user-name", "tagged").ok()["AccessKey"]
    s.sm("create-secret", "--name", "t/ml", "--secret-string", "a", "--tags",
         "Key=team,Value=ml").ok()
    s.sm("create-secret", "--name", "t/web", "--secret-string", "b", "--tags",
         "Key=team,Value=web").ok()
    creds = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
    assert s.sm("get-secret-value", "--secret-id", "t/ml", **creds).ok()["SecretString"] == "a"
    s.sm("get-secret-value", "--secret-id", "t/web", **creds).error("AccessDeniedException")


def test_iam_admin_user_and_key_lifecycle(server, new_server):
    s = new_server()
    s.aws("iam", "create-user", "--user-name", "admin").ok()
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]})
    s.aws("iam", "put-user-policy", "--user-name", "admin", "--policy-name", "iam-admin",
          "--policy-document", doc).ok()
    key = s.aws("iam", "create-access-key", "--user-name", "admin").ok()["AccessKey"]
    creds = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
    # iam:* lets the user manage IAM, and nothing else.
    s.aws("iam", "create-user", "--user-name", "bob", **creds).ok()
    s.aws("iam", "delete-user", "--user-name", "bob", **creds).ok()
    s.sm("list-secrets", **creds).error("AccessDeniedException")
    # A deactivated key stops working at once; a reactivated one works again.
    s.aws("iam", "update-access-key", "--user-name", "admin", "--access-key-id",
          key["AccessKeyId"], "--status", "Inactive").ok()
    s.aws("iam", "list-users", **creds).error("InvalidClientTokenId")
    s.aws("iam", "update-access-key", "--user-name", "admin", "--access-key-id",
          key["AccessKeyId"], "--status", "Active").ok()
    s.aws("iam", "list-users", **creds).ok()
    # Tear down in the order IAM requires.
    s.aws("iam", "delete-user-policy", "--user-name", "admin", "--policy-name",
          "iam-admin").ok()
    s.aws("iam", "delete-access-key", "--user-name", "admin", "--access-key-id",
          key["AccessKeyId"]).ok()
    s.aws("iam", "delete-user", "--user-name", "admin").ok()
    s.aws("iam", "list-users", **creds).error("InvalidClientTokenId")


def test_detach_and_delete_policy(server, new_server):
    s = new_server()
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"}]})
    arn = s.aws("iam", "create-policy", "--policy-name", "Lister", "--policy-document",
                doc).ok()["Policy"]["Arn"]
    s.aws("iam", "create-user", "--user-name", "u1").ok()
    s.aws("iam", "attach-user-policy", "--user-name", "u1", "--policy-arn", arn).ok()
    s.aws("iam", "delete-policy", "--policy-arn", arn).error("DeleteConflict")
    s.aws("iam", "detach-user-policy", "--user-name", "u1", "--policy-arn", arn).ok()
    assert s.aws("iam", "list-attached-user-policies", "--user-name",
                 "u1").ok()["AttachedPolicies"] == []
    s.aws("iam", "delete-policy", "--policy-arn", arn).ok()
    s.aws("iam", "get-policy", "--policy-arn", arn).error("NoSuchEntity")
    s.aws("iam", "delete-user", "--user-name", "u1").ok()


def test_boto3_iam_and_denial(server, world):
    import boto3
    iam = boto3.session.Session().client(
        "iam", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key)
    names = [u["UserName"] for u in iam.list_users()["Users"]]
    assert "esouser" in names
    sm = server.boto3_client(access_key_id=world["key"]["AccessKeyId"],
                             secret_access_key=world["key"]["SecretAccessKey"])
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.get_secret_value(SecretId="other/app/db")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_sts_get_caller_identity(server, world):
    root = server.aws("sts", "get-caller-identity").ok()
    assert root == {"UserId": ACCOUNT, "Account": ACCOUNT,
                    "Arn": f"arn:aws:iam::{ACCOUNT}:root"}
    user = as_user(server, world, "sts", "get-caller-identity").ok()
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/esouser"
    assert user["UserId"].startswith("AIDA")
    assert user["Account"] == ACCOUNT
