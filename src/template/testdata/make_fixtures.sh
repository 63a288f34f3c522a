#!/usr/bin/env bash
# Regenerates the throwaway PKI the eso_functions tests read: a root CA, an intermediate CA and a
# leaf certificate (EC P-256, valid for 100 years), PEM bundles of them, and PKCS#12 archives of
# the leaf with its chain, without and with a password. Nothing here protects anything.
#   src/template/testdata/make_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/ext.cnf" <<'CNF'
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[intermediate]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:app.example.test, DNS:*.app.example.test, IP:10.0.0.7, IP:2001:db8::7, email:ops@example.test, URI:spiffe://example.test/app
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key root-ca.key
key intermediate-ca.key
key leaf.key

openssl req -new -x509 -key root-ca.key -subj "/CN=coffer test root CA" -days 36500 \
  -config "$tmp/ext.cnf" -extensions root -out root-ca.crt
openssl req -new -key intermediate-ca.key -subj "/CN=coffer test intermediate CA" \
  -out "$tmp/intermediate.csr"
openssl x509 -req -in "$tmp/intermediate.csr" -CA root-ca.crt -CAkey root-ca.key \
  -set_serial 2 -days 36500 -extfile "$tmp/ext.cnf" -extensions intermediate \
  -out intermediate-ca.crt 2>/dev/null
openssl req -new -key leaf.key -subj "/CN=app.example.test" -out "$tmp/leaf.csr"
openssl x509 -req -in "$tmp/leaf.csr" -CA intermediate-ca.crt -CAkey intermediate-ca.key \
  -set_serial 3 -days 36500 -extfile "$tmp/ext.cnf" -extensions leaf -out leaf.crt 2>/dev/null

# The bundle a store typically holds: key, leaf, intermediate, root.
cat leaf.key leaf.crt intermediate-ca.crt root-ca.crt >bundle.pem
# The same certificates out of order (root first), for filterCertChain's ordering.
cat root-ca.crt leaf.crt intermediate-ca.crt >shuffled-chain.pem

openssl pkcs12 -export -inkey leaf.key -in leaf.crt -certfile <(cat intermediate-ca.crt root-ca.crt) \
  -passout pass: -out leaf-nopass.p12
openssl pkcs12 -export -inkey leaf.key -in leaf.crt -certfile <(cat intermediate-ca.crt root-ca.crt) \
  -passout pass:fixture-p12-pass -out leaf-pass.p12
# What older tools and Windows write: RC2-40 for the certificates, 3DES for the key, SHA-1 MAC.
openssl pkcs12 -export -legacy -inkey leaf.key -in leaf.crt \
  -certfile <(cat intermediate-ca.crt root-ca.crt) -passout pass:fixture-p12-pass \
  -out leaf-legacy.p12
