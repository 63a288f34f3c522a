"""The seed guide's ExternalSecret manifests, verbatim (test_control_plane.py checks that each
still appears in shared/seed/secrets-management-guide.md), for every test in tests/kube."""

# Verbatim from the guide, section "Secret Rotation / Automatic Rotation (Production)".
GUIDE_ROTATED_SECRET = """apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: rotated-secret
  namespace: ml-platform
spec:
  refreshInterval: 15m  # Check every 15 minutes
  secretStoreRef:
    name: aws-secrets-manager
    kind: SecretStore
  target:
    name: rotated-secret
    creationPolicy: Owner
  data:
  - secretKey: database-password
    remoteRef:
      key: ml-platform/database
      property: password
"""

# Verbatim from the guide, section "Migration from Hardcoded Secrets", step 3 (no namespace: it
# lands in the kubeconfig's namespace, default).
GUIDE_SERVICE_CREDENTIALS = """apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: service-credentials
spec:
  secretStoreRef:
    name: aws-secrets-manager
  data:
  - secretKey: password
    remoteRef:
      key: ml-platform/service/credential
"""
