"""Every `aws secretsmanager ...` command of the seed guide, word for word, against coffer.

The snippets below are copied verbatim from shared/seed/secrets-management-guide.md (a test checks
that each still appears there, when the guide is reachable) and run through bash as written. The
only additions are the ones a self-hosted endpoint needs: `aws` is a shell function that calls
Debian's CLI v2 with --endpoint-url, the region comes from AWS_DEFAULT_REGION, and the openssl
command gets -subj so that it does not prompt.
"""

import base64
import json
import os
import subprocess

import pytest

from conftest import AWS_CLI

GUIDE_CANDIDATES = [
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "seed",
                 "secrets-management-guide.md"),
    "/work/shared/seed/secrets-management-guide.md",
]

MLFLOW_DATABASE = """aws secretsmanager create-secret \\
  --name ml-platform/mlflow/database \\
  --description "MLflow database credentials" \\
  --secret-string '{"password":"STRONG_PASSWORD_HERE"}'"""

MLFLOW_S3 = """aws secretsmanager create-secret \\
  --name ml-platform/mlflow/s3 \\
  --secret-string '{"access_key":"ACCESS_KEY","secret_key":"SECRET_KEY"}'"""

FEAST_DATABASE = """aws secretsmanager create-secret \\
  --name ml-platform/feast/database \\
  --secret-string '{"password":"STRONG_PASSWORD_HERE"}'"""

AIRFLOW_FERNET = """FERNET_KEY=$(python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")
aws secretsmanager create-secret \\
  --name ml-platform/airflow/fernet \\
  --secret-string "{\\"key\\":\\"$FERNET_KEY\\"}\""""

API_KEYS_ONE_LINE = """aws secretsmanager create-secret \\
  --name ml-platform/api-keys \\
  --secret-string '{"openai":"sk-...","huggingface":"hf_..."}'"""

UPDATE_MLFLOW_DATABASE = """aws secretsmanager update-secret \\
  --secret-id ml-platform/mlflow/database \\
  --secret-string '{"password":"NEW_PASSWORD"}'"""

POSTGRES_MLFLOW = """aws secretsmanager create-secret \\
  --name ml-platform/postgres/mlflow \\
  --secret-string '{"username":"mlflow","password":"STRONG_PASS"}'"""

REDIS_FEAST = """aws secretsmanager create-secret \\
  --name ml-platform/redis/feast \\
  --secret-string '{"password":"STRONG_PASS"}'"""

API_KEYS_MULTI_LINE = """aws secretsmanager create-secret \\
  --name ml-platform/api-keys \\
  --secret-string '{
    "openai": "sk-...",
    "huggingface": "hf_...",
    "github": "ghp_...",
    "wandb": "..."
  }'"""

OPENSSL_TLS = """openssl req -x509 -nodes -days 365 -newkey rsa:2048 \\
  -keyout tls.key -out tls.crt"""
OPENSSL_NO_PROMPT = ' -subj "/CN=ingress.ml-platform.local"'

TLS_INGRESS = """aws secretsmanager create-secret \\
  --name ml-platform/tls/ingress \\
  --secret-string "{
    \\"tls.crt\\": \\"$(cat tls.crt | base64)\\",
    \\"tls.key\\": \\"$(cat tls.key | base64)\\"
  }\""""

SSH_KEYGEN = """ssh-keygen -t rsa -b 4096 -f git_deploy_key -N \"\""""

GIT_DEPLOY_KEY = """aws secretsmanager create-secret \\
  --name ml-platform/git/deploy-key \\
  --secret-string "{
    \\"private_key\\": \\"$(cat git_deploy_key | base64)\\",
    \\"public_key\\": \\"$(cat git_deploy_key.pub | base64)\\"
  }\""""

GET_SECRET_VALUE = "aws secretsmanager get-secret-value --secret-id ml-platform/mlflow/database"

DESCRIBE_SECRET = "aws secretsmanager describe-secret --secret-id ml-platform/mlflow/database"

MIGRATION_CREATE = ("aws secretsmanager create-secret --name ml-platform/service/credential "
                    "--secret-string '...'")

ALL_SNIPPETS = [MLFLOW_DATABASE, MLFLOW_S3, FEAST_DATABASE, AIRFLOW_FERNET, API_KEYS_ONE_LINE,
                UPDATE_MLFLOW_DATABASE, POSTGRES_MLFLOW, REDIS_FEAST, API_KEYS_MULTI_LINE,
                OPENSSL_TLS, TLS_INGRESS, SSH_KEYGEN, GIT_DEPLOY_KEY, GET_SECRET_VALUE,
                DESCRIBE_SECRET, MIGRATION_CREATE]

# Makes the guide's bare `aws` reach coffer: Debian's CLI v2, by full path, plus --endpoint-url.
PRELUDE = 'set -eo pipefail\naws() { command %s --endpoint-url "$COFFER_ENDPOINT" "$@"; }\n' % (
    AWS_CLI)


def guide_text():
    for path in GUIDE_CANDIDATES:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    return None


def run_snippet(server, workdir, snippet, epilogue=""):
    env = server.creds_env()
    env["COFFER_ENDPOINT"] = server.endpoint
    env["AWS_DEFAULT_OUTPUT"] = "json"
    # The guide's `python3` must be Debian's, which has python3-cryptography.
    env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
    p = subprocess.run(["bash", "-c", PRELUDE + snippet + "\n" + epilogue], cwd=workdir,
                       env=env, capture_output=True, timeout=180)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def run_ok(server, workdir, snippet, epilogue=""):
    rc, out, err = run_snippet(server, workdir, snippet, epilogue)
    first_line = snippet.splitlines()[0]
    assert rc == 0, f"guide command failed: {first_line!r}: rc={rc} stderr={err!r}"
    return out


def create_output(out, name, region="us-east-1", account="000000000000"):
    """Checks create-secret's printed JSON: ARN with the 6-char suffix, Name, VersionId."""
    data = json.loads(out)
    assert data["Name"] == name
    prefix = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-"
    assert data["ARN"].startswith(prefix), data["ARN"]
    suffix = data["ARN"][len(prefix):]
    assert len(suffix) == 6 and suffix.isalnum(), data["ARN"]
    assert 32 <= len(data["VersionId"]) <= 64
    return data


def secret_string(server, name):
    r = server.sm("get-secret-value", "--secret-id", name).ok()
    assert r["Name"] == name
    assert r["VersionStages"] == ["AWSCURRENT"]
    return r["SecretString"]


def gnu_base64(data):
    """What `$(cat f | base64)` expands to: GNU base64 wraps at 76 columns, and the command
    substitution strips the trailing newline."""
    return base64.encodebytes(data).decode().rstrip("\n")


def test_snippets_are_verbatim_from_the_guide():
    text = guide_text()
    if text is None:
        pytest.skip("shared/seed/secrets-management-guide.md is not reachable from here")
    for snippet in ALL_SNIPPETS:
        assert snippet in text, f"not verbatim in the guide: {snippet.splitlines()[0]!r}"
    # And nothing was missed: every `aws secretsmanager` command of the guide is covered.
    guide_cmds = {line.strip() for line in text.splitlines()
                  if line.strip().startswith("aws secretsmanager")}
    covered = {line.strip() for s in ALL_SNIPPETS for line in s.splitlines()
               if line.strip().startswith("aws secretsmanager")}
    assert guide_cmds == covered


def test_seed_guide_commands_word_for_word(new_server, tmp_path):
    server = new_server()
    wd = str(tmp_path)

    # --- 2. Create Secrets in AWS ---
    out = run_ok(server, wd, MLFLOW_DATABASE)
    first_db = create_output(out, "ml-platform/mlflow/database")
    assert secret_string(server, "ml-platform/mlflow/database") == \
        '{"password":"STRONG_PASSWORD_HERE"}'

    create_output(run_ok(server, wd, MLFLOW_S3), "ml-platform/mlflow/s3")
    assert secret_string(server, "ml-platform/mlflow/s3") == \
        '{"access_key":"ACCESS_KEY","secret_key":"SECRET_KEY"}'

    create_output(run_ok(server, wd, FEAST_DATABASE), "ml-platform/feast/database")
    assert secret_string(server, "ml-platform/feast/database") == \
        '{"password":"STRONG_PASSWORD_HERE"}'

    out = run_ok(server, wd, AIRFLOW_FERNET, epilogue='printf %s "$FERNET_KEY" > fernet.out')
    create_output(out, "ml-platform/airflow/fernet")
    with open(os.path.join(wd, "fernet.out")) as f:
        fernet_key = f.read()
    assert len(base64.urlsafe_b64decode(fernet_key)) == 32  # a real Fernet key was generated
    stored = secret_string(server, "ml-platform/airflow/fernet")
    assert stored == '{"key":"%s"}' % fernet_key
    assert json.loads(stored) == {"key": fernet_key}

    create_output(run_ok(server, wd, API_KEYS_ONE_LINE), "ml-platform/api-keys")
    assert secret_string(server, "ml-platform/api-keys") == \
        '{"openai":"sk-...","huggingface":"hf_..."}'

    # --- Manual Rotation ---
    out = run_ok(server, wd, UPDATE_MLFLOW_DATABASE)
    upd = json.loads(out)
    assert upd["Name"] == "ml-platform/mlflow/database"
    assert upd["ARN"] == first_db["ARN"]
    assert upd["VersionId"] != first_db["VersionId"]
    assert secret_string(server, "ml-platform/mlflow/database") == '{"password":"NEW_PASSWORD"}'
    prev = server.sm("get-secret-value", "--secret-id", "ml-platform/mlflow/database",
                     "--version-stage", "AWSPREVIOUS").ok()
    assert prev["SecretString"] == '{"password":"STRONG_PASSWORD_HERE"}'
    assert prev["VersionId"] == first_db["VersionId"]

    # --- Database Credentials ---
    create_output(run_ok(server, wd, POSTGRES_MLFLOW), "ml-platform/postgres/mlflow")
    assert secret_string(server, "ml-platform/postgres/mlflow") == \
        '{"username":"mlflow","password":"STRONG_PASS"}'
    create_output(run_ok(server, wd, REDIS_FEAST), "ml-platform/redis/feast")
    assert secret_string(server, "ml-platform/redis/feast") == '{"password":"STRONG_PASS"}'

    # --- API Keys, multi-line form ---
    # It reuses the name ml-platform/api-keys of the one-line form above, so running the guide top
    # to bottom fails here exactly as on AWS; the multi-line form itself is exercised on a fresh
    # server in test_seed_guide_multi_line_api_keys below.
    rc, out, err = run_snippet(server, wd, API_KEYS_MULTI_LINE)
    assert rc == 254, err
    assert ("An error occurred (ResourceExistsException) when calling the CreateSecret "
            "operation: The operation failed because the secret ml-platform/api-keys already "
            "exists.") in err
    assert secret_string(server, "ml-platform/api-keys") == \
        '{"openai":"sk-...","huggingface":"hf_..."}'

    # --- TLS Certificates ---
    run_ok(server, wd, OPENSSL_TLS + OPENSSL_NO_PROMPT)
    with open(os.path.join(wd, "tls.crt"), "rb") as f:
        crt = f.read()
    with open(os.path.join(wd, "tls.key"), "rb") as f:
        key = f.read()
    assert crt.startswith(b"-----BEGIN CERTIFICATE-----")
    create_output(run_ok(server, wd, TLS_INGRESS), "ml-platform/tls/ingress")
    stored = secret_string(server, "ml-platform/tls/ingress")
    expected = ('{\n    "tls.crt": "' + gnu_base64(crt) + '",\n    "tls.key": "' +
                gnu_base64(key) + '"\n  }')
    assert stored == expected  # byte-exact, including the 76-column line breaks of base64
    crt_b64 = stored.split('"tls.crt": "')[1].split('"')[0]
    key_b64 = stored.split('"tls.key": "')[1].split('"')[0]
    assert base64.b64decode(crt_b64.replace("\n", "")) == crt
    assert base64.b64decode(key_b64.replace("\n", "")) == key

    # --- SSH Keys ---
    run_ok(server, wd, SSH_KEYGEN)
    with open(os.path.join(wd, "git_deploy_key"), "rb") as f:
        priv = f.read()
    with open(os.path.join(wd, "git_deploy_key.pub"), "rb") as f:
        pub = f.read()
    create_output(run_ok(server, wd, GIT_DEPLOY_KEY), "ml-platform/git/deploy-key")
    stored = secret_string(server, "ml-platform/git/deploy-key")
    expected = ('{\n    "private_key": "' + gnu_base64(priv) + '",\n    "public_key": "' +
                gnu_base64(pub) + '"\n  }')
    assert stored == expected
    assert len(stored) > 4000  # a 4096-bit RSA key, base64-wrapped: well past trivial sizes
    priv_b64 = stored.split('"private_key": "')[1].split('"')[0]
    assert base64.b64decode(priv_b64.replace("\n", "")) == priv

    # --- Troubleshooting ---
    out = run_ok(server, wd, GET_SECRET_VALUE)
    got = json.loads(out)
    assert got["Name"] == "ml-platform/mlflow/database"
    assert got["ARN"] == first_db["ARN"]
    assert got["SecretString"] == '{"password":"NEW_PASSWORD"}'
    assert got["VersionId"] == upd["VersionId"]
    assert got["VersionStages"] == ["AWSCURRENT"]
    assert "CreatedDate" in got

    out = run_ok(server, wd, DESCRIBE_SECRET)
    desc = json.loads(out)
    assert desc["Name"] == "ml-platform/mlflow/database"
    assert desc["ARN"] == first_db["ARN"]
    assert desc["Description"] == "MLflow database credentials"  # update-secret kept it
    assert desc["VersionIdsToStages"] == {upd["VersionId"]: ["AWSCURRENT"],
                                          first_db["VersionId"]: ["AWSPREVIOUS"]}
    for field in ("CreatedDate", "LastChangedDate"):
        assert field in desc

    # --- Migration Guide ---
    create_output(run_ok(server, wd, MIGRATION_CREATE), "ml-platform/service/credential")
    assert secret_string(server, "ml-platform/service/credential") == "..."

    # Everything the guide created is listed, once each.
    listed = server.sm("list-secrets", "--filters", "Key=name,Values=ml-platform/").ok()
    names = sorted(e["Name"] for e in listed["SecretList"])
    assert names == sorted([
        "ml-platform/mlflow/database", "ml-platform/mlflow/s3", "ml-platform/feast/database",
        "ml-platform/airflow/fernet", "ml-platform/api-keys", "ml-platform/postgres/mlflow",
        "ml-platform/redis/feast", "ml-platform/tls/ingress", "ml-platform/git/deploy-key",
        "ml-platform/service/credential"])


def test_seed_guide_multi_line_api_keys(new_server, tmp_path):
    # The multi-line api-keys form uses the same name as the one-line form, so it runs on its own
    # fresh server here.
    server = new_server()
    out = run_ok(server, str(tmp_path), API_KEYS_MULTI_LINE)
    create_output(out, "ml-platform/api-keys")
    stored = secret_string(server, "ml-platform/api-keys")
    assert stored == ('{\n    "openai": "sk-...",\n    "huggingface": "hf_...",\n'
                      '    "github": "ghp_...",\n    "wandb": "..."\n  }')
    assert json.loads(stored) == {"openai": "sk-...", "huggingface": "hf_...",
                                  "github": "ghp_...", "wandb": "..."}
