"""Many processes, one database: CGI writers, a pool with killed workers, start-up failures."""
import concurrent.futures
import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse

import pytest

import bencode
import harness
from harness import SHOAL, announce, get, scrape


def cgi(database, path, query, remote="10.0.0.1", extra_env=None, errors=None):
    """Runs shoal once as a CGI program; returns (status line, decoded body). Its stderr, if any,
    is appended to `errors`."""
    env = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "SCRIPT_NAME": path,
           "QUERY_STRING": query, "REMOTE_ADDR": remote, "PATH": os.environ["PATH"], **(extra_env or {})}
    out = subprocess.run([SHOAL, "--database", database], env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=30)
    if errors is not None and out.stderr:
        errors.append(out.stderr.decode(errors="replace"))
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], bencode.decode(body)


def peer_id(n):
    return b"-SH0001-" + b"%012d" % n


def rows(database, sql):
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchone()[0]


def test_concurrent_cgi_processes_lose_nothing(workdir):
    """Every request is a separate process with its own connection to one WAL file."""
    database = str(workdir / "peers.db")
    torrents = [bytes([t]) * 20 for t in range(1, 4)]
    requests = 240
    errors = []

    def one(n):
        query = harness.announce_query(torrents[n % 3], peer_id(n), 10000 + n, left=n % 2, event="completed")
        return cgi(database, "/announce", query, remote=f"10.0.{n // 200}.{n % 200 + 1}", errors=errors)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(requests)))
    assert all(status == b"Status: 200 OK" and b"failure reason" not in body for status, body in results), \
        ([r for r in results if r[0] != b"Status: 200 OK"][:3], errors[:3])
    assert rows(database, "SELECT count(*) FROM peers") == requests
    assert rows(database, "PRAGMA integrity_check") == "ok"
    status, body = cgi(database, "/scrape", "&".join("info_hash=" + urllib.parse.quote_from_bytes(t) for t in torrents))
    files = body[b"files"]
    assert sum(f[b"complete"] for f in files.values()) == requests // 2
    assert sum(f[b"incomplete"] for f in files.values()) == requests // 2
    assert sum(f[b"downloaded"] for f in files.values()) == requests // 2


def test_cgi_mode_answers_503_when_database_is_unusable(workdir):
    status, body = cgi("/nonexistent-dir/peers.db", "/scrape", "info_hash=" + "a" * 20)
    assert status == b"Status: 503 Service Unavailable"
    assert body[b"retry in"] == 1 and b"failure reason" in body


def test_killed_workers_lose_nothing_committed(workdir):
    """SIGKILL workers at random moments under load: every announce that got an answer is in
    the database, counts still agree with rows, and the pool replaces the dead."""
    # Every announce comes from 127.0.0.1 here, with a port of its own: lift the per-address cap.
    shoal = harness.Shoal(workdir, workers=3, extra=["--max-peers-per-address", "100000"])
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        base = nginx.url("")
        info_hash = b"\x42" * 20
        answered, failed = [], []
        stop = threading.Event()

        def client(offset):
            n = offset
            while not stop.is_set() and n < offset + 4000:
                query = harness.announce_query(info_hash, peer_id(n), 20000 + n % 40000, left=n % 3)
                status, body = get(f"{base}/announce?{query}")
                if status == 200 and b"failure reason" not in body:
                    answered.append(n)
                else:
                    failed.append(status)
                n += 1

        threads = [threading.Thread(target=client, args=(i * 10000,)) for i in range(4)]
        for t in threads:
            t.start()
        kills = 0
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            time.sleep(0.4)
            workers = shoal.worker_pids()
            if workers:
                os.kill(workers[kills % len(workers)], signal.SIGKILL)
                kills += 1
        stop.set()
        for t in threads:
            t.join(30)

        assert kills >= 5 and len(answered) > 100
        # A request in flight in a killed worker gets nginx's 502; nothing else may fail. A worker
        # answers a batch of requests at a time, so one kill can catch one in flight per client.
        assert set(failed) <= {502}, set(failed)
        assert len(failed) <= kills * len(threads)
        database = shoal.database
        assert rows(database, "PRAGMA integrity_check") == "ok"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            stored_ports = {int.from_bytes(e[-2:], "big") for (e,) in db.execute("SELECT endpoint FROM peers")}
        stored = len(stored_ports)
        assert {20000 + n % 40000 for n in answered} <= stored_ports, "an answered announce was lost"
        files = scrape(base, info_hash)[b"files"][info_hash]
        assert files[b"complete"] + files[b"incomplete"] == stored
        harness.wait_until(lambda: len(shoal.worker_pids()) == 3, what="replacement workers")
        assert "was killed by signal 9" in shoal.output()
    finally:
        nginx.stop()
        shoal.stop()


def test_a_stuck_turnstile_holder_delays_requests_only_by_the_busy_timeout(workdir):
    """Workers take turns through a flock on the database file. A holder that never lets go (a
    worker stopped in a debugger; here the test itself) delays each request by the busy timeout,
    then the workers answer without it, and the log says why."""
    shoal = harness.Shoal(workdir, workers=2, extra=["--busy-timeout", "300"])
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        base = nginx.url("")
        info_hash = b"\x43" * 20
        status, _ = get(f"{base}/announce?" + harness.announce_query(info_hash, peer_id(1), 30001))
        assert status == 200
        with open(shoal.database, "rb") as database:
            fcntl.flock(database, fcntl.LOCK_EX)
            started = time.monotonic()
            status, body = get(f"{base}/announce?" + harness.announce_query(info_hash, peer_id(2), 30002))
            waited = time.monotonic() - started
            assert status == 200 and b"failure reason" not in body, body
            assert 0.25 <= waited < 2.5, waited
            assert "held the turnstile" in shoal.output()
        started = time.monotonic()
        files = scrape(base, info_hash)[b"files"][info_hash]
        assert files[b"complete"] + files[b"incomplete"] == 2
        assert time.monotonic() - started < 0.25
    finally:
        nginx.stop()
        shoal.stop()


def test_sigterm_stops_pool_and_removes_socket(workdir):
    socket_path = workdir / "shoal.sock"
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{socket_path}")
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        reply = announce(nginx.url(""), b"\x07" * 20, peer_id(1), 6881, left=0)
        assert reply[b"complete"] == 1, "nginx's unprivileged workers reach the Unix socket"
        workers = shoal.worker_pids()
        assert len(workers) == 2
    finally:
        nginx.stop()
    assert shoal.stop(signal.SIGTERM) == 0
    assert not socket_path.exists()
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def start_failure(args):
    out = subprocess.run([SHOAL, *args], capture_output=True, text=True, timeout=30)
    return out.returncode, out.stderr.strip()


def test_startup_errors_say_what_to_fix(workdir):
    with harness.socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, message = start_failure(["serve", "--listen", f"127.0.0.1:{port}", "--database", str(workdir / "a.db")])
    assert code == 1 and "already in use" in message and len(message.splitlines()) == 1, message

    code, message = start_failure(["serve", "--listen", f"127.0.0.1:{harness.free_port()}",
                                   "--database", "/nonexistent-dir/peers.db"])
    assert code == 1 and "cannot use database /nonexistent-dir/peers.db" in message
    assert "writable" in message and len(message.splitlines()) == 1, message

    code, message = start_failure(["serve", "--interval", "0"])
    assert code == 78 and "interval = '0' (command line --interval)" in message and len(message.splitlines()) == 1, message

    code, message = start_failure(["serve", "--database", ":memory:", "--workers", "2"])
    assert code != 0 and ":memory:" in message

    code, message = start_failure(["serve", "--listen", "nowhere"])
    assert code != 0 and "--listen" in message

    code, message = start_failure([])  # started by hand, with no web server around it
    assert code == 64 and "shoal serve" in message


@pytest.mark.skipif(shutil.which("spawn-fcgi") is None, reason="spawn-fcgi is not installed")
def test_fastcgi_on_inherited_socket(workdir):
    """spawn-fcgi binds the socket and execs shoal with it on fd 0, as mod_fcgid and systemd do."""
    port = harness.free_port()
    process = subprocess.Popen(["spawn-fcgi", "-n", "-a", "127.0.0.1", "-p", str(port), "--",
                                SHOAL, "--database", str(workdir / "peers.db")])
    try:
        harness.wait_until(lambda: harness.port_open("127.0.0.1", port), what="spawn-fcgi")
        nginx = harness.Nginx(workdir, f"127.0.0.1:{port}")
        try:
            announce(nginx.url(""), b"\x09" * 20, peer_id(1), 6881, left=0)
            reply = announce(nginx.url(""), b"\x09" * 20, peer_id(2), 6882, left=1)
            assert reply[b"complete"] == 1 and reply[b"incomplete"] == 1
            assert harness.compact_ports(reply[b"peers"]) == {6881}
        finally:
            nginx.stop()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_mod_fcgid_spawns_several_responders_under_load_and_loses_nothing(workdir):
    """Apache's mod_fcgid (apache/shoal-fcgid.conf) starts and manages the responders itself."""
    if shutil.which("apache2") is None:
        pytest.fail("apache2 is not installed: `make test` installs it")
    setup = harness.Setup("apache-fcgid", workdir)
    # All from 127.0.0.1: 60 torrents keep each below the per-address cap (16 peers).
    torrents = [bytes([0x60 + t]) * 20 for t in range(60)]
    requests = 600
    responders = set()

    def one(n):
        query = harness.announce_query(torrents[n % 60], peer_id(n), 10000 + n, left=n % 3, numwant=20)
        status, body = get(setup.url(f"/announce?{query}"))
        if n % 50 == 0:
            responders.update(harness.child_pids_named("shoal"))
        return status, bencode.decode(body) if body.startswith(b"d") else body

    try:
        results = [one(0)]  # creates the database
        # A responder answers an announce in well under a millisecond, so one may keep up with
        # everything. Holding the write lock for a moment (less than the 2 s busy timeout) keeps
        # each responder busy with one request, and mod_fcgid must start more for the others.
        lock = sqlite3.connect(setup.database, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            pending = pool.map(one, range(1, requests))
            deadline = time.monotonic() + 1.2
            while time.monotonic() < deadline and len(responders) < 2:
                responders.update(harness.child_pids_named("shoal"))
                time.sleep(0.05)
            lock.execute("ROLLBACK")
            lock.close()
            results += list(pending)
        failures = [r for r in results if r[0] != 200 or b"failure reason" in r[1]]
        assert not failures, failures[:3]
        assert len(responders) >= 2, responders
        assert rows(setup.database, "SELECT count(*) FROM peers") == requests
        assert rows(setup.database, "PRAGMA integrity_check") == "ok"
        assert rows(setup.database, "SELECT sum(seeders) + sum(leechers) FROM torrents") == requests
    finally:
        setup.stop()
    assert ":error]" not in setup.error_log(), setup.error_log()
