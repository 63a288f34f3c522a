#!/usr/bin/env bash
# `coffer template render` end to end, from files as a user writes them (esoctl's flags): the
# rendered Secret, templateFrom, custom delimiters, --output mode 0600, and clear errors that
# quote no secret value.
# Usage: template_render_test.sh /path/to/coffer
set -euo pipefail

COFFER=${1:?usage: template_render_test.sh /path/to/coffer}
WORK=$(mktemp -d /tmp/coffer-template-render-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$WORK/es.yaml" <<'YAML'
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: mlflow-db
  namespace: ml-platform
spec:
  secretStoreRef: {name: coffer}
  data:
    - {secretKey: user, remoteRef: {key: ml-platform/database, property: username}}
    - {secretKey: password, remoteRef: {key: ml-platform/database, property: password}}
  target:
    name: mlflow-db-url
    template:
      engineVersion: v2
      type: Opaque
      metadata:
        labels: {app: mlflow, owner: "{{ .user }}"}
      data:
        url: "postgresql://{{ .user }}:{{ .password }}@postgres:5432/mlflow"
        user: "{{ .user | upper }}"
      templateFrom:
        - configMap:
            name: env-template
            items: [{key: env, templateAs: KeysAndValues}]
YAML
# esoctl's data file: key -> base64 value. s3cr3t-pw-4711 is the secret.
cat >"$WORK/data.yaml" <<YAML
user: $(printf mlflow | base64)
password: $(printf s3cr3t-pw-4711 | base64)
YAML
cat >"$WORK/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: env-template}
data:
  env: |
    DB_USER: "{{ .user }}"
    DB_HOST: postgres
YAML

"$COFFER" template render --source-templated-object "$WORK/es.yaml" \
  --source-secret-data-file "$WORK/data.yaml" --template-from "$WORK/cm.yaml" >"$WORK/out.yaml" \
  || fail "render exited $?"
/usr/bin/python3 - "$WORK/out.yaml" <<'PY' || fail "unexpected output: $(cat "$WORK/out.yaml")"
import base64, sys, yaml
s = yaml.safe_load(open(sys.argv[1]))
assert s["apiVersion"] == "v1" and s["kind"] == "Secret" and s["type"] == "Opaque", s
assert s["metadata"] == {"name": "mlflow-db-url", "namespace": "ml-platform",
                         "labels": {"app": "mlflow", "owner": "mlflow"}}, s["metadata"]
data = {k: base64.b64decode(v).decode() for k, v in s["data"].items()}
assert data == {"url": "postgresql://mlflow:s3cr3t-pw-4711@postgres:5432/mlflow",
                "user": "MLFLOW", "DB_USER": "mlflow", "DB_HOST": "postgres"}, data
PY

# Custom delimiters (Helm users), a whole Secret manifest as the data file, --output 0600.
cat >"$WORK/es-delims.yaml" <<'YAML'
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: mlflow-db, namespace: ml-platform}
spec:
  secretStoreRef: {name: coffer}
  data:
    - {secretKey: user, remoteRef: {key: ml-platform/database, property: username}}
    - {secretKey: password, remoteRef: {key: ml-platform/database, property: password}}
  target:
    name: mlflow-db-url
    template:
      data:
        url: "postgresql://<% .user %>:<% .password %>@postgres:5432/mlflow"
        literal-braces: "{{ .user }}"
YAML
cat >"$WORK/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: fetched}
data:
  user: $(printf mlflow | base64)
stringData:
  password: s3cr3t-pw-4711
YAML
umask 022
"$COFFER" template render --source-templated-object "$WORK/es-delims.yaml" \
  --source-secret-data-file "$WORK/secret.yaml" --left-delimiter '<%' --right-delimiter '%>' \
  --output "$WORK/rendered.yaml" || fail "render with delimiters exited $?"
[[ $(stat -c %a "$WORK/rendered.yaml") == 600 ]] || fail "output mode $(stat -c %a "$WORK/rendered.yaml")"
grep -q "$(printf 'postgresql://mlflow:s3cr3t-pw-4711@postgres:5432/mlflow' | base64 -w0)" \
  "$WORK/rendered.yaml" || fail "delimiters: $(cat "$WORK/rendered.yaml")"
grep -q "$(printf '{{ .user }}' | base64 -w0)" "$WORK/rendered.yaml" \
  || fail "{{ }} should be plain text with other delimiters: $(cat "$WORK/rendered.yaml")"

# Errors: exit 1 for a template error, 2 for bad input; messages name keys, never values.
sed 's/{{ .user | upper }}/{{ .nope }}/' "$WORK/es.yaml" >"$WORK/es-missing.yaml"
rc=0
"$COFFER" template render --source-templated-object "$WORK/es-missing.yaml" \
  --source-secret-data-file "$WORK/data.yaml" --template-from "$WORK/cm.yaml" \
  >"$WORK/o" 2>"$WORK/err" || rc=$?
[[ $rc -eq 1 ]] || fail "missing key: exit $rc"
grep -q "template at key user" "$WORK/err" || fail "missing key message: $(cat "$WORK/err")"
grep -q "nope" "$WORK/err" || fail "missing key message lacks the key: $(cat "$WORK/err")"
if grep -q "s3cr3t" "$WORK/err" "$WORK/o"; then fail "a secret value in the error output"; fi

printf 'password: "not base64 s3cr3t!"\n' >"$WORK/bad-data.yaml"
rc=0
"$COFFER" template render --source-templated-object "$WORK/es.yaml" \
  --source-secret-data-file "$WORK/bad-data.yaml" >"$WORK/o" 2>"$WORK/err" || rc=$?
[[ $rc -eq 2 ]] || fail "bad base64: exit $rc"
grep -q "password is not valid base64" "$WORK/err" || fail "bad base64 message: $(cat "$WORK/err")"
if grep -q "s3cr3t" "$WORK/err"; then fail "a secret value in the error output"; fi

rc=0
"$COFFER" template render --source-templated-object "$WORK/es.yaml" \
  --source-secret-data-file "$WORK/data.yaml" >"$WORK/o" 2>"$WORK/err" || rc=$?
[[ $rc -eq 1 ]] || fail "templateFrom ConfigMap not given: exit $rc"
grep -q "configmap env-template" "$WORK/err" || fail "no-configmap message: $(cat "$WORK/err")"

rc=0
"$COFFER" template render --source-templated-object "$WORK/nope.yaml" \
  --source-secret-data-file "$WORK/data.yaml" >"$WORK/o" 2>"$WORK/err" || rc=$?
[[ $rc -eq 2 ]] || fail "missing file: exit $rc"

echo "template render: all checks passed"
