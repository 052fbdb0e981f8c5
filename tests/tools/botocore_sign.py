#!/usr/bin/python3
"""Signs random S3 requests with botocore (Debian's python3-botocore), an independent SigV4
implementation, and prints them as JSON for tests/unit/test_sigv4.cpp to sign again and compare.

    botocore_sign.py SEED COUNT

Each case: the decoded key and query, the headers before signing, the payload hash, the
credentials and region, and what botocore produced: the Authorization header for header
signing and the X-Amz-Signature of a presigned GET, with the X-Amz-Date each used.
"""
import calendar
import hashlib
import json
import random
import sys
import time
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

PIECES = ["a", "Z", "0", " ", "+", "~", "-", "_", ".", "/", "%", "=", "&", "?", "é", "ü", "ሴ", "😀", "(", ")", "!", "*", "'", ",", ";", "$", "@", ":"]


def random_text(rng, low, high, slash=True):
    pieces = [p for p in PIECES if slash or p != "/"]
    while True:
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(low, high)))
        if "//" not in text and not text.startswith("/") and not text.endswith("/"):
            return text


def unix(amz_date):
    return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        bucket = rng.choice(["bucket", "my-bucket.data", "b1"])
        key = random_text(rng, 1, 24)
        # Names unique: botocore's presigner keeps only the first value of a repeated name (S3's
        # own parameters never repeat).
        query = list({random_text(rng, 1, 6, False): random_text(rng, 0, 8) for _ in range(rng.randint(0, 3))}.items())
        host = rng.choice(["127.0.0.1:9000", "s3.eu-west-1.amazonaws.com", "localhost:4566"])
        region = rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"])
        token = rng.choice([None, "FwoGZXIvYXdzEJr//////////wEaDOpV+example/token=="])
        credentials = Credentials("AKID" + str(rng.randint(0, 10**6)), "secret/" + random_text(rng, 8, 20, False), token)
        method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
        body = random_text(rng, 0, 50).encode() if method in ("PUT", "POST") else b""
        url = "http://%s/%s/%s" % (host, bucket, percent_encode(key, safe="/~"))
        if query:
            url += "?" + percent_encode_sequence(query)
        headers = {"Host": host}
        if rng.random() < 0.5:
            headers["Content-Type"] = rng.choice(["application/octet-stream", "text/plain;  charset=utf-8"])
        if rng.random() < 0.3:
            headers["Range"] = "bytes=%d-%d" % (rng.randint(0, 9), rng.randint(10, 99))
        if rng.random() < 0.3:
            headers["x-amz-meta-note"] = "  " + random_text(rng, 1, 10, False) + "   x  "
        if rng.random() < 0.3:
            headers["If-None-Match"] = "*"

        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        S3SigV4Auth(credentials, "s3", region).add_auth(request)
        header_date = request.headers["X-Amz-Date"]

        presigned = AWSRequest(method="GET", url=url, headers={"Host": host})
        S3SigV4QueryAuth(credentials, "s3", region, expires=900).add_auth(presigned)
        presigned_query = dict(parse_qsl(urlsplit(presigned.url).query, keep_blank_values=True))

        cases.append({
            "method": method, "path": "/%s/%s" % (bucket, key), "query": query, "headers": list(headers.items()),
            "payload_hash": hashlib.sha256(body).hexdigest(), "access_key_id": credentials.access_key,
            "secret_access_key": credentials.secret_key, "session_token": token or "", "region": region,
            "header_time": unix(header_date), "authorization": request.headers["Authorization"],
            "presign_time": unix(presigned_query["X-Amz-Date"]), "presign_signature": presigned_query["X-Amz-Signature"],
            "url": url,
        })
    json.dump(cases, sys.stdout, ensure_ascii=False)


main()
