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
        assert_consistent(shoal.database)
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()


def test_killing_nginx_under_load_kills_no_worker(workdir):
    """nginx killed with requests in flight closes every upstream connection at once."""
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock")
    try:
        workers = set(shoal.worker_pids())
        info_hash = b"\x5b" * 20
        for round in range(5):
            nginx = harness.Nginx(workdir, shoal.upstream)
            stop = threading.Event()

            def load(offset):
                n = offset
                while not stop.is_set():
                    n += 1
                    try:
                        get(nginx.url(f"/announce?{query(info_hash, n % 50000)}"), timeout=2)
                    except Exception:
                        pass

            threads = [threading.Thread(target=load, args=(i * 1000 + round * 20000,)) for i in range(16)]
            for t in threads:
                t.start()
            time.sleep(1)
            # The master and its workers at once, as the OOM killer or `kill -9` would: the master
            # first, or it starts new workers that nobody would ever stop.
            nginx_workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(nginx.process.pid)],
                                           capture_output=True, text=True).stdout.split()
            nginx.process.kill()
            nginx.process.wait(10)
            for pid in nginx_workers:
                subprocess.run(["kill", "-KILL", pid], capture_output=True)
            stop.set()
            for t in threads:
                t.join(10)
        assert set(shoal.worker_pids()) == workers, shoal.output()
        assert "killed by signal" not in shoal.output()
        assert fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(info_hash, 1)))[0] == 200
        assert_consistent(shoal.database)
    finally:
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
            params = fastcgi.announce_params(query(info_hash, n), remote=f"10.0.{n >> 8}.{n & 0xff}",
                                             SHOAL_BUSY_TIMEOUT=str(1000 + n))
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
        assert_consistent(shoal.database)
        assert_consistent(allowed / "site7.db")
    finally:
        assert shoal.stop() == 0, shoal.output()


def raise_own_descriptor_limit(count):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(count, hard), hard))


def idle_connections(address, count):
    """`count` connections that connect and send nothing, as a hostile local user would."""
    socks = []
    deadline = time.monotonic() + 60
    while len(socks) < count and time.monotonic() < deadline:
        try:
            socks.append(fastcgi.connect(address, timeout=5))
        except BlockingIOError:
            time.sleep(0.001)  # the backlog is full for a moment (a Unix socket says so at once)
    return socks


def test_idle_connections_cannot_lock_out_the_web_server(workdir):
    """9,000 idle connections once blocked every request (a fixed cap of 4,096 per worker)."""
    raise_own_descriptor_limit(12000)
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock")
    socks = []
    try:
        socks = idle_connections(shoal.upstream, 9000)
        assert len(socks) == 9000
        # Right after the flood the backlog may still be full for a moment (the workers are
        # accepting the last of it), and a Unix socket says so at once: retry as nginx's next
        # request would, for at most 10 s.
        deadline = time.monotonic() + 10
        while True:
            try:
                status, body = fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(b"\x55" * 20, 1)), timeout=10)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the backlog stayed full for 10 s"
                time.sleep(0.01)
        assert status == 200 and b"failure reason" not in body
        assert_consistent(shoal.database)
    finally:
        for sock in socks:
            sock.close()
        assert shoal.stop() == 0, shoal.output()


def shoal_with_descriptor_limit(workdir, limit, workers):
    """`shoal serve` started as under `ulimit -n LIMIT` (soft and hard)."""
    import resource

    def set_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return harness.Shoal(workdir, workers=workers, listen=f"unix:{workdir}/shoal.sock", preexec_fn=set_limit)


def test_a_low_descriptor_limit_makes_room_instead_of_spinning(workdir):
    """Under `ulimit -n 1024`, 2,100 idle connections once left both workers spinning on accept4
    failing with EMFILE, with nothing logged. Now the cap follows the limit and the quietest
    connection makes room for a new one."""
    raise_own_descriptor_limit(4000)
    shoal = shoal_with_descriptor_limit(workdir, 1024, workers=2)
    socks = []
    try:
        socks = idle_connections(shoal.upstream, 2100)
        for n in range(20):
            status, _ = fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(b"\x56" * 20, n)), timeout=10)
            assert status == 200
        for pid in shoal.worker_pids():
            assert len(os.listdir(f"/proc/{pid}/fd")) <= 1024
        # The evicted connections were closed by the workers, not left half-open.
        closed = 0
        for sock in socks:
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
        assert closed >= 2100 - 2 * 1024, closed
        assert_consistent(shoal.database)
    finally:
        for sock in socks:
            sock.close()
        assert shoal.stop() == 0, shoal.output()


def test_a_half_sent_request_times_out(workdir):
    """A connection that sends part of a request and stops is closed after 10 s."""
    shoal = harness.Shoal(workdir, workers=1, listen=f"unix:{workdir}/shoal.sock")
    try:
        sock = fastcgi.connect(shoal.upstream, timeout=20)
        request = fastcgi.request_bytes(fastcgi.announce_params(query(b"\x57" * 20, 1)))
        sock.sendall(request[:20])
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by shoal
        assert time.monotonic() - started >= 9
        # Meanwhile and afterwards, everyone else is served.
        assert fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(b"\x57" * 20, 2)))[0] == 200
        assert_consistent(shoal.database)
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_the_socket_is_not_open_to_every_local_user(workdir):
    path = workdir / "shoal.sock"
    shoal = harness.Shoal(workdir, workers=1, listen=f"unix:{path}")
    try:
        mode = os.stat(path).st_mode & 0o777
        assert mode == 0o660, oct(mode)
        if os.geteuid() == 0:
            import grp
            assert grp.getgrgid(os.stat(path).st_gid).gr_name == "www-data"
            # Another local user (nobody) cannot connect.
            probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "python3", "-c",
                                    f"import socket; s=socket.socket(socket.AF_UNIX); s.connect('{path}')"],
                                   capture_output=True, text=True)
            assert probe.returncode != 0 and "Permission denied" in probe.stderr, probe
    finally:
        assert shoal.stop() == 0, shoal.output()


def turn_holder(database):
    """The PID holding the flock on the database file (the workers' turn), from /proc/locks."""
    inode = os.stat(database).st_ino
    for line in open("/proc/locks"):
        fields = line.split()
        if "FLOCK" in fields and "->" not in fields:
            pid, device_inode = fields[4], fields[5]
            if int(device_inode.rsplit(":", 1)[1]) == inode:
                return int(pid)
    return None


def test_a_stopped_turn_holder_is_replaced_and_throttles_nobody(workdir):
    """A worker SIGSTOPped while holding the turn cut 7,700 announces/s to 8/s for as long as it
    stayed stopped: every later batch waited the whole busy timeout again."""
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock", extra=["--busy-timeout", "300"])
    info_hash = b"\x58" * 20
    stop = threading.Event()
    answered = []

    def client(offset):
        n = offset
        while not stop.is_set():
            n += 1
            try:
                status, body = fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(info_hash, n)), timeout=10)
                answered.append((time.monotonic(), status))
            except OSError:
                answered.append((time.monotonic(), 0))

    threads = [threading.Thread(target=client, args=(i * 100000,)) for i in range(4)]
    stopped = None
    try:
        for t in threads:
            t.start()
        harness.wait_until(lambda: len(answered) > 200, what="load")
        deadline = time.monotonic() + 10
        while stopped is None and time.monotonic() < deadline:
            holder = turn_holder(shoal.database)
            if holder in shoal.worker_pids():
                os.kill(holder, signal.SIGSTOP)
                if turn_holder(shoal.database) == holder:
                    stopped = holder
                else:
                    os.kill(holder, signal.SIGCONT)
        assert stopped, "never caught a worker holding the turn"
        stopped_at = time.monotonic()
        time.sleep(5)
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    output = shoal.output()
    try:
        assert f"worker {stopped} held the turn for" in output and "killed it" in output, output
        assert stopped not in shoal.worker_pids()
        harness.wait_until(lambda: len(shoal.worker_pids()) == 2, what="a replacement worker")
        after = [status for when, status in answered if when > stopped_at + 2.5]
        # At 8 a second (the old behaviour) this would be about 20.
        assert len(after) > 500 and after.count(200) >= len(after) - 8, (len(after), set(after))
        assert_consistent(shoal.database)
    finally:
        assert shoal.stop() == 0, output


def test_database_files_are_owner_only(workdir):
    shoal = harness.Shoal(workdir, workers=1)
    try:
        assert fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(b"\x59" * 20, 1)))[0] == 200
        for suffix in ("", "-wal", "-shm"):
            mode = os.stat(shoal.database + suffix).st_mode & 0o777
            assert mode == 0o600, (suffix, oct(mode))
    finally:
        assert shoal.stop() == 0, shoal.output()
    # A file left world-readable (by an earlier version, or by hand) is tightened on open.
    os.chmod(shoal.database, 0o644)
    shoal = harness.Shoal(workdir, workers=1, database=shoal.database)
    try:
        # `serve` listens before it opens the database: the line may come just after the port opens.
        harness.wait_until(lambda: "took permissions beyond database-mode away" in shoal.output(), timeout=10,
                           what="the log line about the tightened file")
        assert os.stat(shoal.database).st_mode & 0o777 == 0o600
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_one_address_cannot_poison_a_swarm(workdir):
    """One address announcing thousands of ports into one torrent once filled a real leecher's
    reply with fake peers and made scrape report them all (20,000 stored in 1.6 s)."""
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock")
    try:
        info_hash = b"\x5a" * 20
        for n in range(20):  # honest seeders, each its own address
            status, _ = fastcgi.ask(shoal.upstream, fastcgi.announce_params(
                query(info_hash, n, left=0), remote=f"192.0.2.{n + 1}"))
            assert status == 200

        def flood(n):
            return fastcgi.ask(shoal.upstream, fastcgi.announce_params(
                query(info_hash, 1000 + n, port=2000 + n, left=0), remote="203.0.113.66"))[0]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert set(pool.map(flood, range(3000))) == {200}
        status, body = fastcgi.ask(shoal.upstream, fastcgi.announce_params(
            query(info_hash, 99999, port=5000, numwant=200, compact=1), remote="198.51.100.7"))
        reply = bencode.decode(body)
        addresses = [reply[b"peers"][i:i + 4] for i in range(0, len(reply[b"peers"]), 6)]
        assert addresses.count(bytes([203, 0, 113, 66])) == 16, "the default cap is 16 per address"
        assert len(addresses) == 36
        assert reply[b"complete"] == 36
        assert rows(shoal.database, "SELECT count(*) FROM peers") == 37
        assert_consistent(shoal.database)
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_counts_fall_when_peers_expire_without_any_announce(workdir):
    """Counts once included expired peers until announces happened to sweep them."""
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{workdir}/shoal.sock",
                          extra=["--interval", "2", "--interval-jitter", "0", "--peer-ttl-factor", "1"])
    try:
        hashes = [bytes([0x70 + t]) * 20 for t in range(10)]
        for n in range(300):
            status, _ = fastcgi.ask(shoal.upstream, fastcgi.announce_params(
                query(hashes[n % 10], n), remote=f"10.1.{n >> 8}.{n & 0xff}"))
            assert status == 200
        scrape = "&".join("info_hash=" + urllib.parse.quote_from_bytes(h) for h in hashes)

        def counted():
            status, body = fastcgi.ask(shoal.upstream, fastcgi.announce_params(scrape, path="/scrape"))
            files = bencode.decode(body)[b"files"]
            return sum(f[b"incomplete"] + f[b"complete"] for f in files.values())

        assert counted() == 300
        # Nothing but scrapes from here on; the workers' upkeep removes the expired peers.
        harness.wait_until(lambda: counted() == 0, timeout=15, what="counts without expired peers")
        assert rows(shoal.database, "SELECT count(*) FROM peers") == 0
        assert_consistent(shoal.database)
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_a_database_file_planted_by_another_user_is_refused(workdir):
    """Anyone can create /dev/shm/shoal.db before Shoal first runs; a world-writable file of
    another user's is refused with one line instead of serving peers into it."""
    planted = workdir / "planted.db"
    planted.write_bytes(b"")
    os.chown(planted, 65534, 65534)  # nobody
    os.chmod(planted, 0o666)
    out = subprocess.run([SHOAL, "check-config", "--database", str(planted)], capture_output=True, text=True)
    assert out.returncode == 1 and "every local user may write it" in out.stderr, out.stderr


def test_running_out_of_descriptors_is_logged_and_survived(workdir):
    """With fewer descriptors than the cap assumes (a tiny ulimit), accept4 fails with EMFILE:
    the worker closes its quietest connection instead of spinning, and says so once."""
    shoal = shoal_with_descriptor_limit(workdir, 20, workers=1)
    socks = []
    try:
        socks = idle_connections(shoal.upstream, 40)
        for n in range(10):
            status, _ = fastcgi.ask(shoal.upstream, fastcgi.announce_params(query(b"\x5c" * 20, n)), timeout=10)
            assert status == 200
        output = shoal.output()
        assert output.count("out of file descriptors") == 1, output
        assert_consistent(shoal.database)
    finally:
        for sock in socks:
            sock.close()
        assert shoal.stop() == 0, shoal.output()
