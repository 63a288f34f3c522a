"""The AWS JSON 1.1 wire protocol as raw HTTP: shapes of errors and responses, authentication
failures, size limits, and that a rejected request leaves nothing behind.

Requests are signed with botocore's SigV4Auth (Debian's botocore) and sent with http.client, so
the test controls every byte.
"""

import base64
import datetime
import http.client
import json
import re
import socket
import types
import uuid
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import unique_name

JSON_CT = "application/x-amz-json-1.1"


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def type(self):
        return (self.json or {}).get("__type")

    @property
    def message(self):
        return (self.json or {}).get("Message")


def sign(server, action, body, region="us-east-1", secret_key=None, content_sha=None,
         target=None):
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": JSON_CT,
        "X-Amz-Target": target or f"secretsmanager.{action}",
    })
    if content_sha is not None:
        req.headers["X-Amz-Content-SHA256"] = content_sha
    creds = Credentials(server.access_key_id, secret_key or server.secret_access_key)
    SigV4Auth(creds, "secretsmanager", region).add_auth(req)
    return {k: v for k, v in req.headers.items()}


def send(server, headers, body, method="POST", path="/", conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    reply = Reply(r.status, r.getheaders(), r.read())
    if own:
        conn.close()
    return reply


def call(server, action, payload, **kw):
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    return send(server, sign(server, action, body, **kw), body)


def assert_aws_error(reply, status, type_, message=None):
    assert reply.status == status, (reply.status, reply.raw[:300])
    assert reply.headers.get("content-type", "").startswith(JSON_CT), reply.headers
    assert isinstance(reply.json, dict), reply.raw[:300]
    assert reply.type == type_, reply.json
    assert isinstance(reply.message, str) and reply.message, reply.json
    if message is not None:
        assert reply.message == message
    assert reply.headers.get("x-amzn-requestid"), "x-amzn-RequestId missing"


def exists(server, name):
    r = call(server, "DescribeSecret", {"SecretId": name})
    if r.status == 200:
        return True
    assert_aws_error(r, 400, "ResourceNotFoundException")
    return False


def listed_names(server, prefix):
    r = call(server, "ListSecrets", {"Filters": [{"Key": "name", "Values": [prefix]}]})
    assert r.status == 200, r.raw
    return [e["Name"] for e in r.json["SecretList"]]


def test_success_shape_request_id_and_timestamps(server):
    name = unique_name("raw-ok")
    r = call(server, "CreateSecret", {"Name": name, "SecretString": "v",
                                      "ClientRequestToken": str(uuid.uuid4())})
    assert r.status == 200, r.raw
    assert r.headers["content-type"].startswith(JSON_CT)
    assert set(r.json) == {"ARN", "Name", "VersionId"}
    ids = {r.headers["x-amzn-requestid"]}

    r = call(server, "DescribeSecret", {"SecretId": name})
    assert r.status == 200
    ids.add(r.headers["x-amzn-requestid"])
    for field in ("CreatedDate", "LastChangedDate"):
        # Epoch seconds as a JSON number with a fraction, e.g. 1764265296.713
        assert re.search(rb'"%s"\s*:\s*\d{10}\.\d+' % field.encode(), r.raw), r.raw
        assert isinstance(r.json[field], float)
        assert abs(r.json[field] - datetime.datetime.now().timestamp()) < 300

    r = call(server, "GetSecretValue", {"SecretId": name})
    assert re.search(rb'"CreatedDate"\s*:\s*\d{10}\.\d+', r.raw), r.raw
    ids.add(r.headers["x-amzn-requestid"])
    r = call(server, "ListSecrets", {"Filters": [{"Key": "name", "Values": [name]}]})
    assert re.search(rb'"CreatedDate"\s*:\s*\d{10}\.\d+', r.raw), r.raw
    ids.add(r.headers["x-amzn-requestid"])
    assert len(ids) == 4  # one fresh id per request


def test_empty_members_omitted_and_binary_is_base64(server):
    name = unique_name("raw-empty")
    r = call(server, "CreateSecret", {"Name": name})
    assert r.status == 200, r.raw
    assert set(r.json) == {"ARN", "Name"}  # no value: no version
    r = call(server, "DescribeSecret", {"SecretId": name})
    assert set(r.json) == {"ARN", "Name", "CreatedDate", "LastChangedDate"}, r.json
    blob = bytes(range(256))
    r = call(server, "PutSecretValue", {"SecretId": name,
                                        "SecretBinary": base64.b64encode(blob).decode(),
                                        "ClientRequestToken": str(uuid.uuid4())})
    assert r.status == 200, r.raw
    r = call(server, "GetSecretValue", {"SecretId": name})
    assert "SecretString" not in r.json
    assert base64.b64decode(r.json["SecretBinary"], validate=True) == blob
    # Invalid base64 in a blob member is a client error, not a stored value.
    r = call(server, "PutSecretValue", {"SecretId": name, "SecretBinary": "%%%not base64%%%",
                                        "ClientRequestToken": str(uuid.uuid4())})
    assert r.status == 400 and r.type in ("SerializationException", "InvalidParameterException",
                                          "ValidationException"), r.raw


def test_malformed_json_is_serialization_exception(server):
    for body in (b"{not json", b'{"Name": ', b"[1, 2, 3]", b"\xff\xfe\x00garbage"):
        r = send(server, sign(server, "CreateSecret", body), body)
        assert_aws_error(r, 400, "SerializationException")
    # Well-formed JSON with members of the wrong type is a client error too.
    body = b'{"Name": 12, "SecretString": []}'
    r = send(server, sign(server, "CreateSecret", body), body)
    assert r.status == 400 and r.type in ("SerializationException", "ValidationException",
                                          "InvalidParameterException"), r.raw
    assert server.healthz() == 200


def test_unknown_operation(server):
    r = call(server, "FrobnicateSecret", {})
    assert_aws_error(r, 400, "UnknownOperationException")
    r = send(server, sign(server, "", b"{}", target="othersvc.GetSecretValue"), b"{}")
    assert r.status == 400 and r.type == "UnknownOperationException", r.raw


def test_missing_and_garbage_authorization(server):
    body = b"{}"
    headers = {"Content-Type": JSON_CT, "X-Amz-Target": "secretsmanager.ListSecrets"}
    r = send(server, headers, body)
    assert r.status in (400, 403), r.raw
    assert_aws_error(r, r.status, "MissingAuthenticationTokenException")

    for garbage in ("AWS4-HMAC-SHA256 garbage",
                    "AWS4-HMAC-SHA256 Credential=AKIAITESTCOFFER00001/20260101/us-east-1/"
                    "secretsmanager/aws4_request, SignedHeaders=host;x-amz-date",
                    "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=, Signature="):
        h = dict(headers, Authorization=garbage, **{"X-Amz-Date": "20260101T000000Z"})
        assert_aws_error(send(server, h, body), 400, "IncompleteSignatureException")


def test_tampered_body_and_wrong_key(server):
    name = unique_name("raw-tamper")
    good = json.dumps({"Name": name, "SecretString": "good",
                       "ClientRequestToken": str(uuid.uuid4())}).encode()
    evil = good.replace(b'"good"', b'"evil"')
    r = send(server, sign(server, "CreateSecret", good), evil)
    assert_aws_error(r, 400, "InvalidSignatureException")
    # Signed X-Amz-Content-SHA256 of the good body, but the evil body is sent.
    import hashlib
    sha = hashlib.sha256(good).hexdigest()
    r = send(server, sign(server, "CreateSecret", good, content_sha=sha), evil)
    assert r.status == 400 and r.type == "InvalidSignatureException", r.raw
    r = send(server, sign(server, "CreateSecret", good, secret_key="Y" * 40), good)
    assert_aws_error(r, 400, "InvalidSignatureException")
    assert not exists(server, name)


def fake_clock(offset):
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + offset

    return types.SimpleNamespace(datetime=Shifted)


def test_clock_skew(server):
    for minutes, prefix in ((-10, "Signature expired: "), (10, "Signature not yet current: ")):
        with mock.patch.object(botocore.auth, "datetime",
                               fake_clock(datetime.timedelta(minutes=minutes))):
            headers = sign(server, "ListSecrets", b"{}")
        r = send(server, headers, b"{}")
        assert_aws_error(r, 400, "InvalidSignatureException")
        assert r.message.startswith(prefix), r.message
        assert "5 min" in r.message, r.message


def test_create_without_client_request_token(server):
    name = unique_name("raw-notoken")
    for action, payload in (("CreateSecret", {"Name": name, "SecretString": "v"}),):
        r = call(server, action, payload)
        assert_aws_error(r, 400, "InvalidRequestException",
                         "You must provide a ClientRequestToken value. We recommend a UUID-type "
                         "value.")
    assert not exists(server, name)
    r = call(server, "CreateSecret", {"Name": name, "SecretString": "v",
                                      "ClientRequestToken": str(uuid.uuid4())})
    assert r.status == 200
    for action, payload in (("PutSecretValue", {"SecretId": name, "SecretString": "w"}),
                            ("UpdateSecret", {"SecretId": name, "SecretString": "w"})):
        r = call(server, action, payload)
        assert_aws_error(r, 400, "InvalidRequestException",
                         "You must provide a ClientRequestToken value. We recommend a UUID-type "
                         "value.")
    r = call(server, "ListSecretVersionIds", {"SecretId": name, "IncludeDeprecated": True})
    assert len(r.json["Versions"]) == 1


def raw_post(server, body_len, target="secretsmanager.CreateSecret"):
    """Sends a POST with a body of body_len bytes over a raw socket (the server may answer and
    close before reading it all). Returns (status, response bytes)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: {JSON_CT}\r\nX-Amz-Target: {target}\r\n"
            f"Content-Length: {body_len}\r\n\r\n").encode()
    chunk = b'{"Name":"' + b"a" * (64 * 1024)
    try:
        s.sendall(head)
        sent = 0
        while sent < body_len:
            piece = chunk[:body_len - sent]
            s.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            got = s.recv(65536)
            if not got:
                break
            data += got
            if b"\r\n\r\n" in data:
                head_end = data.index(b"\r\n\r\n")
                m = re.search(rb"content-length:\s*(\d+)", data[:head_end], re.I)
                if m and len(data) >= head_end + 4 + int(m.group(1)):
                    break
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (int(m.group(1)) if m else None), data


def test_oversized_body_is_413_and_server_keeps_serving(server):
    status, data = raw_post(server, 2 * 1024 * 1024)
    assert status == 413, data[:200]
    assert server.healthz() == 200
    r = call(server, "ListSecrets", {"MaxResults": 1})
    assert r.status == 200, r.raw


def test_rejected_writes_leave_no_half_written_secret(server):
    prefix = unique_name("raw-half")
    # A value one byte over the quota.
    r = call(server, "CreateSecret", {"Name": prefix + "/big", "SecretString": "x" * 65537,
                                      "ClientRequestToken": str(uuid.uuid4())})
    assert_aws_error(r, 400, "InvalidParameterException")
    # A value far over the HTTP body limit, properly signed.
    body = json.dumps({"Name": prefix + "/huge", "SecretString": "y" * (1536 * 1024),
                       "ClientRequestToken": str(uuid.uuid4())}).encode()
    try:
        r = send(server, sign(server, "CreateSecret", body), body)
        assert r.status == 413, r.raw[:200]
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may cut the upload short; what matters is what it stored
    # A secret with both a string and a binary value.
    r = call(server, "CreateSecret", {"Name": prefix + "/both", "SecretString": "s",
                                      "SecretBinary": "YWJj",
                                      "ClientRequestToken": str(uuid.uuid4())})
    assert_aws_error(r, 400, "InvalidParameterException")
    # Tags over the quota.
    r = call(server, "CreateSecret", {"Name": prefix + "/tags", "SecretString": "s",
                                      "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
                                      "ClientRequestToken": str(uuid.uuid4())})
    assert r.status == 400, r.raw
    assert listed_names(server, prefix) == []
    for suffix in ("/big", "/huge", "/both", "/tags"):
        assert not exists(server, prefix + suffix)
    # A put over the limit leaves the existing secret exactly as it was.
    name = prefix + "/ok"
    r = call(server, "CreateSecret", {"Name": name, "SecretString": "v1",
                                      "ClientRequestToken": str(uuid.uuid4())})
    assert r.status == 200
    r = call(server, "PutSecretValue", {"SecretId": name, "SecretString": "z" * 65537,
                                        "ClientRequestToken": str(uuid.uuid4())})
    assert_aws_error(r, 400, "InvalidParameterException")
    r = call(server, "ListSecretVersionIds", {"SecretId": name, "IncludeDeprecated": True})
    assert len(r.json["Versions"]) == 1
    assert call(server, "GetSecretValue", {"SecretId": name}).json["SecretString"] == "v1"


def test_keep_alive_serves_many_requests_on_one_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for _ in range(5):
        r = send(server, sign(server, "ListSecrets", b"{}"), b"{}", conn=conn)
        assert r.status == 200
    bad = send(server, sign(server, "CreateSecret", b"{oops"), b"{oops", conn=conn)
    assert bad.status == 400
    r = send(server, sign(server, "ListSecrets", b"{}"), b"{}", conn=conn)
    assert r.status == 200
    conn.close()


def test_healthz_and_readyz(server):
    for path in ("/healthz", "/readyz"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path)
        assert conn.getresponse().status == 200
        conn.close()
