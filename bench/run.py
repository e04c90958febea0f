#!/usr/bin/env python3
"""Side-by-side announce benchmark: opentracker, the bare nginx + FastCGI ceiling, and Shoal.

All three are measured in one run, on 127.0.0.1 only, with the same workload and the same wrk
settings, and every run is bounded in time. For each target it prints requests/s, p50/p99
latency, server CPU per request (summed from /proc over every server process: nginx and the
responders, or opentracker), errors and bad replies; then the ratios Shoal/opentracker and
Shoal/ceiling.

    make bench                       # the defaults below
    bench/run.py --peers 20000 --duration 5 --targets shoal
    bench/run.py --scale             # Shoal's announce cost with 1k, 100k and 1M peers stored
"""
import argparse
import bisect
import grp
import gzip
import hashlib
import hmac
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torrents", type=int, default=10_000, help="torrents in the pool (default 10000)")
    p.add_argument("--peers", type=int, default=200_000, help="distinct peers (default 200000)")
    p.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of torrent popularity (default 1.0)")
    p.add_argument("--numwant", type=int, default=50, help="numwant in every announce (default 50)")
    p.add_argument("--seeders", type=float, default=0.3, help="share of peers that are seeders (default 0.3)")
    p.add_argument("--started", type=float, default=0.05, help="share of announces with event=started")
    p.add_argument("--stopped", type=float, default=0.02, help="share of announces with event=stopped")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per target (default 10)")
    p.add_argument("--close", action="store_true", help="one connection per request instead of keep-alive")
    p.add_argument("--workers", type=int, default=2, help="FastCGI worker processes (default 2)")
    p.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes (default 1)")
    p.add_argument("--upstream-keepalive", type=int, default=0,
                   help="nginx keeps this many idle FastCGI connections open (fastcgi_keep_conn); 0: off")
    p.add_argument("--targets", default="opentracker,ceiling,upsert-select,shoal,shoal-whitelist",
                   help="comma-separated, run in this order: opentracker (with every torrent on its whitelist), "
                        "ceiling, upsert-select (C: one SQLite upsert + one select per announce), shoal (nginx + "
                        "shoal serve, access open), shoal-whitelist (access whitelist, every torrent listed), "
                        "shoal-features (adaptive intervals, status page and full scrape on), "
                        "shoal-private (tracking private: a token per announce, the ledger written), "
                        "cluster (nginx/cluster's front over --cluster-hosts Shoal hosts, all on this machine), "
                        "cluster-haproxy (the same with nginx/cluster/haproxy.cfg as the front), "
                        "apache-fcgid, apache-proxy-fcgi, apache-cgi "
                        "(default opentracker,ceiling,upsert-select,shoal,shoal-whitelist)")
    p.add_argument("--scrape", action="store_true", help="after the prefill, measure scrapes instead of announces")
    p.add_argument("--scrape-hashes", type=int, default=1,
                   help="info_hashes per scrape with --scrape (default 1; the cluster's front splits them per host)")
    p.add_argument("--features", default="--interval-mode adaptive --status-page yes --full-scrape yes",
                   help="the options target shoal-features adds (default: adaptive intervals, status page, full scrape)")
    p.add_argument("--full-scrape", action="store_true",
                   help="Shoal only: full scrape of --torrents swarms (e.g. 1000000): generation time, raw and gzip "
                        "sizes, cached full scrapes per second")
    p.add_argument("--scale", action="store_true", help="Shoal only: announce cost with 1k, 100k, 1M peers stored")
    p.add_argument("--cluster-hosts", type=int, default=3, help="hosts of target cluster (default 3)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the workload (default 1)")
    p.add_argument("--shoal", default=str(ROOT / ".build/release/shoal"), help="the shoal binary")
    p.add_argument("--shoal-before", help="another shoal binary (an earlier commit), measured in the same run as "
                                          "target shoal-before; add it to --targets")
    return p.parse_args()


# ---------------------------------------------------------------- workload

def zipf_sampler(n, exponent, rng):
    weights = [1.0 / (rank ** exponent) for rank in range(1, n + 1)]
    total, cumulative, acc = sum(weights), [], 0.0
    for w in weights:
        acc += w
        cumulative.append(acc / total)
    return lambda: min(bisect.bisect_left(cumulative, rng.random()), n - 1)


def info_hashes(count):
    return [hashlib.sha1(b"shoal-bench-%d" % i).digest() for i in range(count)]


def write_scrapes(args, directory, hashes):
    """As many scrapes of --scrape-hashes hashes each as there are peers, hashes drawn by popularity."""
    rng = random.Random(args.seed + 1)
    pick = zipf_sampler(len(hashes), args.zipf, rng)
    path = directory / "scrapes.txt"
    with open(path, "w") as out:
        for _ in range(args.peers):
            query = "&".join("info_hash=" + urllib.parse.quote_from_bytes(hashes[pick()]) for _ in range(args.scrape_hashes))
            out.write(f"/scrape?{query}\n")
    return path


def write_workload(args, directory, hashes):
    """One announce path per peer; returns the file."""
    rng = random.Random(args.seed)
    path = directory / "requests.txt"
    # Target shoal-private announces the same peers through /<token>/announce.
    private = open(directory / "requests-private.txt", "w") if "shoal-private" in args.targets.split(",") else None
    with open(path, "w") as out:
        pick = zipf_sampler(len(hashes), args.zipf, rng)
        # Every peer of a torrent gets its own port; announce.lua gives each its own address too.
        next_port = [1024] * len(hashes)
        for n in range(args.peers):
            t = pick()
            port = next_port[t]
            next_port[t] = port + 1 if port < 65535 else 1024
            left = 0 if rng.random() < args.seeders else rng.randrange(1, 1 << 30)
            roll = rng.random()
            event = "&event=started" if roll < args.started else (
                "&event=stopped" if roll < args.started + args.stopped else "")
            peer_id = b"-BN0001-" + b"%012d" % n
            line = ("/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d"
                    "&compact=1&numwant=%d&key=%08x%s\n" % (
                        urllib.parse.quote_from_bytes(hashes[t]), urllib.parse.quote_from_bytes(peer_id),
                        port, left, args.numwant, n, event))
            out.write(line)
            if private is not None:
                # The same announce by one of 50,000 users, with the token a site would mint.
                private.write("/" + mint_token(n % 50_000, hashes[t]) + line)
    if private is not None:
        private.close()
    return path


PRIVATE_SECRET = "bench-secret-0123456789abcdef0123456789"


def mint_token(user, info_hash):
    """The README's token recipe (private tracking)."""
    head = struct.pack(">IH", user, 0)
    return (head + hmac.new(PRIVATE_SECRET.encode(), b"shoal-announce-v1" + head + info_hash,
                            hashlib.sha256).digest()[:16]).hex()


# ---------------------------------------------------------------- processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def descendants(pid):
    """pid and every process below it."""
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = pathlib.Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            frontier.append(child)
    return found


def cpu_ticks(pids):
    """utime + stime (and of reaped children) of every live process in pids, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return total


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+)", status)
        total += int(match.group(1)) if match else 0
    return total


class Target:
    """A server under test: the processes to measure and the port wrk talks to."""

    def __init__(self, name, port, roots, cleanup):
        self.name, self.port, self.roots, self.cleanup = name, port, roots, cleanup

    def pids(self):
        return [pid for root in self.roots for pid in descendants(root.pid)]

    def stop(self):
        for root in reversed(self.roots):
            if root.poll() is None:
                root.send_signal(signal.SIGTERM)
        for root in self.roots:
            try:
                root.wait(10)
            except subprocess.TimeoutExpired:
                root.kill()
        self.cleanup()


def start_nginx(directory, upstream, nginx_workers, keepalive=0):
    port = free_port()
    rundir = directory / f"nginx-{port}"
    # Each peer of the workload has an address of its own (X-Real-IP from bench/announce.lua), as
    # on the internet: from one address, Shoal keeps only max-peers-per-address peers per swarm.
    env = dict(os.environ, NGINX_WORKERS=str(nginx_workers), REAL_IP_HEADER="X-Real-IP")
    if keepalive:
        env["FASTCGI_KEEPALIVE"] = str(keepalive)
    subprocess.run([str(ROOT / "scripts/nginx-config.sh"), str(rundir), str(port), upstream], check=True, env=env)
    process = subprocess.Popen(["nginx", "-p", str(rundir), "-c", str(rundir / "nginx.conf"),
                                "-e", str(rundir / "error.log")])
    wait_for_port(port)
    return process, port


def start_opentracker(args, directory, hashes):
    whitelist = directory / "whitelist.txt"
    whitelist.write_text("".join(h.hex() + "\n" for h in hashes))
    port = free_port()
    # opentracker chroots to -d before reading the whitelist, so its path is seen from there.
    process = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
                                "-w", "/" + whitelist.name, "-d", str(directory), "-u", "nobody"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return Target("opentracker", port, [process], lambda: None)


def start_c_responder(name, source, libraries, env=None):
    """A libfcgi responder in C, behind the same nginx and Unix socket setup as Shoal's."""
    def start(args, directory, hashes):
        binary = directory / name
        subprocess.run(["cc", "-O2", "-o", str(binary), str(ROOT / "bench" / source), *libraries], check=True)
        socket_path = directory / f"{name}.sock"
        # spawn-fcgi -n with -F forks the children and waits.
        responder = subprocess.Popen(["spawn-fcgi", "-n", "-s", str(socket_path), "-M", "0666",
                                      "-F", str(args.workers), "--", str(binary)],
                                     env=dict(os.environ, **(env(directory) if env else {})))
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        nginx, port = start_nginx(directory, f"unix:{socket_path}", args.nginx_workers, args.upstream_keepalive)
        return Target(name, port, [responder, nginx], lambda: None)
    return start


# The bare ceiling: a fixed reply. The upsert+select responder: FastCGI plus the minimum SQLite work.
start_ceiling = start_c_responder("ceiling", "ceiling.c", ["-lfcgi"])
start_upsert_select = start_c_responder("upsert-select", "upsert_select.c", ["-lfcgi", "-lsqlite3"],
                                        env=lambda directory: {"BENCH_DB": str(directory / "upsert-select.db")})


def start_shoal(args, directory, hashes, database=None, binary=None, name="shoal", access_mode="open", extra=()):
    socket_path = directory / f"{name}.sock"
    database = database or str(directory / f"{name}.db")
    binary = binary or args.shoal
    # nginx's workers (www-data, as root) reach the socket through its group; a binary from before
    # socket-group existed made it world-writable by default.
    usage = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    access = ["--socket-group", "www-data" if os.geteuid() == 0 else grp.getgrgid(os.getgid()).gr_name] \
        if "--socket-group" in usage else []
    if "--control-database" in usage:
        # Every Shoal target has a control database, as a default installation does: open mode
        # then checks the client rules (none here), whitelist mode also looks every torrent up.
        control = directory / f"{name}-control.db"
        access += ["--control-database", str(control), "--access", access_mode]
        if access_mode == "whitelist":
            whitelist = directory / f"{name}-whitelist.txt"
            whitelist.write_text("".join(h.hex() + "\n" for h in hashes))
            subprocess.run([binary, "torrents", "import", str(whitelist), "--control-database", str(control)],
                           check=True, capture_output=True)
    elif access_mode != "open":
        sys.exit(f"bench: {binary} has no access lists")
    shoal = subprocess.Popen([binary, "serve", "--listen", f"unix:{socket_path}", "--workers",
                              str(args.workers), "--database", database, *access, *extra], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    nginx, port = start_nginx(directory, f"unix:{socket_path}", args.nginx_workers, args.upstream_keepalive)
    target = Target(name, port, [shoal, nginx], lambda: None)
    target.database = database
    return target


def start_cluster(args, directory, hashes, kind="nginx"):
    """nginx/cluster: args.cluster_hosts Shoal hosts (nginx + shoal serve each, on this machine's
    cores) behind the front (front.conf + shoal-front.js, or haproxy.cfg with as many threads
    as nginx has workers), which believes X-Real-IP from loopback so that each peer keeps the
    address the workload gives it."""
    hosts, roots = [], []
    for n in range(args.cluster_hosts):
        host = start_shoal(args, directory, hashes, name=f"cluster-host{n}")
        hosts.append(host)
        roots += host.roots
    front_dir = directory / f"cluster-{kind}-front"
    front_dir.mkdir()
    port = free_port()
    sys.path.insert(0, str(ROOT / "scripts"))
    from cluster_front import front_config, haproxy_config
    listen, upstreams = [f"127.0.0.1:{port}"], [f"127.0.0.1:{h.port}" for h in hosts]
    if kind == "haproxy":
        (front_dir / "haproxy.cfg").write_text(haproxy_config(listen, upstreams, args.nginx_workers, trust_real_ip=True))
        front = subprocess.Popen(["haproxy", "-db", "-f", str(front_dir / "haproxy.cfg")],
                                 stdout=subprocess.DEVNULL, stderr=open(front_dir / "haproxy.log", "wb"))
    else:
        (front_dir / "nginx.conf").write_text(front_config(front_dir, listen, upstreams, args.nginx_workers,
                                                           trust_real_ip=True))
        front = subprocess.Popen(["nginx", "-p", str(front_dir), "-c", str(front_dir / "nginx.conf"),
                                  "-e", str(front_dir / "error.log")])
    try:
        wait_for_port(port)
    except RuntimeError:
        # The hosts are running already: stop them too, then say why the front did not start.
        for host in hosts:
            host.stop()
        front.kill()
        log = front_dir / ("haproxy.log" if kind == "haproxy" else "error.log")
        raise RuntimeError(f"the {kind} front did not start: {log.read_text() if log.exists() else ''}")
    name = "cluster" if kind == "nginx" else f"cluster-{kind}"
    target = Target(name, port, roots + [front], lambda: [h.cleanup() for h in hosts])
    # CPU is also reported per part: the front (decode, hash, proxy) and the hosts.
    target.parts = {"front": [front], "hosts": roots}
    target.database = hosts[0].database
    return target


def apache_starter(setup_name):
    """Shoal deployed under Apache exactly as the end-to-end tests run it (apache/*.conf)."""
    def start(args, directory, hashes):
        sys.path.insert(0, str(ROOT / "Tests/e2e"))
        import harness
        harness.SHOAL = args.shoal
        setup = harness.Setup(setup_name, directory)
        # A `shoal serve` pool (mod_proxy_fcgi) is not below Apache: measure it too.
        roots = [setup.server.process] + ([setup.shoal.process] if setup.shoal else [])
        target = Target(setup_name, setup.server.port, roots, lambda: None)
        target.database = setup.database
        return target
    return start


# ---------------------------------------------------------------- measuring

def wrk(args, port, requests_file, seconds, mode, offset=0):
    env = dict(os.environ, BENCH_REQUESTS=str(requests_file), BENCH_MODE=mode, BENCH_OFFSET=str(offset),
               BENCH_THREADS=str(args.threads), BENCH_CLOSE="1" if args.close else "0")
    out = subprocess.run(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s",
                          "--timeout", "5s", "--latency", "-s", str(ROOT / "bench/announce.lua"),
                          f"http://127.0.0.1:{port}"],
                         env=env, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"BENCH (.*)", out.stdout)
    if not match:
        raise RuntimeError("wrk failed: " + out.stdout + out.stderr)
    return {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}


def prefill(args, target, requests_file):
    """Announces every peer once (walking the list in order) so the swarm is full before measuring."""
    done = 0
    deadline = time.monotonic() + 600
    while done < args.peers and time.monotonic() < deadline:
        result = wrk(args, target.port, requests_file, 5, "sequential", offset=done)
        done += int(result["requests"])
    return done


def measure(args, target, requests_file):
    pids = target.pids()
    before = cpu_ticks(pids)
    result = wrk(args, target.port, requests_file, args.duration, "random")
    after = cpu_ticks(target.pids())
    result["cpu_us"] = (after - before) / TICKS * 1e6 / max(1, result["requests"])
    result["rate"] = result["requests"] / result["seconds"]
    result["rss_kib"] = rss_kib(target.pids())
    # Parts measured over the same interval would need their ticks read alongside; one more run
    # per part is simpler and the load is the same.
    for part, roots in getattr(target, "parts", {}).items():
        pids = [pid for root in roots for pid in descendants(root.pid)]
        before = cpu_ticks(pids)
        again = wrk(args, target.port, requests_file, args.duration, "random")
        result[f"{part}_cpu_us"] = (cpu_ticks(pids) - before) / TICKS * 1e6 / max(1, again["requests"])
    return result


def database_bytes_per_peer(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        peers = db.execute("SELECT count(*) FROM peers").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    return peers, pages / max(1, peers)


def report(results):
    print()
    print(f"{'target':<16} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'CPU µs/req':>11} {'errors':>7} {'closed':>7} "
          f"{'bad':>5} {'failures':>8} {'RSS MiB':>8}")
    for name, r in results.items():
        print(f"{name:<16} {r['rate']:>9.0f} {r['p50_us'] / 1000:>7.2f} {r['p99_us'] / 1000:>7.2f} "
              f"{r['cpu_us']:>11.1f} {int(r['errors']):>7} {int(r['closed']):>7} {int(r['bad']):>5} {int(r['failures']):>8} "
              f"{r['rss_kib'] / 1024:>8.1f}")
    print("closed: connections the server closed after a reply (wrk counts them as read errors); "
          "bad: not HTTP 200 or not a bencoded dictionary; failures: replies with a failure reason")
    if "shoal" in results:
        shoal = results["shoal"]
        for other in ("opentracker", "ceiling", "upsert-select", "shoal-before"):
            if other in results:
                print(f"shoal/{other}: throughput {shoal['rate'] / results[other]['rate']:.2f}x, "
                      f"CPU per request {shoal['cpu_us'] / results[other]['cpu_us']:.2f}x")
        compared = ["shoal-features", "shoal-private", "shoal-whitelist"] + [n for n in results if n.startswith("apache")]
        for other in compared:
            if other in results:
                print(f"{other}/shoal: throughput {results[other]['rate'] / shoal['rate']:.2f}x, "
                      f"CPU per request {results[other]['cpu_us'] / shoal['cpu_us']:.2f}x")
        for name in ("cluster", "cluster-haproxy"):
            if name in results:
                cluster = results[name]
                print(f"{name}/shoal: throughput {cluster['rate'] / shoal['rate']:.2f}x (the hosts and the front share "
                      f"this machine's cores); CPU per request: front {cluster.get('front_cpu_us', 0):.1f} µs, hosts "
                      f"{cluster.get('hosts_cpu_us', 0):.1f} µs, one shoal target {shoal['cpu_us']:.1f} µs")


def fill_database(path, args, hashes, peers):
    """Stores `peers` peers directly (through the schema's triggers) for --scale."""
    rng = random.Random(args.seed)
    pick = zipf_sampler(len(hashes), args.zipf, rng)
    with sqlite3.connect(path) as db:
        db.executescript(peers_schema())
        expires = int(time.time()) + 3600
        rows = []
        for n in range(peers):
            seeder = 1 if rng.random() < args.seeders else 0
            endpoint = bytes([10, n >> 16 & 0xff, n >> 8 & 0xff, n & 0xff, 0x1a, 0xe1])
            # Signed 32-bit, as SQLitePeerStore.storedShuffle stores it.
            rows.append((hashes[pick()], seeder, rng.getrandbits(32) - (1 << 31), endpoint, b"-BN0001-" + b"%012d" % n,
                         seeder, 0, expires))
        db.executemany("INSERT OR IGNORE INTO peers (info_hash, seeding, shuffle, endpoint, peer_id, complete, completed, "
                       "expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def peers_schema():
    """The peers database's section of schema.sql (the control database's follows it)."""
    text = (ROOT / "schema.sql").read_text()
    return text.split("-- ==== peers database ====")[1].split("-- ==== control database ====")[0]


def run_full_scrape(args, directory):
    """Full scrape with --torrents swarms: generation time, sizes, cached full scrapes per second."""
    database = str(directory / "full-scrape.db")
    with sqlite3.connect(database) as db:
        db.executescript(peers_schema())
        expires = int(time.time()) + 3600
        rows = ((hashlib.sha1(b"full-%d" % n).digest(), n % 2, n - (1 << 30), bytes([10, n >> 16 & 0xff, n >> 8 & 0xff,
                 n & 0xff, 0x1a, 0xe1]), b"-BN0001-" + b"%012d" % n, n % 2, 0, expires) for n in range(args.torrents))
        db.executemany("INSERT INTO peers (info_hash, seeding, shuffle, endpoint, peer_id, complete, completed, expires) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    socket_path = directory / "full.sock"
    group = "www-data" if os.geteuid() == 0 else grp.getgrgid(os.getgid()).gr_name
    shoal = subprocess.Popen([args.shoal, "serve", "--listen", f"unix:{socket_path}", "--workers", str(args.workers),
                              "--database", database, "--socket-group", group, "--control-database", "",
                              "--full-scrape", "yes", "--full-scrape-interval", "0", "--full-scrape-cache", "3600"],
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    nginx, port = start_nginx(directory, f"unix:{socket_path}", args.nginx_workers)
    target = Target("full-scrape", port, [shoal, nginx], lambda: None)
    try:
        url = f"http://127.0.0.1:{port}/scrape"
        started = time.monotonic()
        raw = urllib.request.urlopen(url, timeout=600).read()
        generation = time.monotonic() - started
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=600) as response:
            packed = response.read()
            encoding = response.headers.get("Content-Encoding")
        assert encoding == "gzip" and gzip.decompress(packed) == raw, "the gzip copy differs"
        pids = target.pids()
        before = cpu_ticks(pids)
        out = subprocess.run(["wrk", "-t", str(args.threads), "-c", str(min(args.connections, 8)), "-d",
                              f"{args.duration}s", "--timeout", "30s", "-H", "Accept-Encoding: gzip", url],
                             capture_output=True, text=True, timeout=args.duration + 120).stdout
        cpu = (cpu_ticks(target.pids()) - before) / TICKS
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(f"full scrape of {args.torrents} swarms: first (made, then sent) {generation:.2f} s; "
              f"{len(raw)} bytes raw, {len(packed)} gzip ({len(packed) / len(raw):.0%}); "
              f"cached and gzipped: {requests / args.duration:.1f} full scrapes/s, "
              f"{cpu / max(1, requests) * 1000:.1f} ms CPU each, non-2xx {errors.group(1) if errors else 0}")
    finally:
        target.stop()


def run_scale(args, directory, hashes, requests_file):
    print("Shoal announce cost by peers stored (prefilled directly, then announces measured)")
    print(f"{'peers':>9} {'req/s':>9} {'p99 ms':>7} {'CPU µs/req':>11} {'bytes/peer':>11} {'bad':>5}")
    base = None
    for size in (1_000, 100_000, 1_000_000):
        database = str(directory / f"scale-{size}.db")
        fill_database(database, args, hashes, size)
        target = start_shoal(args, directory, hashes, database=database)
        try:
            result = measure(args, target, requests_file)
        finally:
            target.stop()
        _, per_peer = database_bytes_per_peer(database)
        base = base or result["cpu_us"]
        print(f"{size:>9} {result['rate']:>9.0f} {result['p99_us'] / 1000:>7.2f} {result['cpu_us']:>11.1f} "
              f"{per_peer:>11.0f} {int(result['bad'] + result['failures'] + result['errors']):>5}"
              f"   ({result['cpu_us'] / base:.2f}x the 1k cost)")
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(database + suffix).unlink(missing_ok=True)


def main():
    args = parse_args()
    for tool in ("wrk", "nginx", "cc"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is missing; `make bench` installs what it needs")
    args.shoal = os.path.abspath(args.shoal)  # Apache resolves a relative FcgidWrapper from its ServerRoot
    if not os.path.exists(args.shoal):
        sys.exit(f"bench: {args.shoal} is missing; build with `swift build -c release`")
    directory = pathlib.Path(tempfile.mkdtemp(prefix="shoal-bench-", dir="/dev/shm"))
    os.chmod(directory, 0o755)
    try:
        if args.full_scrape:
            run_full_scrape(args, directory)
            return
        hashes = info_hashes(args.torrents)
        requests_file = write_workload(args, directory, hashes)
        measured_file = write_scrapes(args, directory, hashes) if args.scrape else requests_file
        print(f"workload: {args.torrents} torrents (Zipf {args.zipf}), {args.peers} peers, numwant {args.numwant}, "
              f"{args.seeders:.0%} seeders, {args.started:.0%} started / {args.stopped:.0%} stopped, "
              f"{f'scrape ({args.scrape_hashes} hashes each)' if args.scrape else 'announce'}, wrk -t{args.threads} -c{args.connections} "
              f"{'one connection per request' if args.close else 'keep-alive'}, {args.duration}s per target, "
              f"{args.workers} FastCGI workers, {args.nginx_workers} nginx workers, {os.cpu_count()} CPUs")
        if args.scale:
            run_scale(args, directory, hashes, requests_file)
            return

        starters = {"opentracker": start_opentracker, "ceiling": start_ceiling, "upsert-select": start_upsert_select,
                    "shoal": start_shoal,
                    "shoal-whitelist": lambda args, directory, hashes: start_shoal(
                        args, directory, hashes, name="shoal-whitelist", access_mode="whitelist"),
                    "shoal-features": lambda args, directory, hashes: start_shoal(
                        args, directory, hashes, name="shoal-features",
                        extra=args.features.split()),
                    "shoal-private": lambda args, directory, hashes: start_shoal(
                        args, directory, hashes, name="shoal-private",
                        extra=["--tracking", "private", "--secret", PRIVATE_SECRET]),
                    "cluster": start_cluster,
                    "cluster-haproxy": lambda args, directory, hashes: start_cluster(args, directory, hashes, "haproxy"),
                    "shoal-before": lambda args, directory, hashes: start_shoal(
                        args, directory, hashes, binary=os.path.abspath(args.shoal_before), name="shoal-before"),
                    **{name: apache_starter(name) for name in ("apache-fcgid", "apache-proxy-fcgi", "apache-cgi")}}
        results = {}
        names = args.targets.split(",")
        if args.scrape and "upsert-select" in names:
            # It answers every request with an announce reply: there is nothing to compare.
            print("upsert-select: skipped, it does not implement scrape")
            names.remove("upsert-select")
        if args.scrape and "shoal-private" in names:
            print("shoal-private: skipped, its scrapes would need a token per hash")
            names.remove("shoal-private")
        for name in names:
            target = starters[name](args, directory, hashes)
            own_file = directory / "requests-private.txt" if name == "shoal-private" else requests_file
            try:
                filled = prefill(args, target, own_file)
                print(f"{name}: prefilled with {filled} announces", flush=True)
                results[name] = measure(args, target, own_file if name == "shoal-private" else measured_file)
                if hasattr(target, "database"):
                    peers, per_peer = database_bytes_per_peer(target.database)
                    print(f"{name}: {peers} peers stored, {per_peer:.0f} database bytes per peer", flush=True)
            finally:
                target.stop()
        report(results)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
