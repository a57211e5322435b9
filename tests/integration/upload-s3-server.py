#!/usr/bin/env python3
"""A small S3-like PUT endpoint on 127.0.0.1 for the uploader's tests (standard library only).

Every PUT must carry a valid AWS Signature Version 4 (the published algorithm: canonical
request, string to sign, the signing-key chain kDate -> kRegion -> kService -> kSigning) for
the one access key it knows, over the headers it names, with x-amz-content-sha256 equal to
the body's SHA-256 and x-amz-date within 15 minutes. A good PUT stores the body under ROOT at
the request's path and answers 200; anything else answers 403 with an S3-style XML error
(SignatureDoesNotMatch, InvalidAccessKeyId, XAmzContentSHA256Mismatch ...) and stores
nothing. Each request is logged as one line to stderr.

    upload-s3-server.py ROOT PORT_FILE ACCESS_KEY SECRET REGION
    upload-s3-server.py --self-test

It binds a free port of 127.0.0.1 and writes it to PORT_FILE once listening. --self-test
checks the implementation against the examples of the AWS documentation and exits.
"""
import datetime
import hashlib
import hmac
import http.server
import os
import sys
import urllib.parse

MAX_SKEW_S = 15 * 60  # what S3 allows between x-amz-date and its clock
ALGORITHM = "AWS4-HMAC-SHA256"


def hmac256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")"""
    k_date = hmac256(("AWS4" + secret).encode(), date)
    k_region = hmac256(k_date, region)
    k_service = hmac256(k_region, service)
    return hmac256(k_service, "aws4_request")


def uri_encode(s, keep_slash):
    return urllib.parse.quote(s, safe="-_.~" + ("/" if keep_slash else ""))


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{uri_encode(k, False)}={uri_encode(v, False)}" for k, v in sorted(pairs))


def canonical_request(method, path, query, headers, signed, payload_hash):
    """headers: name -> value, names lower-case; signed: the sorted names signed."""
    # S3 encodes the path once (other services twice): the path as sent, decoded then encoded
    uri = uri_encode(urllib.parse.unquote(path), True) or "/"
    lines = [method, uri, canonical_query(query)]
    lines += [f"{h}:{' '.join(headers.get(h, '').split())}" for h in signed]
    return "\n".join(lines) + "\n\n" + ";".join(signed) + "\n" + payload_hash


def string_to_sign(amz_date, scope, creq):
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...' -> dict, or None."""
    if not value or not value.startswith(ALGORITHM + " "):
        return None
    fields = {}
    for part in value[len(ALGORITHM) + 1:].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return fields


def verify(method, path, query, headers, body, access_key, secret, region, now):
    """Returns None when the request is signed right, else (S3 error code, message)."""
    auth = parse_authorization(headers.get("authorization"))
    if not auth:
        return ("AccessDenied", "no AWS4-HMAC-SHA256 Authorization header")
    cred = auth["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request" or cred[3] != "s3":
        return ("AuthorizationHeaderMalformed", f"bad credential scope {auth['Credential']}")
    key_id, date, cred_region = cred[0], cred[1], cred[2]
    if key_id != access_key:
        return ("InvalidAccessKeyId", f"unknown access key {key_id}")
    if cred_region != region:
        return ("AuthorizationHeaderMalformed", f"region {cred_region}, expected {region}")
    amz_date = headers.get("x-amz-date", "")
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return ("AccessDenied", f"bad x-amz-date {amz_date!r}")
    if not amz_date.startswith(date):
        return ("SignatureDoesNotMatch", "x-amz-date is not the credential's date")
    if abs((now - t).total_seconds()) > MAX_SKEW_S:
        return ("RequestTimeTooSkewed", f"x-amz-date {amz_date} too far from now")
    signed = auth["SignedHeaders"].split(";")
    if signed != sorted(signed) or "host" not in signed or "x-amz-date" not in signed:
        return ("AccessDenied", f"signed headers {auth['SignedHeaders']}")
    payload_hash = headers.get("x-amz-content-sha256", "")
    if "x-amz-content-sha256" not in signed:
        return ("AccessDenied", "x-amz-content-sha256 is not signed")
    if payload_hash != hashlib.sha256(body).hexdigest():
        return ("XAmzContentSHA256Mismatch", "the body's SHA-256 is not x-amz-content-sha256")
    creq = canonical_request(method, path, query, headers, signed, payload_hash)
    scope = f"{date}/{region}/s3/aws4_request"
    sts = string_to_sign(amz_date, scope, creq)
    want = hmac.new(signing_key(secret, date, region, "s3"), sts.encode(),
                    hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, auth["Signature"]):
        return ("SignatureDoesNotMatch", "the signature is not the one computed with the secret")
    return None


def self_test():
    """The AWS documentation's examples (signature version 4: deriving the signing key, and
    the IAM ListUsers request of its worked example)."""
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    assert signing_key(secret, "20120215", "us-east-1", "iam").hex() == \
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8",
               "host": "iam.amazonaws.com", "x-amz-date": "20150830T123600Z"}
    creq = canonical_request("GET", "/", "Action=ListUsers&Version=2010-05-08", headers,
                             ["content-type", "host", "x-amz-date"],
                             hashlib.sha256(b"").hexdigest())
    sts = string_to_sign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", creq)
    assert sts.endswith("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"), sts
    sig = hmac.new(signing_key(secret, "20150830", "us-east-1", "iam"), sts.encode(),
                   hashlib.sha256).hexdigest()
    assert sig == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", sig
    print("sigv4 self-test ok")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("s3: " + (fmt % args) + "\n")

    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        cfg = self.server.cfg
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        err = verify("PUT", url.path, url.query, headers, body, cfg["key"], cfg["secret"],
                     cfg["region"], datetime.datetime.now(datetime.timezone.utc))
        if err:
            sys.stderr.write(f"s3: refused {url.path}: {err[0]}: {err[1]}\n")
            xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{err[0]}</Code>"
                   f"<Message>{err[1]}</Message></Error>").encode()
            self.answer(403, xml)
            return
        rel = os.path.normpath(urllib.parse.unquote(url.path)).lstrip("/")
        if rel.startswith(".."):
            self.answer(400)
            return
        dest = os.path.join(cfg["root"], rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest + ".part", "wb") as f:
            f.write(body)
        os.replace(dest + ".part", dest)
        self.answer(200)

    def do_GET(self):
        self.answer(405)


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    root, port_file, key, secret, region = sys.argv[1:]
    self_test()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.cfg = {"root": root, "key": key, "secret": secret, "region": region}
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.replace(port_file + ".tmp", port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
