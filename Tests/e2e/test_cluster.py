"""Swarms sharded by info_hash across Shoal hosts behind nginx/cluster/front.conf, on loopback:
the routing, the merged scrape, the full scrape merged on a timer, and failover (network
namespaces and real clients: test_cluster_netns.py)."""
import gzip
import json
import hashlib
import http.client
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

import bencode
import harness
from cluster import Front, HAProxyFront, Host

HOSTS = 3


@pytest.fixture
def hosts(workdir):
    started = [Host(workdir, n) for n in range(HOSTS)]
    yield started
    problems = []
    for host in started:  # every one, even if one fails to stop cleanly
        try:
            host.stop()
        except AssertionError as problem:
            problems.append(problem)
    assert not problems, problems


@pytest.fixture
def cluster(workdir, hosts):
    """The nginx front (front.conf + shoal-front.js) over three hosts."""
    for module in ("ngx_http_set_misc_module", "ngx_http_js_module"):
        if not os.path.exists(f"/usr/lib/nginx/modules/{module}.so"):
            pytest.fail(f"{module} is missing: `make test` installs libnginx-mod-http-set-misc and -js")
    front = Front(workdir, hosts)
    yield front, hosts
    front.stop()


@pytest.fixture(params=["nginx", "haproxy"])
def any_cluster(request, workdir, hosts):
    """Either kind of front over three hosts: what both must do alike."""
    if request.param == "nginx":
        front = Front(workdir, hosts)
    else:
        if shutil.which("haproxy") is None:
            pytest.fail("haproxy is not installed: `make test` installs it")
        front = HAProxyFront(workdir, hosts)
    yield front, hosts
    front.stop()


def torrent(n):
    return hashlib.sha1(b"torrent %d" % n).digest()


def spellings(info_hash):
    """Three ways clients write the same 20 bytes: everything escaped upper case, lower case,
    and only what must be escaped (with + for a space)."""
    upper = "".join("%%%02X" % b for b in info_hash)
    lower = "".join("%%%02x" % b for b in info_hash)
    minimal = urllib.parse.quote_plus(info_hash, safe="")
    return [upper, lower, minimal]


def announce(base, encoded_hash, port, left=0):
    url = (f"{base}/announce?info_hash={encoded_hash}&peer_id=-qB4650-{port:012d}&port={port}&left={left}"
           "&uploaded=0&downloaded=0&compact=1")
    status, body = harness.get(url)
    assert status == 200, (status, body)
    reply = bencode.decode(body)
    assert b"failure reason" not in reply, reply
    return reply


def owner(hosts, info_hash):
    """The hosts that hold a swarm of this torrent."""
    return [n for n, host in enumerate(hosts) if info_hash in host.swarm_sizes()]


def test_every_spelling_of_a_hash_lands_in_one_swarm(any_cluster):
    front, hosts = any_cluster
    for n in range(40):
        info_hash = torrent(n)
        for port, spelling in enumerate(spellings(info_hash), start=7000):
            announce(front.base, spelling, port)
        holders = owner(hosts, info_hash)
        assert len(holders) == 1, (n, holders)
        assert hosts[holders[0]].swarm_sizes()[info_hash] == 3
    # and the ring spreads torrents over every host
    assert all(len(host.swarm_sizes()) > 3 for host in hosts), [len(h.swarm_sizes()) for h in hosts]


def test_a_multi_hash_scrape_is_the_union_of_the_hosts_answers(cluster):
    front, hosts = cluster
    hashes = [torrent(n) for n in range(12)]
    for n, info_hash in enumerate(hashes):
        for port in range(7000, 7000 + n % 4 + 1):
            announce(front.base, spellings(info_hash)[port % 3], port, left=port % 2)
    query = "&".join("info_hash=" + spellings(h)[i % 3] for i, h in enumerate(hashes + [torrent(99)]))
    status, body = harness.get(f"{front.base}/scrape?{query}")
    assert status == 200
    merged = bencode.decode(body)
    expected = {}
    for host in hosts:
        mine = [h for h in hashes if h in host.swarm_sizes()]
        if not mine:
            continue
        q = "&".join("info_hash=" + urllib.parse.quote_from_bytes(h) for h in mine)
        _, direct = harness.get(f"http://127.0.0.1:{host.port}/scrape?{q}")
        expected.update(bencode.decode(direct)[b"files"])
    files = merged[b"files"]
    assert set(files) - {torrent(99)} == set(hashes)
    assert {h: files[h] for h in hashes} == expected
    assert files[torrent(99)][b"complete"] == 0 and merged[b"flags"][b"min_request_interval"] > 0
    # raw keys in byte order, as BEP 3 wants (and a single hash goes straight to its host)
    assert list(files) == sorted(files)
    status, body = harness.get(f"{front.base}/scrape?info_hash={spellings(hashes[0])[0]}")
    assert bencode.decode(body)[b"files"][hashes[0]] == expected[hashes[0]]


def announce_load(base, hashes, port, stop, results):
    """Announces round the hashes until `stop`, recording (when, status); 0 for no answer."""
    n = 0
    while not stop.is_set():
        info_hash = hashes[n % len(hashes)]
        n += 1
        url = (f"{base}/announce?info_hash={spellings(info_hash)[n % 3]}&peer_id=-qB4650-{port:012d}&port={port}"
               "&left=0&uploaded=0&downloaded=0&compact=1")
        try:
            status, _ = harness.get(url)
        except OSError:
            status = 0
        results.append((time.monotonic(), status))


def kill_under_load(base, hashes, first_port, kill):
    """Four clients announce all the while (each the same peer every time: swarms grow by one
    each) and `kill` runs under them. The front retries the next host on the ring at once (a
    refused connection, a reset, or the host nginx's 502 all count): no announce may fail,
    beyond a failover window of one second."""
    stop = threading.Event()
    results = []
    load = [threading.Thread(target=announce_load, args=(base, hashes, first_port + t, stop, results))
            for t in range(4)]
    for thread in load:
        thread.start()
    time.sleep(1)
    killed = time.monotonic()
    kill()
    time.sleep(3)
    stop.set()
    for thread in load:
        thread.join()
    after_kill = [(when - killed, status) for when, status in results if when >= killed]
    failed = [(round(when, 3), status) for when, status in after_kill if status != 200]
    assert len(after_kill) > 100 and all(when < 1.0 for when, _ in failed), (len(after_kill), failed)
    print(f"announces after the kill: {len(after_kill)}, not answered 200: {failed}")


def test_a_host_killed_under_load_moves_only_its_swarms_and_they_come_back(any_cluster):
    front, hosts = any_cluster
    hashes = [torrent(n) for n in range(60)]
    for info_hash in hashes:
        announce(front.base, spellings(info_hash)[0], 7000)
    before = {h: owner(hosts, h)[0] for h in hashes}
    dead = 1
    port = hosts[dead].port
    moved = [h for h in hashes if before[h] == dead]
    assert moved, "host 1 owned no swarm"
    kill_under_load(front.base, hashes, 7001, hosts[dead].kill)
    # The other swarms stayed where they were; the dead host's re-formed, each on one other host.
    living = [h for n, h in enumerate(hosts) if n != dead]
    for info_hash in hashes:
        if before[info_hash] != dead:
            assert hosts[before[info_hash]].swarm_sizes()[info_hash] == 5
            assert owner(hosts, info_hash) == [before[info_hash]]
        else:
            # A new peer now lands on exactly one living host.
            announce(front.base, spellings(info_hash)[0], 7020)
            assert sum(host.has_peer(info_hash, 7020) for host in living) == 1
            holders = owner(living, info_hash)
            if isinstance(front, HAProxyFront):
                # Before its health check marks the host down (up to 2 s), HAProxy's redispatch
                # walks the ring from the nearest point, not from where the swarm then settles:
                # a swarm can be split over two hosts for one interval.
                assert 1 <= len(holders) <= 2
            else:
                assert len(holders) == 1 and living[holders[0]].swarm_sizes()[info_hash] == 5
    hosts[dead].start(port=port)
    # nginx tries a failed server again after fail_timeout (10 s); until then its swarms stay
    # moved. A new peer in its database shows it is back.
    def back():
        announce(front.base, spellings(moved[0])[2], 7010)
        return hosts[dead].has_peer(moved[0], 7010)
    harness.wait_until(back, timeout=30, what="the host to get its swarms back")
    for info_hash in moved:
        announce(front.base, spellings(info_hash)[2], 7011)
        assert hosts[dead].has_peer(info_hash, 7011), "the swarm did not move back"


def test_too_many_hashes_in_one_scrape_are_refused_at_the_front(cluster):
    front, _ = cluster
    query = "&".join("info_hash=" + spellings(torrent(n))[0] for n in range(65))
    status, body = harness.get(f"{front.base}/scrape?{query}")
    assert status == 200 and bencode.decode(body) == {b"failure reason": b"too many info_hash values (at most 64)"}


def get_from(source, base, path, headers=None):
    """A GET from a loopback address of our choice: the front limits full scrapes per address."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def merge_scrapes(front, hosts):
    return subprocess.run([str(harness.ROOT / "nginx/cluster/shoal-cluster-scrape"), str(front.dir / "fullscrape"),
                           *[f"127.0.0.1:{h.port}" for h in hosts]], env=dict(os.environ, SHOAL=harness.SHOAL),
                          capture_output=True, text=True, timeout=60)


def test_the_full_scrape_is_the_hosts_own_merged_on_a_timer(cluster):
    front, hosts = cluster
    _, _, body = get_from("127.0.0.3", front.base, "/scrape")
    assert bencode.decode(body) == {b"failure reason": b"full scrape is not available"}
    hashes = [torrent(n) for n in range(30)]
    for n, info_hash in enumerate(hashes):
        for port in range(7000, 7000 + n % 3 + 1):
            announce(front.base, spellings(info_hash)[n % 3], port, left=port % 2)
    made = merge_scrapes(front, hosts)
    assert made.returncode == 0, made.stderr
    expected = {}
    for host in hosts:
        _, direct = harness.get(f"http://127.0.0.1:{host.port}/scrape")
        expected.update(bencode.decode(direct)[b"files"])
    assert set(expected) == set(hashes) and all(len(h.swarm_sizes()) for h in hosts)

    status, headers, body = get_from("127.0.0.1", front.base, "/scrape")
    assert status == 200 and headers["Content-Type"] == "text/plain"
    files = bencode.decode(body)[b"files"]
    assert files == expected and list(files) == sorted(files)
    # gzip when the client takes it; /scrape.php too
    status, headers, body = get_from("127.0.0.2", front.base, "/scrape.php", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert bencode.decode(gzip.decompress(body))[b"files"] == expected
    # one a minute per address: sooner is told when to come back
    _, _, body = get_from("127.0.0.1", front.base, "/scrape")
    assert bencode.decode(body) == {b"failure reason": b"full scrape at most once a minute: wait", b"retry in": 60}

    # A host that cannot answer: nothing is written, the last merged copy stays and is served.
    before = (front.dir / "fullscrape").read_bytes()
    announce(front.base, spellings(torrent(500))[0], 7100)
    hosts[2].stop()
    failed = merge_scrapes(front, hosts)
    assert failed.returncode == 1 and "left as it was" in failed.stderr, failed.stderr
    assert (front.dir / "fullscrape").read_bytes() == before
    _, _, body = get_from("127.0.0.4", front.base, "/scrape")
    assert bencode.decode(body)[b"files"] == expected
    hosts[2].start()


def test_prometheus_sums_the_hosts_stats_with_the_shipped_rules(cluster, workdir):
    """nginx/cluster/prometheus.yml and shoal-cluster.rules.yml, as shipped but for the targets,
    on a real Prometheus: the cluster's torrents and peers are the sums of its hosts'."""
    front, hosts = cluster
    for n in range(30):
        for port in range(7000, 7000 + n % 3 + 1):
            announce(front.base, spellings(torrent(n))[0], port, left=port % 2)
    shipped = harness.ROOT / "nginx/cluster"
    targets = ", ".join(f'"127.0.0.1:{h.port}"' for h in hosts)
    config = (shipped / "prometheus.yml").read_text().replace("scrape_interval: 15s", "scrape_interval: 1s\n  evaluation_interval: 1s")
    config = config.replace('"10.77.0.2:80", "10.77.0.3:80", "10.77.0.4:80"', targets)
    assert targets in config
    (workdir / "prometheus.yml").write_text(config)
    (workdir / "shoal-cluster.rules.yml").write_text((shipped / "shoal-cluster.rules.yml").read_text())
    port = harness.free_port()
    prometheus = subprocess.Popen(["prometheus", f"--config.file={workdir / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=open(workdir / "prometheus.log", "wb"))

    def query(expression):
        try:
            status, body = harness.get(f"http://127.0.0.1:{port}/api/v1/query?query={urllib.parse.quote(expression)}")
        except OSError:
            return None  # not listening yet
        result = json.loads(body)["data"]["result"] if status == 200 else []
        return {tuple(sorted((k, v) for k, v in r["metric"].items() if k != "__name__")): float(r["value"][1])
                for r in result}

    try:
        harness.wait_until(lambda: query("shoal_cluster:torrents") == {(): 30.0}, timeout=90,
                           what="Prometheus's shoal_cluster:torrents to reach 30")
        assert query("shoal_cluster:hosts_up") == {(): 3.0}
        peers = sum(n % 3 + 1 for n in range(30))
        assert query('shoal_cluster:peers{family="ipv4"}') == {(("family", "ipv4"),): float(peers)}
        assert query("shoal_cluster:seeders")[()] + query("shoal_cluster:leechers")[()] == peers
        share = query("shoal_cluster:largest_host_share")[()]
        assert 1 / 3 <= share < 1, share
    finally:
        prometheus.terminate()
        prometheus.wait(30)


def test_the_haproxy_front_answers_one_hash_scrapes_and_refuses_the_others(hosts, workdir):
    front = HAProxyFront(workdir, hosts)
    try:
        for n in range(6):
            announce(front.base, spellings(torrent(n))[n % 3], 7000)
        for n in range(6):
            holder = hosts[owner(hosts, torrent(n))[0]]
            path = f"/scrape?info_hash={spellings(torrent(n))[(n + 1) % 3]}"
            _, direct = harness.get(f"http://127.0.0.1:{holder.port}{path}")
            status, body = harness.get(front.base + path)
            assert status == 200 and body == direct and bencode.decode(body)[b"files"][torrent(n)][b"complete"] == 1
        _, body = harness.get(f"{front.base}/scrape?info_hash={spellings(torrent(0))[0]}&info_hash={spellings(torrent(1))[0]}")
        assert bencode.decode(body)[b"failure reason"].startswith(b"scrape one info_hash per request")
        _, body = harness.get(f"{front.base}/scrape")
        assert bencode.decode(body) == {b"failure reason": b"full scrape is not available"}
    finally:
        front.stop()


HOSTILE = [
    "/announce?info_hash=%zz%&peer_id=x&port=1",          # broken escapes
    "/announce?info_hash=" + "%41" * 4000,                  # a long key
    "/announce?info_hash=&info_hash=&port=0",               # empty, repeated
    "/announce",                                            # nothing
    "/scrape?info_hash=%zz",                                # one broken hash
    "/scrape?info_hash=short&info_hash=" + "%00" * 20,      # a bad one among good
    "/scrape?info_hash=" + "&info_hash=".join(["%FF" * 20] * 64),  # 64 of the same
    "/scrape?" + "&".join(f"info_hash={'%01' * 19}%{n:02X}" for n in range(40)) + "&x=" + "y" * 6000,
    "/scrape?info_hash",                                    # a key without =
    "/scrape?=&&&info_hash=%",                              # junk separators
    "/x/announce/../../scrape?info_hash=" + "%41" * 20,     # dot segments
    "/shoal_shard/scrape?info_hash=" + "%41" * 20,          # the internal location, from outside
    "/shoal_full_scrape",
    "/shoal_merged_scrape/scrape?info_hash=" + "%41" * 20 + "&info_hash=" + "%42" * 20,
]


def test_hostile_requests_at_the_front_get_answers_never_a_5xx(cluster):
    """What a hostile client may send the front: each gets a bencoded answer (a failure reason or
    scrape files) or a 4xx, never a 5xx, and the front and the hosts keep serving."""
    front, hosts = cluster
    for path in HOSTILE:
        status, body = harness.get(front.base + path)
        assert status < 500, (path[:80], status, body[:200])
        if status == 200:
            assert isinstance(bencode.decode(body), dict), (path[:80], body[:200])
    announce(front.base, spellings(torrent(1))[0], 7000)
    assert "[alert]" not in (front.dir / "error.log").read_text()


def test_two_fronts_with_the_same_host_list_route_alike(cluster, workdir):
    """The ring depends only on the host list: a second front (no contact with the first, as
    behind DNS round robin) sends every torrent to the same host."""
    front, hosts = cluster
    other = Front(workdir, hosts, name="front2")
    try:
        for n in range(30):
            announce(front.base, spellings(torrent(n))[0], 7000)
            announce(other.base, spellings(torrent(n))[1], 7001)
        for n in range(30):
            holders = owner(hosts, torrent(n))
            assert len(holders) == 1 and hosts[holders[0]].swarm_sizes()[torrent(n)] == 2, (n, holders)
    finally:
        other.stop()


def test_a_stuck_host_costs_one_timeout_then_its_swarms_are_served_elsewhere(any_cluster):
    """A host whose processes all hang (SIGSTOP): the front waits out its read timeout (5 s:
    above Shoal's busy-timeout, below libtorrent's 10 s) once, answers from the next host on the
    ring, and then skips the stuck host; when it resumes, it serves again."""
    front, hosts = any_cluster
    hashes = [torrent(n) for n in range(30)]
    for info_hash in hashes:
        announce(front.base, spellings(info_hash)[0], 7000)
    stuck = 0
    mine = [h for h in hashes if owner(hosts, h) == [stuck]]
    assert mine, "host 0 owned no swarm"
    processes = [hosts[stuck].nginx.process.pid, hosts[stuck].shoal.process.pid, *hosts[stuck].shoal.worker_pids()]
    processes += [int(p) for p in subprocess.run(["ps", "-o", "pid=", "--ppid", str(hosts[stuck].nginx.process.pid)],
                                                 capture_output=True, text=True).stdout.split()]
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        for info_hash in mine:
            announce(front.base, spellings(info_hash)[1], 7001)  # answered (by another host), status 200
            assert any(host.has_peer(info_hash, 7001) for n, host in enumerate(hosts) if n != stuck)
        for info_hash in hashes:
            if info_hash not in mine:
                announce(front.base, spellings(info_hash)[1], 7001)
                assert owner(hosts, info_hash) != [] and not hosts[stuck].has_peer(info_hash, 7001)
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)
    status, body = harness.get(f"http://127.0.0.1:{hosts[stuck].port}/scrape?info_hash={spellings(mine[0])[0]}")
    assert status == 200 and bencode.decode(body)[b"files"][mine[0]][b"complete"] >= 1


def test_scrapes_of_several_hashes_are_limited_per_address(cluster):
    """Each costs the hosts a request per hash: one address gets 5 a second (bursts of 10), then
    a failure reason with `retry in`; another address is served meanwhile."""
    front, _ = cluster
    path = "/scrape?" + "&".join("info_hash=" + spellings(torrent(n))[0] for n in range(8))
    answers = [bencode.decode(get_from("127.0.0.5", front.base, path)[2]) for _ in range(30)]
    served = [a for a in answers if b"files" in a]
    refused = [a for a in answers if b"failure reason" in a]
    assert len(served) + len(refused) == 30 and len(served) >= 10 and refused, (len(served), len(refused))
    assert refused[0] == {b"failure reason": b"too many scrapes of several hashes from your address", b"retry in": 10}
    assert b"files" in bencode.decode(get_from("127.0.0.6", front.base, path)[2])
