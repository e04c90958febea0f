"""The client's real address behind proxies, through a real nginx: trusted proxies, forged and
malformed X-Forwarded-For, the ip parameter, and nginx's own real_ip."""
import urllib.request

import pytest

import bencode
import harness

HASH = b"\x42" * 20


def announce_with(url, headers=None, peer=b"-SH0001-address00001", port=6881, left=0, **extra):
    query = harness.announce_query(HASH, peer, port, left=left, **extra)
    request = urllib.request.Request(f"{url}/announce?{query}", headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bencode.decode(response.read())


def external_ip(reply):
    return ".".join(str(b) for b in reply[b"external ip"])


@pytest.fixture
def behind_nginx(workdir):
    """Starts `shoal serve` with the given options behind nginx; stops everything afterwards."""
    started = []

    def start(*options, site=None, edit=None):
        shoal = harness.Shoal(workdir, extra=options, database=str(workdir / f"peers-{len(started)}.db"))
        nginx = harness.Nginx(workdir, shoal.upstream, site=site, edit=edit)
        started.append((nginx, shoal))
        return nginx.url("")

    yield start
    for nginx, shoal in started:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()


def test_forwarded_for_is_ignored_unless_the_sender_is_trusted(behind_nginx):
    url = behind_nginx("--trusted-proxies", "10.0.0.0/8")  # nginx talks from 127.0.0.1: untrusted
    reply = announce_with(url, {"X-Forwarded-For": "203.0.113.9"})
    assert external_ip(reply) == "127.0.0.1"


def test_chain_through_trusted_proxies_yields_the_client(behind_nginx):
    url = behind_nginx("--trusted-proxies", "127.0.0.0/8, 10.0.0.0/8")
    # The client forged 6.6.6.6; a trusted proxy (10.1.1.1) appended what it saw; nginx saw 10.1.1.1.
    reply = announce_with(url, {"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.1.1"})
    assert external_ip(reply) == "203.0.113.9"
    other = announce_with(url, peer=b"-SH0001-address00002", port=6882, left=5)
    assert other[b"peers"] == bytes([203, 0, 113, 9]) + (6881).to_bytes(2, "big")


@pytest.mark.parametrize("header", ["garbage", "203.0.113.9, ", "1.2.3.4.5", "10.1.1.1, unknown", "::ffff:zz"])
def test_malformed_headers_fall_back_to_remote_addr(behind_nginx, header):
    url = behind_nginx("--trusted-proxies", "127.0.0.1")
    assert external_ip(announce_with(url, {"X-Forwarded-For": header})) == "127.0.0.1"


def test_other_headers_when_configured(behind_nginx):
    url = behind_nginx("--trusted-proxies", "127.0.0.1", "--client-address-header", "cf-connecting-ip")
    reply = announce_with(url, {"CF-Connecting-IP": "198.51.100.4", "X-Forwarded-For": "203.0.113.9"})
    assert external_ip(reply) == "198.51.100.4"


def test_ip_parameter_only_when_allowed(behind_nginx):
    default = behind_nginx()
    announce_with(default, ip="192.0.2.44", port=7001)
    reply = announce_with(default, peer=b"-SH0001-address00002", port=7002, left=5)
    assert reply[b"peers"] == bytes([127, 0, 0, 1]) + (7001).to_bytes(2, "big")

    allowing = behind_nginx("--allow-ip-parameter", "yes")
    announce_with(allowing, ip="192.0.2.44", ipv4="192.0.2.99", port=7001)
    reply = announce_with(allowing, peer=b"-SH0001-address00002", port=7002, left=5)
    assert reply[b"peers"] == bytes([192, 0, 2, 44]) + (7001).to_bytes(2, "big")


def test_nginx_real_ip_example_from_the_site_config(behind_nginx):
    """nginx/shoal-site.conf's real_ip lines, switched on: Shoal needs no settings at all."""
    def enable_real_ip(text):
        text = text.replace("#set_real_ip_from 10.0.0.0/8;", "set_real_ip_from 127.0.0.1;")
        return text.replace("#real_ip_header", "real_ip_header").replace("#real_ip_recursive", "real_ip_recursive")

    url = behind_nginx(site="shoal-site.conf", edit=enable_real_ip)
    assert external_ip(announce_with(url, {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})) == "203.0.113.9"


def test_site_config_limits_scrape_bursts_but_not_announces(behind_nginx):
    url = behind_nginx(site="shoal-site.conf")
    statuses = [harness.get(f"{url}/scrape?info_hash=" + "a" * 20)[0] for _ in range(60)]
    assert statuses[:20] == [200] * 20 and 429 in statuses, statuses
    for n in range(30):
        assert b"failure reason" not in announce_with(url, peer=b"-SH0001-burst%07d" % n, port=8000 + n)
