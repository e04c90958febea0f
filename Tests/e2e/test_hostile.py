"""Hostile clients and peers: hang-ups, idle and half-sent connections, floods. Each test is bounded
in count and time, and targets only loopback."""
import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse

import bencode
import fastcgi
import harness
from harness import SHOAL, get


def peer_id(n):
    return b"-SH0001-" + b"%012d" % n


def query(info_hash, n, port=None, left=1, **extra):
    return harness.announce_query(info_hash, peer_id(n), port or 10000 + n, left=left, **extra)


def rows(database, sql):
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchone()[0]


def assert_consistent(database):
    """The database is sound and the per-swarm counts equal the rows they count."""
    assert rows(database, "PRAGMA integrity_check") == "ok"
    assert rows(database, """SELECT count(*) FROM torrents t WHERE seeders <> (SELECT count(*) FROM peers p
                             WHERE p.info_hash = t.info_hash AND complete = 1) OR leechers <> (SELECT count(*)
                             FROM peers p WHERE p.info_hash = t.info_hash AND complete = 0)""") == 0


def test_peers_that_hang_up_cost_only_their_own_requests(workdir):
    """Thousands of requests whose sender resets the connection right after sending (what nginx does
    when its client goes away) must not kill a worker: the worker that answers one writes to a
    closed socket. On 36b0942 SIGPIPE killed the worker, and the restart back-off made it an
    outage."""
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock")
    try:
        address = shoal.upstream
        info_hash = b"\x51" * 20
        status, _ = fastcgi.ask(address, fastcgi.announce_params(query(info_hash, 0)))
        assert status == 200
        workers = set(shoal.worker_pids())

        def hang_up(n):
            fastcgi.send_and_reset(address, fastcgi.announce_params(query(info_hash, n)))

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(hang_up, range(1, 2001)))
        # Served at once afterwards, by the same workers.
        started = time.monotonic()
        status, body = fastcgi.ask(address, fastcgi.announce_params(query(info_hash, 5000)), timeout=5)
        assert status == 200 and b"failure reason" not in body, body
        assert time.monotonic() - started < 3
        assert set(shoal.worker_pids()) == workers, shoal.output()
        assert "killed by signal" not in shoal.output()
        assert_consistent(shoal.database)
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_clients_that_abort_through_nginx_do_not_hurt_the_others(workdir):
    """HTTP clients that reset right after sending, mixed with real ones, behind nginx (on a Unix
    socket, as `make run` serves)."""
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock")
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        info_hash = b"\x52" * 20
        stop = threading.Event()

        def aborter():
            import socket
            import struct
            n = 100000
            while not stop.is_set():
                n += 1
                with socket.create_connection(("127.0.0.1", nginx.port)) as sock:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.sendall(f"GET /announce?{query(info_hash, n)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

        threads = [threading.Thread(target=aborter) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            statuses = [get(nginx.url(f"/announce?{query(info_hash, n)}"))[0] for n in range(300)]
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        assert statuses.count(200) == len(statuses), [s for s in statuses if s != 200][:5]
        assert "killed by signal" not in shoal.output(), shoal.output()
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()


def test_fd0_responder_survives_hang_ups(workdir):
    """The same in the mode mod_fcgid and spawn-fcgi use: shoal on an inherited socket."""
    path = workdir / "fcgi.sock"
    process = subprocess.Popen(["spawn-fcgi", "-n", "-s", str(path), "--",
                                SHOAL, "--database", str(workdir / "peers.db")])
    try:
        address = f"unix:{path}"
        harness.wait_until(lambda: path.exists(), what="spawn-fcgi")
        info_hash = b"\x53" * 20
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: fastcgi.send_and_reset(address, fastcgi.announce_params(query(info_hash, n))),
                          range(1000)))
        status, _ = fastcgi.ask(address, fastcgi.announce_params(query(info_hash, 999)), timeout=5)
        assert status == 200
        assert process.poll() is None, "the responder died"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def open_descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_per_request_settings_are_bounded_and_contained(workdir):
    """Each distinct SHOAL_BUSY_TIMEOUT value once opened an SQLite connection that was never
    closed, and SHOAL_DATABASE could create a file anywhere the service user can write."""
    allowed = workdir / "sites"
    allowed.mkdir()
    shoal = harness.Shoal(workdir, workers=1, extra=["--request-database-dir", str(allowed)])
    try:
        address = shoal.upstream
        info_hash = b"\x54" * 20
        assert fastcgi.ask(address, fastcgi.announce_params(query(info_hash, 0)))[0] == 200
        (worker,) = shoal.worker_pids()
        before = open_descriptors(worker)
        for n in range(1, 3001):
            params = fastcgi.announce_params(query(info_hash, n), SHOAL_BUSY_TIMEOUT=str(1000 + n))
            assert fastcgi.ask(address, params)[0] == 200
        assert open_descriptors(worker) <= before + 2
        assert rows(shoal.database, "SELECT count(*) FROM peers") == 3001

        # Outside the allowed directory: refused, and nothing is created.
        elsewhere = workdir / "elsewhere.db"
        params = fastcgi.announce_params(query(info_hash, 1), SHOAL_DATABASE=str(elsewhere))
        status, body = fastcgi.ask(address, params)
        assert status == 503 and b"retry in" in body
        assert not elsewhere.exists()
        assert "a request may only name a database directly inside request-database-dir" in shoal.output()

        # Inside it: one database per virtual host, but never more than a few open at once.
        for n in range(40):
            params = fastcgi.announce_params(query(info_hash, n), SHOAL_DATABASE=str(allowed / f"site{n}.db"))
            assert fastcgi.ask(address, params)[0] == 200
        assert len(list(allowed.glob("site*.db"))) == 40
        assert open_descriptors(worker) <= before + 3 * 10, "request-named databases are closed again"
        assert rows(allowed / "site7.db", "SELECT count(*) FROM peers") == 1
    finally:
        assert shoal.stop() == 0, shoal.output()
