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

# An RSA key with OAEP ciphertexts of "s3cr3t-plaintext" (rsaDecrypt), and JWKs of the RSA key,
# the leaf's EC key and an Ed25519 key with their public keys in PEM (jwkPublicKeyPem,
# jwkPrivateKeyPem).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl genpkey -algorithm ED25519 -out ed25519.key
for k in rsa leaf ed25519; do openssl pkey -in "$k.key" -pubout -out "$k.pub.pem"; done
printf 's3cr3t-plaintext' >"$tmp/plain"
openssl pkeyutl -encrypt -inkey rsa.key -in "$tmp/plain" -out rsa-oaep-sha256.bin \
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
openssl pkeyutl -encrypt -inkey rsa.key -in "$tmp/plain" -out rsa-oaep-sha1.bin \
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1
/usr/bin/python3 - <<'PY'
import base64, json
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

def b64u(n, size=None):
    if isinstance(n, int):
        size = size or (n.bit_length() + 7) // 8
        n = n.to_bytes(size, "big")
    return base64.urlsafe_b64encode(n).rstrip(b"=").decode()

def load(name):
    with open(name, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)

def write(name, jwk):
    with open(name, "w") as f:
        json.dump(jwk, f, indent=2)
        f.write("\n")

k = load("rsa.key")
p, pub = k.private_numbers(), k.public_key().public_numbers()
write("rsa.jwk.json", {"kty": "RSA", "kid": "rsa-fixture", "n": b64u(pub.n), "e": b64u(pub.e),
                       "d": b64u(p.d), "p": b64u(p.p), "q": b64u(p.q), "dp": b64u(p.dmp1),
                       "dq": b64u(p.dmq1), "qi": b64u(p.iqmp)})
write("rsa.public.jwk.json", {"kty": "RSA", "n": b64u(pub.n), "e": b64u(pub.e)})
k = load("leaf.key")
n = k.private_numbers()
write("leaf.jwk.json", {"kty": "EC", "crv": "P-256", "x": b64u(n.public_numbers.x, 32),
                        "y": b64u(n.public_numbers.y, 32), "d": b64u(n.private_value, 32)})
k = load("ed25519.key")
raw = lambda b: b64u(b)
priv = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                       serialization.NoEncryption())
pubb = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
write("ed25519.jwk.json", {"kty": "OKP", "crv": "Ed25519", "x": raw(pubb), "d": raw(priv)})
PY
