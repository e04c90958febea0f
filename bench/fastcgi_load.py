#!/usr/bin/env python3
"""A fixed sequence of announces straight on a FastCGI socket, one connection each, for counting
instructions under callgrind (bench/instructions.sh): the same bytes every run."""
import hashlib
import hmac
import os
import random
import struct
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import fastcgi  # noqa: E402

address, count = sys.argv[1], int(sys.argv[2])
# Private tracking: each announce carries the token a site would mint with this secret.
secret = os.environ.get("BENCH_PRIVATE_SECRET")


def path_for(user, info_hash):
    if not secret:
        return "/announce"
    head = struct.pack(">IH", user, 0)
    tag = hmac.new(secret.encode(), b"shoal-announce-v1" + head + info_hash, hashlib.sha256).digest()[:16]
    return "/" + (head + tag).hex() + "/announce"


rng = random.Random(1)
hashes = [bytes(rng.randrange(256) for _ in range(20)) for _ in range(200)]
for n in range(count):
    query = urllib.parse.urlencode({"info_hash": hashes[n % 200], "peer_id": b"-qB4650-%012d" % (n % 1000),
                                    "port": 6000 + n % 1000, "left": n % 2})
    params = fastcgi.announce_params(query, remote=f"10.0.{n % 250}.{n % 200}", path=path_for(n % 1000, hashes[n % 200]))
    status, body = fastcgi.ask(address, params)
    assert status == 200 and b"failure" not in body, body
