"""/stats through nginx: access, Prometheus text checked by promtool and scraped by a real
Prometheus server, JSON, and opentracker's modes compared side by side with Debian's opentracker."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import harness

HASHES = [bytes([n]) * 20 for n in (1, 2)]


def seed(base, announce):
    """The same small swarm on any tracker: one seeder that completed and one leecher in torrent 1,
    one leecher in torrent 2."""
    announce(base, HASHES[0], b"-qB4650-aaaaaaaaaaaa", 7001, left=0, event="completed")
    announce(base, HASHES[0], b"-qB4650-bbbbbbbbbbbb", 7002, left=10)
    announce(base, HASHES[1], b"-qB4650-cccccccccccc", 7003, left=10)


def get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Content-Type")


@pytest.fixture
def tracker(workdir):
    shoal = harness.Shoal(workdir, workers=2, extra=["--control-database", "", "--stats-token", "s3cret-token-for-tests"])
    nginx = harness.Nginx(workdir, shoal.upstream)
    yield shoal, nginx
    nginx.stop()
    assert shoal.stop() == 0, shoal.output()


def wait_for_flush(nginx, predicate):
    """Workers add their counts once a second."""
    harness.wait_until(lambda: predicate(get(nginx.url("/stats?format=json"))[1]), timeout=10, what="counters flushed")


def test_prometheus_text_passes_promtool_and_counts_every_request(tracker, workdir):
    shoal, nginx = tracker
    seed(nginx.url(""), harness.announce)
    harness.scrape(nginx.url(""), HASHES[0])
    assert harness.get(nginx.url("/announce?info_hash=short"))[0] == 200
    import fastcgi  # nginx answers unknown paths itself; Shoal's own 404, straight on its socket
    assert fastcgi.ask(shoal.listen, fastcgi.announce_params("", path="/nothing-here"))[0] == 404
    def all_counted(text):
        requests = json.loads(text)["requests"]
        return (requests.get("other", {}).get("not_found") == 1 and requests.get("scrape", {}).get("ok") == 1
                and requests.get("announce", {}) == {"ok": 3, "malformed_info_hash": 1})
    wait_for_flush(nginx, all_counted)
    status, body, content_type = get(nginx.url("/stats"))
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for line in ("shoal_torrents 2", 'shoal_peers{family="ipv4"} 3', "shoal_seeders 1", "shoal_leechers 2",
                 "shoal_completed_total 1", 'shoal_requests_total{route="announce",outcome="ok"} 3',
                 'shoal_requests_total{route="announce",outcome="malformed_info_hash"} 1',
                 'shoal_requests_total{route="scrape",outcome="ok"} 1', "shoal_workers_started_total 2"):
        assert line + "\n" in body, (line, body)
    document = json.loads(get(nginx.url("/stats?format=json"))[1])
    assert document["torrents"] == 2 and document["peers"] == 3 and document["batches"]["count"] >= 1


def test_only_loopback_or_the_token_may_read(tracker, workdir):
    shoal, nginx = tracker
    # Straight on the FastCGI socket, so that REMOTE_ADDR can be any address.
    import fastcgi

    def ask(remote, query="", headers=None):
        params = fastcgi.announce_params(query, remote=remote, path="/stats", **(headers or {}))
        return fastcgi.ask(shoal.listen, params)[0]

    assert ask("127.0.0.1") == 200
    assert ask("198.51.100.7") == 403
    assert ask("198.51.100.7", "token=s3cret-token-for-tests") == 200
    assert ask("198.51.100.7", "", {"HTTP_AUTHORIZATION": "Bearer s3cret-token-for-tests"}) == 200
    assert ask("198.51.100.7", "token=s3cret-token-for-test!") == 403
    assert b"s3cret" not in subprocess.run([harness.SHOAL, "check-config", "--stats-token", "s3cret-token-for-tests"],
                                           capture_output=True).stdout


def shape(text):
    """The text with every number replaced: what MRTG and munin scripts rely on."""
    return re.sub(r"[0-9A-F]{40}", "HASH", re.sub(r"\b\d+\b", "N", text))


def test_opentracker_modes_have_opentrackers_shapes_and_figures(tracker, workdir):
    if shutil.which("opentracker") is None:
        pytest.fail("opentracker is not installed: `make test` installs it")
    shoal, nginx = tracker
    whitelist = workdir / "ot" / "whitelist"
    whitelist.parent.mkdir()
    whitelist.write_text("".join(h.hex() + "\n" for h in HASHES))
    port = harness.free_port()
    ot = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port), "-w", "/whitelist",
                           "-A", "127.0.0.1", "-d", str(whitelist.parent), "-u", "nobody"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        harness.wait_until(lambda: harness.port_open("127.0.0.1", port), what="opentracker")
        ot_base = f"http://127.0.0.1:{port}"
        seed(ot_base, harness.announce)
        seed(nginx.url(""), harness.announce)
        wait_for_flush(nginx, lambda text: json.loads(text)["requests"].get("announce", {}).get("ok") == 3)
        for mode in ("peer", "torr", "conn", "scrp", "fscr", "completed", "top100"):
            ours = get(nginx.url(f"/stats?mode={mode}"))
            theirs = get(f"{ot_base}/stats?mode={mode}")
            assert ours[0] == theirs[0] == 200, mode
            assert shape(ours[1]) == shape(theirs[1]), (mode, ours[1], theirs[1])
            if mode in ("peer", "torr", "top100"):
                assert ours[1] == theirs[1], (mode, ours[1], theirs[1])
        # The first two lines of completed are MRTG's two values.
        assert get(nginx.url("/stats?mode=completed"))[1].split("\n")[0] == "1"
        everything = get(nginx.url("/stats?mode=everything"))
        assert everything[2].startswith("text/xml") and "<peers>\n    <count>3</count>" in everything[1]
        tags = lambda xml: re.findall(r"<(\w+)[ >]", xml)
        theirs = tags(get(f"{ot_base}/stats?mode=everything")[1])
        ours = tags(everything[1])
        assert [t for t in theirs if t in ours][:len(ours)] == ours, "our elements, in opentracker's order"
    finally:
        ot.terminate()
        ot.wait(10)


def test_a_real_prometheus_server_scrapes_the_tracker(tracker, workdir):
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus is not installed: `make test` installs it")
    shoal, nginx = tracker
    seed(nginx.url(""), harness.announce)
    config = workdir / "prometheus.yml"
    config.write_text(f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shoal
    metrics_path: /stats
    authorization:
      credentials: s3cret-token-for-tests
    static_configs:
      - targets: ["127.0.0.1:{nginx.port}"]
""")
    port = harness.free_port()
    prometheus = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                                   f"--web.listen-address=127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=open(workdir / "prometheus.log", "wb"))
    try:
        def queried():
            try:
                status, body, _ = get(f"http://127.0.0.1:{port}/api/v1/query?query=shoal_leechers")
            except (urllib.error.URLError, ConnectionError):
                return False  # not listening yet
            if status != 200:
                return False
            result = json.loads(body)["data"]["result"]
            return bool(result) and result[0]["value"][1] == "2"
        harness.wait_until(queried, timeout=60, what="Prometheus to scrape shoal_leechers")
        status, body, _ = get(f"http://127.0.0.1:{port}/api/v1/targets")
        target = json.loads(body)["data"]["activeTargets"][0]
        assert target["health"] == "up", target
    finally:
        prometheus.terminate()
        prometheus.wait(30)
