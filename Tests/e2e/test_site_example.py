"""examples/site end to end: a PHP site on MariaDB (php-cli and mariadb-server from Debian) with
Shoal as its private tracker behind nginx. Real libtorrent clients download the .torrent files the
site mints tokens into and transfer the files; the drain cron puts what they transferred into the
users' rows, exactly once, even when it is killed between its commit and its acknowledgement; the
site's bans, key resets, revoked tokens and deletions reach the tracker through its push cron."""
import os
import shutil
import subprocess
import time
import urllib.parse

import pytest

import bencode
import harness
from private_site import CONTROL, SECRET, PrivateTracker, announce, mint

SITE = harness.ROOT / "examples" / "site"


class MariaDB:
    """A throwaway mariadbd on a Unix socket in the test's directory, without grant tables."""

    def __init__(self, workdir):
        for tool in ("mariadbd", "mariadb-install-db", "php"):
            if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
                pytest.fail(f"{tool} is missing: `make test` installs mariadb-server and php-cli")
        self.datadir = workdir / "mariadb"
        self.socket = workdir / "mariadb.sock"
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(["mariadb-install-db", f"--datadir={self.datadir}", "--skip-test-db", "--auth-root-authentication-method=normal",
                        *user], check=True, capture_output=True, timeout=120)
        self.log = open(workdir / "mariadb.log", "wb")
        self.process = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
             "--skip-networking", "--skip-grant-tables", f"--pid-file={workdir / 'mariadb.pid'}", *user],
            stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(lambda: self.socket.exists() or self.process.poll() is not None, timeout=60, what="mariadbd")
        assert self.process.poll() is None, (workdir / "mariadb.log").read_text()
        self.sql("CREATE DATABASE site")
        self.sql((SITE / "schema.sql").read_text(), database="site")

    def sql(self, text, database=None):
        out = subprocess.run(["mariadb", f"--socket={self.socket}", "-N", "-B", *([database] if database else [])],
                             input=text, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return [line.split("\t") for line in out.stdout.splitlines()]

    def value(self, query):
        return self.sql(query, database="site")[0][0]

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


LIBTORRENT_SWARM = r"""
import json, sys, time
import libtorrent as lt
plan = json.loads(sys.argv[1])
sessions, handles = [], []
for client in plan:
    session = lt.session({
        "listen_interfaces": f"127.0.0.1:{client['port']}", "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False, "alert_mask": 0,
        "allow_multiple_connections_per_ip": True, "announce_to_all_tiers": True,
        # libtorrent lets a tracker on a loopback or LAN address use only the path /announce
        # (SSRF mitigation); the tracker here is on 127.0.0.1, a real one is not.
        "ssrf_mitigation": False,
    })
    sessions.append(session)
    for torrent in client["torrents"]:
        handles.append((client["name"], torrent, session.add_torrent(
            {"ti": lt.torrent_info(torrent), "save_path": client["save_path"]})))
deadline = time.monotonic() + 150
while time.monotonic() < deadline and not all(h.status().is_seeding for _, _, h in handles):
    time.sleep(0.2)
if not all(h.status().is_seeding for _, _, h in handles):
    print(json.dumps({"error": [(n, str(h.status().state), h.status().num_peers) for n, _, h in handles]}))
    sys.exit(1)
# Everyone is seeding, so nothing moves any more: these are the counters the last announce sends.
counters = [{"name": n, "torrent": t, "uploaded": h.status().total_payload_upload,
             "downloaded": h.status().total_payload_download} for n, t, h in handles]
# Stopping announces the final counters ("stopped"): the ledger then holds everything.
for _, _, handle in handles:
    handle.pause()
time.sleep(3)
print(json.dumps(counters))
"""


def make_torrent(source, path):
    script = ("import sys, libtorrent as lt\nfs = lt.file_storage()\nlt.add_files(fs, sys.argv[1])\n"
              "t = lt.create_torrent(fs, 16384)\nt.add_tracker('http://uploaded.example/announce')\n"
              "lt.set_piece_hashes(t, sys.argv[3])\nopen(sys.argv[2], 'wb').write(lt.bencode(t.generate()))\n")
    subprocess.run(["/usr/bin/python3", "-c", script, str(source), str(path), str(source.parent)], check=True)


@pytest.fixture
def site(workdir):
    database = MariaDB(workdir)
    tracker = PrivateTracker(workdir)
    env = dict(os.environ, SITE_DSN=f"mysql:unix_socket={database.socket};dbname=site", SITE_DB_USER="root",
               SITE_DB_PASSWORD="", TRACKER_URL=tracker.base, TRACKER_CONTROL_URL=f"{tracker.base}/{CONTROL}",
               TRACKER_SECRET=SECRET)
    port = harness.free_port()
    web = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", str(SITE / "public")], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    harness.wait_until(lambda: harness.port_open("127.0.0.1", port), what="php -S")

    class Site:
        pass
    s = Site()
    s.db, s.tracker, s.env, s.url = database, tracker, env, f"http://127.0.0.1:{port}"

    def php(script, *args, check=True):
        out = subprocess.run(["php", str(SITE / script), *map(str, args)], env=env, capture_output=True, text=True,
                             timeout=120)
        if check:
            assert out.returncode == 0, out.stdout + out.stderr
        return out
    s.php = php
    yield s
    web.terminate()
    web.wait(10)
    tracker.stop()
    database.stop()


def download(site, user, torrent, path):
    status, body = harness.get(f"{site.url}/download.php?user={user}&torrent={torrent}")
    assert status == 200, body
    path.write_bytes(body)
    return bencode.decode(body)


def test_a_site_with_shoal_as_its_private_tracker(site, workdir):
    db = site.db
    db.sql("INSERT INTO users (id, username) VALUES (1, 'alice'), (2, 'bob'), (3, 'carol'), (4, 'dave')", database="site")
    data = workdir / "data"
    data.mkdir()
    (data / "film.mkv").write_bytes(os.urandom(3_000_000))
    (data / "free.iso").write_bytes(os.urandom(1_500_000))
    make_torrent(data / "film.mkv", workdir / "film.torrent")
    make_torrent(data / "free.iso", workdir / "free.torrent")
    film = bytes.fromhex(site.php("bin/add-torrent.php", workdir / "film.torrent", "film").stdout.strip())
    free = bytes.fromhex(site.php("bin/add-torrent.php", workdir / "free.torrent", "free", "freeleech").stdout.strip())

    # The site mints each user's token into the .torrent it hands out.
    files = {}
    for user, torrent in ((1, 1), (1, 2), (2, 1), (3, 2)):
        path = workdir / f"u{user}-t{torrent}.torrent"
        metainfo = download(site, user, torrent, path)
        token = mint(user, film if torrent == 1 else free)
        assert metainfo[b"announce"].decode() == f"{site.tracker.base}/{token}/announce"
        files[(user, torrent)] = path
    before = db.value("CHECKSUM TABLE users")  # Shoal never writes the site's tables

    plan = [
        {"name": "alice", "port": harness.free_port(), "save_path": str(data),
         "torrents": [str(files[(1, 1)]), str(files[(1, 2)])]},
        {"name": "bob", "port": harness.free_port(), "save_path": str(workdir / "bob"), "torrents": [str(files[(2, 1)])]},
        {"name": "carol", "port": harness.free_port(), "save_path": str(workdir / "carol"),
         "torrents": [str(files[(3, 2)])]},
    ]
    import json
    out = subprocess.run(["/usr/bin/python3", "-c", LIBTORRENT_SWARM, json.dumps(plan)], capture_output=True,
                         text=True, timeout=200)
    assert out.returncode == 0, out.stdout + out.stderr + site.tracker.shoal.output()
    reported = json.loads(out.stdout.strip().splitlines()[-1])
    assert (workdir / "bob" / "film.mkv").read_bytes() == (data / "film.mkv").read_bytes()
    assert (workdir / "carol" / "free.iso").read_bytes() == (data / "free.iso").read_bytes()
    harness.wait_until(lambda: sum(r["event"] == "stopped" for r in site.tracker.control.ledger()[1]) >= 4,
                       timeout=30, what="the clients' stopped announces")
    assert db.value("CHECKSUM TABLE users") == before

    site.php("bin/drain.php")
    totals = {row[0]: tuple(map(int, row[1:])) for row in
              db.sql("SELECT username, uploaded, downloaded FROM users", database="site")}
    sent = {name: sum(r["uploaded"] for r in reported if r["name"] == name) for name in ("alice", "bob", "carol")}
    got = {name: sum(r["downloaded"] for r in reported if r["name"] == name) for name in ("alice", "bob", "carol")}
    # What the clients said they transferred, to the granularity of their announces (the last
    # one, stopped, carries the final counters).
    assert totals["alice"] == (sent["alice"], 0)
    assert totals["bob"] == (sent["bob"], got["bob"]) and got["bob"] >= 3_000_000
    assert totals["carol"] == (sent["carol"], 0), "a freeleech download is not counted"
    assert got["carol"] >= 1_500_000 and sent["alice"] >= 4_500_000
    assert db.value("SELECT snatches FROM torrents WHERE id = 1") == "1"
    assert db.value("SELECT count(*) FROM snatches") == "2"
    assert site.tracker.control.ledger()[1] == []

    # Killed between its commit and its acknowledgement: the next run counts nothing twice.
    dave = mint(4, film)
    peer = dict(peer_id=b"-qB4650-dave00000001", port=7777)
    announce(site.tracker.base, dave, film, uploaded=0, left=0, event="started", **peer)
    announce(site.tracker.base, dave, film, uploaded=1000, left=0, **peer)
    announce(site.tracker.base, dave, film, uploaded=4000, left=0, **peer)
    assert site.php("bin/drain.php", check=False).returncode == 0
    assert db.value("SELECT uploaded FROM users WHERE id = 4") == "4000"
    announce(site.tracker.base, dave, film, uploaded=6500, left=0, **peer)
    killed = subprocess.run(["php", str(SITE / "bin/drain.php")], env=dict(site.env, DRAIN_EXIT_BEFORE_ACK="1"),
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == 3, killed.stdout + killed.stderr
    assert db.value("SELECT uploaded FROM users WHERE id = 4") == "6500"
    assert len(site.tracker.control.ledger()[1]) == 1, "not acknowledged: still held by the tracker"
    site.php("bin/drain.php")
    site.php("bin/drain.php")
    assert db.value("SELECT uploaded FROM users WHERE id = 4") == "6500"

    # The site's moderation reaches the tracker through the push cron; each refuses the next announce.
    def refused(user, torrent_hash, key_version=0, port=7800):
        return announce(site.tracker.base, mint(user, torrent_hash, key_version), torrent_hash, port=port,
                        peer_id=b"-qB4650-moderation01").get(b"failure reason", b"").decode()

    db.sql("UPDATE users SET banned_reason = 'Banned: cheating' WHERE id = 4", database="site")
    db.sql("UPDATE users SET key_version = 1 WHERE id = 2", database="site")
    db.sql("INSERT INTO revoked_tokens VALUES (3, 2)", database="site")
    db.sql("UPDATE torrents SET deleted_reason = 'Unregistered torrent: dupe' WHERE id = 2", database="site")
    assert refused(4, film) == "" and refused(2, film) == ""  # before the push
    site.php("bin/push.php")
    assert refused(4, film) == "Banned: cheating"
    assert "revoked" in refused(2, film)
    assert refused(2, film, key_version=1) == ""  # a fresh download after the key reset works
    assert "revoked" in refused(3, free) or refused(3, free) == "Unregistered torrent: dupe"
    assert refused(1, free) == "Unregistered torrent: dupe"
    db.sql("UPDATE torrents SET deleted_reason = NULL WHERE id = 2", database="site")
    site.php("bin/push.php")
    assert "revoked" in refused(3, free)
    assert refused(1, free) == ""
    assert download(site, 2, 1, workdir / "again.torrent")[b"announce"].decode().endswith(f"{mint(2, film, 1)}/announce")
