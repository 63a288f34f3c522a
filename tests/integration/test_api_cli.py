"""Every Secrets Manager operation Debian's aws CLI v2 (2.9.19) knows, against coffer.

One server for the module; every test uses its own secret names. Error paths assert AWS's exact
error codes (and messages, where the reference gives them).
"""

import base64
import datetime
import json
import os
import uuid


from conftest import DEFAULT_ACCOUNT, unique_name

NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_FOR_DELETION = ("You can't perform this operation on the secret because it was marked for "
                       "deletion.")
SCHEDULED_FOR_DELETION = ("You can't create this secret because a secret with this name is "
                          "already scheduled for deletion.")
INVALID_NAME = ("Invalid name. Must be a valid name containing alphanumeric characters, or any of "
                "the following: -/_+=.@!")
BAD_SIGNATURE_PREFIX = ("The request signature we calculated does not match the signature you "
                        "provided.")


def ts(value):
    """CLI v2 prints timestamps as ISO 8601; they must parse and be timezone-aware."""
    d = datetime.datetime.fromisoformat(value)
    assert d.tzinfo is not None, value
    return d


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def create(server, name, value="initial-value", *extra):
    out = server.sm("create-secret", "--name", name, "--secret-string", value, *extra).ok()
    assert out["Name"] == name
    return out


def get(server, secret_id, *extra, **kw):
    return server.sm("get-secret-value", "--secret-id", secret_id, *extra, **kw).ok()


def describe(server, secret_id, **kw):
    return server.sm("describe-secret", "--secret-id", secret_id, **kw).ok()


def test_create_and_get_by_name_full_arn_and_partial_arn(server):
    name = unique_name("cli-get")
    out = create(server, name, '{"user":"u","password":"p@ss w0rd"}')
    arn = out["ARN"]
    prefix = f"arn:aws:secretsmanager:us-east-1:{DEFAULT_ACCOUNT}:secret:{name}-"
    assert arn.startswith(prefix) and len(arn) == len(prefix) + 6
    assert arn[-6:].isalnum()
    for secret_id in (name, arn, arn[:-7]):
        got = get(server, secret_id)
        assert got["SecretString"] == '{"user":"u","password":"p@ss w0rd"}'
        assert got["ARN"] == arn
        assert got["Name"] == name
        assert got["VersionId"] == out["VersionId"]
        assert got["VersionStages"] == ["AWSCURRENT"]
        assert "SecretBinary" not in got
        assert ts(got["CreatedDate"]) <= now() + datetime.timedelta(seconds=5)


def test_binary_secret_via_fileb(server, tmp_path):
    name = unique_name("cli-bin")
    blob = bytes(range(256)) + os.urandom(300)
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    out = server.sm("create-secret", "--name", name, "--secret-binary", f"fileb://{path}").ok()
    got = get(server, name)
    assert base64.b64decode(got["SecretBinary"]) == blob
    assert "SecretString" not in got
    assert got["VersionId"] == out["VersionId"]

    blob2 = os.urandom(1024)
    path.write_bytes(blob2)
    put = server.sm("put-secret-value", "--secret-id", name, "--secret-binary",
                    f"fileb://{path}").ok()
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert base64.b64decode(get(server, name)["SecretBinary"]) == blob2
    prev = get(server, name, "--version-stage", "AWSPREVIOUS")
    assert base64.b64decode(prev["SecretBinary"]) == blob


def test_create_with_description_and_tags_then_describe(server):
    name = unique_name("cli-desc")
    before = now() - datetime.timedelta(seconds=5)
    out = create(server, name, "v1", "--description", "Feature store DB",
                 "--tags", "Key=team,Value=ml", "Key=env,Value=prod")
    d = describe(server, name)
    assert d["ARN"] == out["ARN"]
    assert d["Name"] == name
    assert d["Description"] == "Feature store DB"
    assert sorted(d["Tags"], key=lambda t: t["Key"]) == [{"Key": "env", "Value": "prod"},
                                                        {"Key": "team", "Value": "ml"}]
    assert d["VersionIdsToStages"] == {out["VersionId"]: ["AWSCURRENT"]}
    after = now() + datetime.timedelta(seconds=5)
    for field in ("CreatedDate", "LastChangedDate"):
        assert before <= ts(d[field]) <= after, field
    assert "DeletedDate" not in d
    assert not d.get("RotationEnabled", False)


def test_create_without_value_then_first_put(server):
    name = unique_name("cli-empty")
    server.sm("create-secret", "--name", name).ok()
    d = describe(server, name)
    assert "VersionIdsToStages" not in d
    server.sm("get-secret-value", "--secret-id", name).error(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
    put = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "first").ok()
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert get(server, name)["SecretString"] == "first"
    assert describe(server, name)["VersionIdsToStages"] == {put["VersionId"]: ["AWSCURRENT"]}


def test_put_secret_value_moves_current_and_previous(server):
    name = unique_name("cli-labels")
    v1 = create(server, name, "one")["VersionId"]
    server.sm("get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS").error(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS")
    p2 = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "two").ok()
    v2 = p2["VersionId"]
    assert p2["Name"] == name and p2["VersionStages"] == ["AWSCURRENT"]
    assert describe(server, name)["VersionIdsToStages"] == {v2: ["AWSCURRENT"],
                                                           v1: ["AWSPREVIOUS"]}
    v3 = server.sm("put-secret-value", "--secret-id", name, "--secret-string",
                   "three").ok()["VersionId"]
    assert len({v1, v2, v3}) == 3
    # v1 lost its last label: deprecated, gone from VersionIdsToStages.
    assert describe(server, name)["VersionIdsToStages"] == {v3: ["AWSCURRENT"],
                                                           v2: ["AWSPREVIOUS"]}
    assert get(server, name)["SecretString"] == "three"
    prev = get(server, name, "--version-stage", "AWSPREVIOUS")
    assert (prev["SecretString"], prev["VersionId"], prev["VersionStages"]) == \
        ("two", v2, ["AWSPREVIOUS"])
    old = get(server, name, "--version-id", v1)
    assert old["SecretString"] == "one" and old.get("VersionStages", []) == []
    both = get(server, name, "--version-id", v2, "--version-stage", "AWSPREVIOUS")
    assert both["SecretString"] == "two"
    server.sm("get-secret-value", "--secret-id", name, "--version-id", v2, "--version-stage",
              "AWSCURRENT").error(
        "InvalidRequestException",
        "You provided a VersionStage that is not associated to the provided VersionId.")
    missing = str(uuid.uuid4())
    server.sm("get-secret-value", "--secret-id", name, "--version-id", missing).error(
        "ResourceNotFoundException",
        f"Secrets Manager can't find the specified secret value for VersionId: {missing}")

    listed = server.sm("list-secret-version-ids", "--secret-id", name).ok()
    assert listed["Name"] == name
    assert {v["VersionId"]: v["VersionStages"] for v in listed["Versions"]} == \
        {v3: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}
    for v in listed["Versions"]:
        ts(v["CreatedDate"])
    all_versions = server.sm("list-secret-version-ids", "--secret-id", name,
                             "--include-deprecated").ok()["Versions"]
    by_id = {v["VersionId"]: v for v in all_versions}
    assert set(by_id) == {v1, v2, v3}
    assert "VersionStages" not in by_id[v1] or by_id[v1]["VersionStages"] == []


def test_put_secret_value_with_custom_version_stages(server):
    name = unique_name("cli-stages")
    v1 = create(server, name, "current-value")["VersionId"]
    p = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "staged",
                  "--version-stages", "STAGE1", "STAGE0").ok()
    assert sorted(p["VersionStages"]) == ["STAGE0", "STAGE1"]
    # AWSCURRENT stays put when the new version does not take it.
    cur = get(server, name)
    assert (cur["SecretString"], cur["VersionId"]) == ("current-value", v1)
    staged = get(server, name, "--version-stage", "STAGE1")
    assert staged["SecretString"] == "staged" and staged["VersionId"] == p["VersionId"]
    # A label lives on one version only: putting STAGE1 again moves it.
    p2 = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "staged-2",
                   "--version-stages", "STAGE1").ok()
    assert describe(server, name)["VersionIdsToStages"] == {
        v1: ["AWSCURRENT"], p["VersionId"]: ["STAGE0"], p2["VersionId"]: ["STAGE1"]}
    pending = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "pending",
                        "--version-stages", "AWSPENDING").ok()
    assert pending["VersionStages"] == ["AWSPENDING"]
    assert get(server, name)["SecretString"] == "current-value"
    assert get(server, name, "--version-stage", "AWSPENDING")["SecretString"] == "pending"


def test_update_secret_description_only_and_value(server):
    name = unique_name("cli-update")
    v1 = create(server, name, "v1", "--description", "old")["VersionId"]
    out = server.sm("update-secret", "--secret-id", name, "--description", "new desc").ok()
    assert out["Name"] == name and "ARN" in out
    assert "VersionId" not in out  # no new version for a metadata-only update
    d = describe(server, name)
    assert d["Description"] == "new desc"
    assert d["VersionIdsToStages"] == {v1: ["AWSCURRENT"]}
    out = server.sm("update-secret", "--secret-id", name, "--secret-string", "v2").ok()
    v2 = out["VersionId"]
    assert v2 != v1
    assert get(server, name)["SecretString"] == "v2"
    assert describe(server, name)["VersionIdsToStages"] == {v2: ["AWSCURRENT"],
                                                           v1: ["AWSPREVIOUS"]}


def test_update_secret_version_stage(server):
    name = unique_name("cli-uvs")
    v1 = create(server, name, "one")["VersionId"]
    v2 = server.sm("put-secret-value", "--secret-id", name, "--secret-string",
                   "two").ok()["VersionId"]
    # AWSCURRENT is on v2: moving it without naming v2 in --remove-from-version-id fails.
    r = server.sm("update-secret-version-stage", "--secret-id", name, "--version-stage",
                  "AWSCURRENT", "--move-to-version-id", v1)
    r.error("InvalidParameterException")
    assert describe(server, name)["VersionIdsToStages"] == {v2: ["AWSCURRENT"],
                                                           v1: ["AWSPREVIOUS"]}
    out = server.sm("update-secret-version-stage", "--secret-id", name, "--version-stage",
                    "AWSCURRENT", "--move-to-version-id", v1, "--remove-from-version-id",
                    v2).ok()
    assert out["Name"] == name and "ARN" in out
    assert describe(server, name)["VersionIdsToStages"] == {v1: ["AWSCURRENT"],
                                                           v2: ["AWSPREVIOUS"]}
    assert get(server, name)["SecretString"] == "one"
    # A custom label added and then removed (no --move-to-version-id).
    server.sm("update-secret-version-stage", "--secret-id", name, "--version-stage", "BLUE",
              "--move-to-version-id", v2).ok()
    assert sorted(describe(server, name)["VersionIdsToStages"][v2]) == ["AWSPREVIOUS", "BLUE"]
    server.sm("update-secret-version-stage", "--secret-id", name, "--version-stage", "BLUE",
              "--remove-from-version-id", v2).ok()
    assert describe(server, name)["VersionIdsToStages"] == {v1: ["AWSCURRENT"],
                                                           v2: ["AWSPREVIOUS"]}


def test_list_secrets_filters(server):
    tag_key = "cli-tk-" + uuid.uuid4().hex[:8]
    prefix = unique_name("cli-filt")
    a = create(server, prefix + "/alpha", "x", "--description", "Alpha database creds",
               "--tags", f"Key={tag_key},Value=blue")
    b = create(server, prefix + "/beta", "x", "--description", "Beta cache")
    c = create(server, prefix.upper() + "/gamma", "x")

    def names(*filters):
        out = server.sm("list-secrets", "--filters", *filters).ok()
        return sorted(e["Name"] for e in out["SecretList"])

    assert names(f"Key=name,Values={prefix}") == [a["Name"], b["Name"]]  # case-sensitive prefix
    assert names(f"Key=name,Values={prefix.upper()}") == [c["Name"]]
    assert names(f"Key=tag-key,Values={tag_key}") == [a["Name"]]
    assert names("Key=tag-value,Values=blue", f"Key=name,Values={prefix}") == [a["Name"]]
    assert names(f"Key=name,Values={prefix}", "Key=description,Values=alpha") == [a["Name"]]
    entry = server.sm("list-secrets", "--filters", f"Key=tag-key,Values={tag_key}").ok()
    (e,) = entry["SecretList"]
    assert e["ARN"] == a["ARN"]
    assert e["Description"] == "Alpha database creds"
    assert e["Tags"] == [{"Key": tag_key, "Value": "blue"}]
    assert e["SecretVersionsToStages"] == {a["VersionId"]: ["AWSCURRENT"]}
    ts(e["CreatedDate"])


def test_list_secrets_pagination_and_sort(server):
    prefix = unique_name("cli-page")
    created = [create(server, f"{prefix}/s{i}", "x")["Name"] for i in range(5)]
    flt = f"Key=name,Values={prefix}/"

    # One page at a time: MaxResults is honoured and NextToken handed out.
    first = server.sm("list-secrets", "--filters", flt, "--no-paginate", "--max-results",
                      "2").ok()
    assert len(first["SecretList"]) == 2 and first.get("NextToken")

    # The CLI follows NextToken across three pages of two.
    all_pages = server.sm("list-secrets", "--filters", flt, "--page-size", "2",
                          "--sort-order", "asc").ok()
    assert [e["Name"] for e in all_pages["SecretList"]] == created
    assert "NextToken" not in all_pages
    desc = server.sm("list-secrets", "--filters", flt, "--page-size", "2",
                     "--sort-order", "desc").ok()
    assert [e["Name"] for e in desc["SecretList"]] == created[::-1]

    # --max-items 3 across pages of 2, then resume with --starting-token.
    part = server.sm("list-secrets", "--filters", flt, "--page-size", "2", "--max-items", "3",
                     "--sort-order", "asc").ok()
    assert [e["Name"] for e in part["SecretList"]] == created[:3]
    rest = server.sm("list-secrets", "--filters", flt, "--page-size", "2", "--sort-order", "asc",
                     "--starting-token", part["NextToken"]).ok()
    assert [e["Name"] for e in rest["SecretList"]] == created[3:]

    server.sm("list-secrets", "--no-paginate", "--next-token", "not-a-token").error(
        "InvalidNextTokenException")


def test_delete_recovery_window_restore_and_force(server):
    name = unique_name("cli-del")
    first = create(server, name, "keep-me")
    out = server.sm("delete-secret", "--secret-id", name, "--recovery-window-in-days", "7").ok()
    assert out["Name"] == name and out["ARN"] == first["ARN"]
    deletion = ts(out["DeletionDate"])
    assert abs((deletion - now()) - datetime.timedelta(days=7)) < datetime.timedelta(minutes=2)

    d = describe(server, name)
    assert "DeletedDate" in d
    server.sm("get-secret-value", "--secret-id", name).error("InvalidRequestException",
                                                             MARKED_FOR_DELETION)
    server.sm("put-secret-value", "--secret-id", name, "--secret-string", "x").error(
        "InvalidRequestException", MARKED_FOR_DELETION)
    server.sm("update-secret", "--secret-id", name, "--secret-string", "x").error(
        "InvalidRequestException", MARKED_FOR_DELETION)
    server.sm("tag-resource", "--secret-id", name, "--tags", "Key=a,Value=b").error(
        "InvalidRequestException", MARKED_FOR_DELETION)
    server.sm("create-secret", "--name", name, "--secret-string", "x").error(
        "InvalidRequestException", SCHEDULED_FOR_DELETION)
    flt = f"Key=name,Values={name}"
    assert server.sm("list-secrets", "--filters", flt).ok()["SecretList"] == []
    planned = server.sm("list-secrets", "--filters", flt, "--include-planned-deletion").ok()
    assert [e["Name"] for e in planned["SecretList"]] == [name]
    assert "DeletedDate" in planned["SecretList"][0]

    restored = server.sm("restore-secret", "--secret-id", name).ok()
    assert restored == {"ARN": first["ARN"], "Name": name}
    assert get(server, name)["SecretString"] == "keep-me"
    assert "DeletedDate" not in describe(server, name)

    server.sm("delete-secret", "--secret-id", name, "--recovery-window-in-days", "6").error(
        "InvalidParameterException",
        "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
    server.sm("delete-secret", "--secret-id", name, "--recovery-window-in-days", "7",
              "--force-delete-without-recovery").error(
        "InvalidParameterException",
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")

    forced = server.sm("delete-secret", "--secret-id", name,
                       "--force-delete-without-recovery").ok()
    assert abs(ts(forced["DeletionDate"]) - now()) < datetime.timedelta(minutes=2)
    server.sm("describe-secret", "--secret-id", name).error("ResourceNotFoundException",
                                                            NOT_FOUND)
    server.sm("get-secret-value", "--secret-id", name).error("ResourceNotFoundException",
                                                             NOT_FOUND)
    # The name is free again, with a new ARN suffix.
    again = create(server, name, "new-life")
    assert again["ARN"] != first["ARN"]
    assert get(server, name)["SecretString"] == "new-life"
    # Force-deleting something that does not exist succeeds (documented AWS behaviour).
    ghost = unique_name("cli-ghost")
    out = server.sm("delete-secret", "--secret-id", ghost, "--force-delete-without-recovery").ok()
    assert out["Name"] == ghost


def test_tag_and_untag(server):
    name = unique_name("cli-tags")
    create(server, name, "x", "--tags", "Key=a,Value=1")
    assert server.sm("tag-resource", "--secret-id", name, "--tags", "Key=b,Value=2",
                     "Key=a,Value=one").ok() is None  # no output shape
    tags = {t["Key"]: t["Value"] for t in describe(server, name)["Tags"]}
    assert tags == {"a": "one", "b": "2"}
    server.sm("untag-resource", "--secret-id", name, "--tag-keys", "a", "not-there").ok()
    assert describe(server, name)["Tags"] == [{"Key": "b", "Value": "2"}]
    server.sm("untag-resource", "--secret-id", name, "--tag-keys", "b").ok()
    assert "Tags" not in describe(server, name)
    server.sm("tag-resource", "--secret-id", unique_name("cli-nope"), "--tags",
              "Key=a,Value=b").error("ResourceNotFoundException", NOT_FOUND)


def test_get_random_password(server):
    import string
    pw = server.sm("get-random-password").ok()["RandomPassword"]
    assert len(pw) == 32
    for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits,
                  string.punctuation):
        assert any(c in chars for c in pw), chars
    assert set(pw) <= set(string.ascii_letters + string.digits + string.punctuation)

    pw = server.sm("get-random-password", "--password-length", "120", "--exclude-characters",
                   "xyzDje@?!.").ok()["RandomPassword"]
    assert len(pw) == 120 and not set(pw) & set("xyzDje@?!.")

    pw = server.sm("get-random-password", "--password-length", "64", "--exclude-punctuation",
                   "--exclude-uppercase").ok()["RandomPassword"]
    assert len(pw) == 64 and set(pw) <= set(string.ascii_lowercase + string.digits)
    assert any(c in string.digits for c in pw) and any(c.islower() for c in pw)

    # 400 characters from 27: without a space only with probability (26/27)^400 < 1e-6.
    pw = server.sm("get-random-password", "--password-length", "400", "--exclude-numbers",
                   "--exclude-lowercase", "--exclude-punctuation",
                   "--include-space").ok()["RandomPassword"]
    assert len(pw) == 400 and set(pw) <= set(string.ascii_uppercase + " ") and " " in pw
    assert len({server.sm("get-random-password").ok()["RandomPassword"] for _ in range(2)}) == 2


def test_resource_policy_put_get_validate_delete(server):
    name = unique_name("cli-policy")
    arn = create(server, name, "x")["ARN"]
    assert "ResourcePolicy" not in server.sm("get-resource-policy", "--secret-id", name).ok()
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/mlflow"},
                       "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    v = server.sm("validate-resource-policy", "--secret-id", name, "--resource-policy",
                  policy).ok()
    assert v["PolicyValidationPassed"] is True
    assert v.get("ValidationErrors", []) == []
    out = server.sm("put-resource-policy", "--secret-id", name, "--resource-policy",
                    policy).ok()
    assert out == {"ARN": arn, "Name": name}
    got = server.sm("get-resource-policy", "--secret-id", name).ok()
    assert got["ARN"] == arn and got["Name"] == name
    assert json.loads(got["ResourcePolicy"]) == json.loads(policy)
    server.sm("put-resource-policy", "--secret-id", name, "--resource-policy",
              '{"Version": "2012-10-17", "Statement": [').error(
        "MalformedPolicyDocumentException")
    out = server.sm("delete-resource-policy", "--secret-id", name).ok()
    assert out == {"ARN": arn, "Name": name}
    assert "ResourcePolicy" not in server.sm("get-resource-policy", "--secret-id", name).ok()


def test_rotate_and_cancel_rotation(server):
    name = unique_name("cli-rot")
    create(server, name, "x")
    server.sm("rotate-secret", "--secret-id", name).error(
        "InvalidRequestException", "No Lambda rotation function ARN is associated with this "
                                   "secret.")
    assert not describe(server, name).get("RotationEnabled", False)
    lam = f"arn:aws:lambda:us-east-1:{DEFAULT_ACCOUNT}:function:rotate-db"
    out = server.sm("rotate-secret", "--secret-id", name, "--rotation-lambda-arn", lam,
                    "--rotation-rules", "AutomaticallyAfterDays=30").ok()
    assert out["Name"] == name and "ARN" in out
    d = describe(server, name)
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == lam
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    out = server.sm("cancel-rotate-secret", "--secret-id", name).ok()
    assert out["Name"] == name
    assert describe(server, name).get("RotationEnabled", False) is False
    assert get(server, name)["SecretString"] == "x"


def test_replication_is_a_clear_error(server):
    name = unique_name("cli-repl")
    create(server, name, "x")
    for args in (("replicate-secret-to-regions", "--secret-id", name, "--add-replica-regions",
                  "Region=eu-west-1"),
                 ("remove-regions-from-replication", "--secret-id", name,
                  "--remove-replica-regions", "eu-west-1"),
                 ("stop-replication-to-replica", "--secret-id", name)):
        r = server.sm(*args)
        assert r.rc == 254 and r.error_code is not None, r.stderr
        assert "not supported" in r.error_message.lower(), r.error_message
        assert "replica" in r.error_message.lower(), r.error_message
    assert "ReplicationStatus" not in describe(server, name)


def test_not_found_already_exists_and_bad_name(server):
    missing = unique_name("cli-missing")
    for args in (("get-secret-value", "--secret-id", missing),
                 ("describe-secret", "--secret-id", missing),
                 ("put-secret-value", "--secret-id", missing, "--secret-string", "x"),
                 ("update-secret", "--secret-id", missing, "--description", "d"),
                 ("list-secret-version-ids", "--secret-id", missing),
                 ("delete-secret", "--secret-id", missing),
                 ("restore-secret", "--secret-id", missing)):
        server.sm(*args).error("ResourceNotFoundException", NOT_FOUND)
    name = unique_name("cli-dup")
    create(server, name, "x")
    server.sm("create-secret", "--name", name, "--secret-string", "y").error(
        "ResourceExistsException", f"The operation failed because the secret {name} already "
                                   "exists.")
    assert get(server, name)["SecretString"] == "x"
    server.sm("create-secret", "--name", "Inv Name", "--secret-string", "x").error(
        "ValidationException", INVALID_NAME)
    server.sm("get-secret-value", "--secret-id", "Inv Name").error("ValidationException",
                                                                   INVALID_NAME)
    server.sm("create-secret", "--name", "bad*name?", "--secret-string", "x").error(
        "ValidationException", INVALID_NAME)
    # Over the 512-character name limit: a model-constraint failure (AWS's code for those is
    # ValidationException; InvalidParameterException is accepted too), and nothing is created.
    too_long = "x" * 513
    r = server.sm("create-secret", "--name", too_long, "--secret-string", "x")
    assert r.rc == 254 and r.error_code in ("ValidationException", "InvalidParameterException"), \
        r.stderr
    assert server.sm("describe-secret", "--secret-id", too_long).rc == 254


def test_bad_signature_and_unknown_access_key(server):
    name = unique_name("cli-auth")
    create(server, name, "x")
    r = server.sm("get-secret-value", "--secret-id", name,
                  secret_access_key="wrongSecretKey0123456789abcdefghijklmnopq")
    r.error("InvalidSignatureException")
    assert r.error_message.startswith(BAD_SIGNATURE_PREFIX), r.error_message
    assert r.stdout.strip() == ""
    server.sm("get-secret-value", "--secret-id", name,
              access_key_id="AKIAUNKNOWNKEY000000").error(
        "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_value_size_limits(server, tmp_path):
    name = unique_name("cli-size")
    big = tmp_path / "big.txt"
    big.write_text("a" * 65536)
    server.sm("create-secret", "--name", name, "--secret-string", f"file://{big}").ok()
    assert get(server, name)["SecretString"] == "a" * 65536
    big.write_text("b" * 65537)
    server.sm("put-secret-value", "--secret-id", name, "--secret-string",
              f"file://{big}").error("InvalidParameterException")
    assert get(server, name)["SecretString"] == "a" * 65536
    too_big = unique_name("cli-size")
    server.sm("create-secret", "--name", too_big, "--secret-string",
              f"file://{big}").error("InvalidParameterException")
    server.sm("describe-secret", "--secret-id", too_big).error("ResourceNotFoundException")
    blob = tmp_path / "big.bin"
    blob.write_bytes(os.urandom(65536))
    server.sm("put-secret-value", "--secret-id", name, "--secret-binary",
              f"fileb://{blob}").ok()
    assert base64.b64decode(get(server, name)["SecretBinary"]) == blob.read_bytes()
    blob.write_bytes(os.urandom(65537))
    server.sm("put-secret-value", "--secret-id", name, "--secret-binary",
              f"fileb://{blob}").error("InvalidParameterException")


def test_client_request_token_idempotency(server):
    name = unique_name("cli-idem")
    tok = str(uuid.uuid4())
    first = server.sm("create-secret", "--name", name, "--secret-string", "v1",
                      "--client-request-token", tok).ok()
    assert first["VersionId"] == tok
    # Retrying the same create (same token, same value) is a success with the same version.
    again = server.sm("create-secret", "--name", name, "--secret-string", "v1",
                      "--client-request-token", tok).ok()
    assert again["VersionId"] == tok and again["ARN"] == first["ARN"]

    tok2 = str(uuid.uuid4())
    put = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "v2",
                    "--client-request-token", tok2).ok()
    assert put["VersionId"] == tok2
    put_again = server.sm("put-secret-value", "--secret-id", name, "--secret-string", "v2",
                          "--client-request-token", tok2).ok()
    assert put_again["VersionId"] == tok2
    versions = server.sm("list-secret-version-ids", "--secret-id", name,
                         "--include-deprecated").ok()["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([tok, tok2])
    # Same token, different value: a version can't be modified.
    server.sm("put-secret-value", "--secret-id", name, "--secret-string", "other",
              "--client-request-token", tok2).error("ResourceExistsException")
    server.sm("create-secret", "--name", name, "--secret-string", "other",
              "--client-request-token", tok).error("ResourceExistsException")
    assert get(server, name)["SecretString"] == "v2"
    assert get(server, name, "--version-id", tok)["SecretString"] == "v1"


def test_region_isolation(server):
    name = unique_name("cli-region")
    us = server.sm("create-secret", "--name", name, "--secret-string", "in-us",
                   region="us-east-1").ok()
    assert us["ARN"].startswith(f"arn:aws:secretsmanager:us-east-1:{DEFAULT_ACCOUNT}:secret:")
    server.sm("get-secret-value", "--secret-id", name, region="eu-west-1").error(
        "ResourceNotFoundException", NOT_FOUND)
    server.sm("get-secret-value", "--secret-id", us["ARN"], region="eu-west-1").error(
        "ResourceNotFoundException")
    flt = f"Key=name,Values={name}"
    assert server.sm("list-secrets", "--filters", flt, region="eu-west-1").ok()["SecretList"] \
        == []
    eu = server.sm("create-secret", "--name", name, "--secret-string", "in-eu",
                   region="eu-west-1").ok()
    assert eu["ARN"].startswith(f"arn:aws:secretsmanager:eu-west-1:{DEFAULT_ACCOUNT}:secret:")
    assert get(server, name, region="eu-west-1")["SecretString"] == "in-eu"
    assert get(server, name, region="us-east-1")["SecretString"] == "in-us"
    assert get(server, name, region="eu-west-1")["ARN"] == eu["ARN"]


def test_region_and_account_flags(new_server):
    s = new_server(region="eu-central-1", account_id="123456789012",
                   allowed_regions=["eu-central-1", "eu-west-1"])
    name = unique_name("cli-flags")
    out = s.sm("create-secret", "--name", name, "--secret-string", "x").ok()
    assert out["ARN"].startswith(f"arn:aws:secretsmanager:eu-central-1:123456789012:secret:"
                                 f"{name}-")
    out = s.sm("create-secret", "--name", name, "--secret-string", "x",
               region="eu-west-1").ok()
    assert out["ARN"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:")
    # A region outside the allow-list is refused, and nothing is created there.
    r = s.sm("create-secret", "--name", name, "--secret-string", "x", region="ap-south-1")
    r.error("InvalidSignatureException")
    assert r.error_message.startswith("Credential should be scoped to a valid region"), \
        r.error_message
