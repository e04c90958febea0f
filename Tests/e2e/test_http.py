"""Announce and scrape over HTTP through every deployment: nginx, Apache (mod_fcgid, .htaccess, mod_proxy_fcgi) and plain CGI."""
import os
import urllib.parse

import pytest

import bencode
import harness
from harness import announce, compact_ports, get, scrape

HASH = bytes(range(20))  # starts with a NUL byte: binary-safe all the way through
SEEDER = b"-SH0001-seeder000001"
LEECHER = b"-SH0001-leecher00001"


def base(nginx, host="127.0.0.1"):
    return nginx.url("", host)


def test_two_peers_find_each_other_and_scrape_agrees(tracker):
    first = announce(base(tracker), HASH, SEEDER, 6881, left=0, event="started")
    assert first[b"complete"] == 1 and first[b"incomplete"] == 0
    assert first[b"peers"] == b""
    assert 1620 <= first[b"interval"] <= 1980 and first[b"min interval"] == 900

    second = announce(base(tracker), HASH, LEECHER, 6882, left=100, event="started")
    assert second[b"peers"] == bytes([127, 0, 0, 1]) + (6881).to_bytes(2, "big")
    assert second[b"external ip"] == bytes([127, 0, 0, 1])

    done = announce(base(tracker), HASH, LEECHER, 6882, left=0, event="completed")
    assert done[b"downloaded"] == 1 and done[b"complete"] == 2 and done[b"incomplete"] == 0

    files = scrape(base(tracker), HASH, b"\xff" * 20)[b"files"]
    assert files[HASH] == {b"complete": 2, b"incomplete": 0, b"downloaded": 1, b"downloaders": 0}
    assert files[b"\xff" * 20] == {b"complete": 0, b"incomplete": 0, b"downloaded": 0, b"downloaders": 0}


def test_stopped_peer_is_gone(tracker):
    announce(base(tracker), HASH, SEEDER, 7001, left=0)
    announce(base(tracker), HASH, LEECHER, 7002, left=5, event="stopped")
    reply = announce(base(tracker), HASH, LEECHER, 7003, left=5)
    assert compact_ports(reply[b"peers"]) == {7001}
    assert scrape(base(tracker), HASH)[b"files"][HASH][b"incomplete"] == 1


def test_prefixed_path_and_php_spelling_are_routed(tracker):
    for path in ("/tracker/announce", "/announce.php"):
        query = harness.announce_query(HASH, SEEDER, 7100, left=0)
        status, body = get(tracker.url(f"{path}?{query}"))
        assert status == 200 and b"failure reason" not in bencode.decode(body)


def test_dictionary_reply_when_compact_is_zero(tracker):
    announce(base(tracker), HASH, SEEDER, 7201, left=0)
    reply = announce(base(tracker), HASH, LEECHER, 7202, left=9, compact=0)
    assert reply[b"peers"] == [{b"ip": b"127.0.0.1", b"port": 7201, b"peer id": SEEDER}]
    reply = announce(base(tracker), HASH, LEECHER, 7202, left=9, compact=0, no_peer_id=1)
    assert reply[b"peers"] == [{b"ip": b"127.0.0.1", b"port": 7201}]


@pytest.mark.skipif(not harness.has_ipv6_loopback(), reason="no IPv6 on loopback")
def test_ipv6_peers_go_to_peers6(tracker):
    announce(base(tracker, "::1"), HASH, SEEDER, 7301, left=0)
    reply = announce(base(tracker), HASH, LEECHER, 7302, left=9)
    assert reply[b"peers"] == b""
    assert reply[b"peers6"] == bytes(15) + b"\x01" + (7301).to_bytes(2, "big")
    back = announce(base(tracker, "::1"), HASH, SEEDER, 7301, left=0)
    assert back[b"peers"] == bytes([127, 0, 0, 1]) + (7302).to_bytes(2, "big")
    assert back[b"external ip"] == bytes(15) + b"\x01"


def good(**changes):
    params = {"info_hash": urllib.parse.quote_from_bytes(HASH), "peer_id": "-SH0001-abcdefghijkl",
              "port": "6881", "left": "0"}
    params.update(changes)
    return "&".join(f"{k}={v}" for k, v in params.items() if v is not None)


BAD_ANNOUNCES = [
    (good(info_hash=None), "missing info_hash"),
    (good(info_hash="%01%02%03"), "info_hash must be 20 bytes"),
    (good(info_hash=urllib.parse.quote_from_bytes(bytes(21))), "info_hash must be 20 bytes"),
    (good(info_hash="%zz"), "malformed percent-encoding in query string"),
    (good(peer_id=None), "missing peer_id"),
    (good(peer_id="short"), "peer_id must be 20 bytes"),
    (good(port="0"), "port must be 1-65535"),
    (good(port="65536"), "port must be 1-65535"),
    (good(port="abc"), "port must be 1-65535"),
    (good(left="-1"), "left must be a non-negative integer"),
    (good(left="1e9"), "left must be a non-negative integer"),
    (good(uploaded="-5"), "uploaded must be a non-negative integer"),
    (good(numwant="lots"), "numwant must be a non-negative integer"),
    (good(event="exploded"), "event must be started, completed, stopped, paused or empty"),
    (good() + "&x=" + "a" * 9000, "query string too long"),
]


@pytest.mark.parametrize("query,reason", BAD_ANNOUNCES, ids=[f"{i}-{r}" for i, (_, r) in enumerate(BAD_ANNOUNCES)])
def test_bad_announces_get_a_failure_reason_and_change_nothing(tracker, query, reason):
    announce(base(tracker), b"\xee" * 20, SEEDER, 7400, left=0)
    status, body = get(tracker.url(f"/announce?{query}"))
    if status == 414 and tracker.name.startswith("apache"):
        assert reason == "query string too long"  # Apache's LimitRequestLine (8190) refused it first
    else:
        assert status == 200
        assert bencode.decode(body) == {b"failure reason": reason.encode()}
    assert scrape(base(tracker), b"\xee" * 20)[b"files"][b"\xee" * 20][b"complete"] == 1


def test_bad_scrapes_and_wrong_paths(tracker):
    status, body = get(tracker.url("/scrape"))
    assert status == 200 and b"full scrape" in bencode.decode(body)[b"failure reason"]
    status, body = get(tracker.url("/scrape?info_hash=abc"))
    assert status == 200 and bencode.decode(body)[b"failure reason"] == b"info_hash must be 20 bytes"
    many = "&".join("info_hash=" + urllib.parse.quote_from_bytes(os.urandom(20)) for _ in range(65))
    status, body = get(tracker.url(f"/scrape?{many}"))
    assert status == 200 and b"at most 64" in bencode.decode(body)[b"failure reason"]
    for path in ("/", "/statistics", "/announce/extra", "/favicon.ico"):
        status, body = get(tracker.url(path))
        assert status == 404, path
        # A drop-in leaves other paths to the site (the web server's own 404); shoal's is bencoded.
        if body.startswith(b"d"):
            assert b"failure reason" in bencode.decode(body)


def test_stats_reach_shoal_in_every_setup(tracker):
    """The recipes route /stats to Shoal, which answers loopback (the tests' client)."""
    harness.announce(tracker.url(""), b"\x07" * 20, b"-qB4650-statsstatsst", 7001)
    status, body = get(tracker.url("/stats?mode=peer"))
    assert status == 200 and body.endswith(b"opentracker"), (status, body)
    status, _ = get(tracker.url("/file?info_hash=" + "00" * 20))
    assert status == 404, "serve-torrents is off"
