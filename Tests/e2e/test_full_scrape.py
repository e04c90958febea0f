"""Full scrape through nginx: every swarm in one cached document, gzip, the per-address throttle,
and the access list."""
import gzip
import os
import time
import urllib.request

import bencode
import harness

HASHES = [os.urandom(20) for _ in range(5)]


def full_scrape(nginx, accept_gzip=False):
    request = urllib.request.Request(nginx.url("/scrape"), headers={"Accept-Encoding": "gzip"} if accept_gzip else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        if accept_gzip:
            assert response.headers.get("Content-Encoding") == "gzip"
            body = gzip.decompress(body)
        return bencode.decode(body)


def test_full_scrape_is_every_swarm_gzipped_on_request_and_throttled(workdir):
    shoal = harness.Shoal(workdir, workers=2, extra=["--control-database", "", "--full-scrape", "yes",
                                                     "--full-scrape-interval", "2", "--full-scrape-cache", "1"])
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        for n, info_hash in enumerate(HASHES):
            harness.announce(nginx.url(""), info_hash, b"-qB4650-%012d" % n, 7000 + n, left=n % 2)
        first = full_scrape(nginx)
        assert set(first[b"files"]) == set(HASHES)
        assert first[b"files"] == harness.scrape(nginx.url(""), *HASHES)[b"files"], "the same figures as a scrape"
        throttled = full_scrape(nginx)
        assert throttled[b"failure reason"].startswith(b"full scrape allowed once per") and throttled[b"retry in"] == 1
        time.sleep(2.2)
        # A new swarm; the copy is older than full-scrape-cache: the old one is served, a new one made.
        harness.announce(nginx.url(""), b"\xee" * 20, b"-qB4650-zzzzzzzzzzzz", 7100)
        assert set(full_scrape(nginx, accept_gzip=True)[b"files"]) == set(HASHES)

        def refreshed():
            time.sleep(2.1)
            return b"\xee" * 20 in full_scrape(nginx, accept_gzip=True)[b"files"]
        harness.wait_until(refreshed, timeout=20, what="the full scrape made again")
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()


def test_full_scrape_leaves_out_what_the_list_refuses(workdir):
    control = workdir / "state" / "control.db"
    control.parent.mkdir()
    shoal = harness.Shoal(workdir, workers=2, extra=["--control-database", str(control), "--access", "blacklist",
                                                     "--full-scrape", "yes", "--full-scrape-interval", "0"])
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        for n, info_hash in enumerate(HASHES):
            harness.announce(nginx.url(""), info_hash, b"-qB4650-%012d" % n, 7000 + n)
        import subprocess
        subprocess.run([harness.SHOAL, "torrents", "add", HASHES[0].hex(), "--control-database", str(control)],
                       check=True, capture_output=True)
        assert set(full_scrape(nginx)[b"files"]) == set(HASHES[1:])
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()
