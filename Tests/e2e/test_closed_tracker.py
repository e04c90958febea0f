"""A closed tracker end to end: the control database, `shoal torrents`, `shoal clients`, counts that
survive a reboot, dump and restore, through nginx with several workers and real tools."""
import json
import os
import shutil
import sqlite3
import subprocess
import time

import pytest

import bencode
import harness

OTHER = bytes(range(20))
PEER_ID = b"-qB4650-abcdefghijkl"


def cli(control, *args, database=None, stdin=None):
    """Runs a shoal command on the control database; returns the CompletedProcess."""
    extra = ["--database", database] if database else []
    return subprocess.run([harness.SHOAL, *args, "--control-database", str(control), *extra],
                          capture_output=True, text=True, input=stdin, timeout=60)


def fails_with(reply, reason):
    return reply.get(b"failure reason") == reason.encode()


class ClosedTracker:
    """`shoal serve` (4 workers) behind nginx, with a control database in the test's directory."""

    def __init__(self, workdir, access="whitelist", extra=(), workers=4):
        self.control = workdir / "state" / "control.db"
        self.control.parent.mkdir(exist_ok=True)
        self.database = str(workdir / "peers.db")
        self.shoal = harness.Shoal(workdir, workers=workers, database=self.database,
                                   extra=["--control-database", str(self.control), "--access", access, *extra])
        self.nginx = harness.Nginx(workdir, self.shoal.upstream)
        self.base = self.nginx.url("")

    def announce(self, info_hash, port=7000, peer_id=PEER_ID, **extra):
        return harness.announce(self.base, info_hash, peer_id, port, **extra)

    def cli(self, *args, **kwargs):
        return cli(self.control, *args, database=self.database, **kwargs)

    def peers_of(self, info_hash):
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM peers WHERE info_hash = ?", (info_hash,)).fetchone()[0]

    def stop(self):
        self.nginx.stop()
        assert self.shoal.stop() == 0, self.shoal.output()


@pytest.fixture
def closed(workdir):
    tracker = ClosedTracker(workdir)
    yield tracker
    tracker.stop()


def make_torrents(workdir):
    """Torrents made by real tools from Debian: mktorrent and transmission-create (v1), and
    python3-libtorrent's create_torrent (v1, v2-only, hybrid). Returns {name: (path, v1, v2)}
    with the hashes libtorrent itself reports."""
    data = workdir / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(os.urandom(200_000))
    (data / "b.bin").write_bytes(os.urandom(70_000))
    made = workdir / "made"
    made.mkdir()
    subprocess.run(["mktorrent", "-a", "http://127.0.0.1/announce", "-o", str(made / "mktorrent.torrent"),
                    str(data / "a.bin")], check=True, capture_output=True)
    subprocess.run(["transmission-create", "-o", str(made / "transmission.torrent"), "-t",
                    "http://127.0.0.1/announce", str(data)], check=True, capture_output=True)
    script = r"""
import sys, libtorrent as lt
data, made = sys.argv[1], sys.argv[2]
for name, flags in (("lt-v1", lt.create_torrent.v1_only), ("lt-v2", lt.create_torrent.v2_only), ("lt-hybrid", 0)):
    fs = lt.file_storage(); lt.add_files(fs, data)
    t = lt.create_torrent(fs, 16384, flags=flags)
    t.add_tracker("http://127.0.0.1/announce")
    lt.set_piece_hashes(t, data + "/..")
    open(f"{made}/{name}.torrent", "wb").write(lt.bencode(t.generate()))
import glob, os
for path in sorted(glob.glob(made + "/*.torrent")):
    ih = lt.torrent_info(path).info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else "-"
    v2 = str(ih.v2)[:40] if ih.has_v2() else "-"
    print(os.path.basename(path)[:-len(".torrent")], v1, v2)
"""
    out = subprocess.run(["/usr/bin/python3", "-c", script, str(data), str(made)], check=True, capture_output=True,
                         text=True).stdout
    result = {}
    for line in out.splitlines():
        name, v1, v2 = line.split()
        result[name] = (made / f"{name}.torrent", None if v1 == "-" else v1, None if v2 == "-" else v2)
    assert set(result) == {"mktorrent", "transmission", "lt-v1", "lt-v2", "lt-hybrid"}
    return result


def test_a_list_change_is_seen_by_every_worker_on_its_next_requests(closed):
    info_hash = os.urandom(20)
    # Every worker answers a few while the torrent is not registered.
    for port in range(7000, 7100):
        reply = closed.announce(info_hash, port=port)
        assert fails_with(reply, "torrent not registered with this tracker"), reply
        assert reply[b"retry in"] == 60
    assert closed.peers_of(info_hash) == 0, "a refused announce stores nothing"

    added = closed.cli("torrents", "add", info_hash.hex())
    assert added.returncode == 0, added.stderr
    for port in range(7000, 7100):
        assert b"failure reason" not in closed.announce(info_hash, port=port), "no restart, no reload"
    assert closed.peers_of(info_hash) == 16  # one address, many ports: max-peers-per-address

    removed = closed.cli("torrents", "remove", info_hash.hex())
    assert removed.returncode == 0, removed.stderr
    for port in range(7000, 7100):
        assert fails_with(closed.announce(info_hash, port=port), "torrent not registered with this tracker")
    scrape = harness.scrape(closed.base, info_hash)
    assert scrape[b"files"] == {}


def test_blacklist_refuses_listed_torrents_on_announce_and_scrape(workdir):
    tracker = ClosedTracker(workdir, access="blacklist", extra=["--access-retry-in", "5"])
    try:
        banned = os.urandom(20)
        assert tracker.cli("torrents", "add", banned.hex()).returncode == 0
        reply = tracker.announce(banned)
        assert fails_with(reply, "torrent is banned on this tracker") and reply[b"retry in"] == 5
        assert tracker.peers_of(banned) == 0
        assert b"failure reason" not in tracker.announce(OTHER)
        files = harness.scrape(tracker.base, banned, OTHER)[b"files"]
        assert list(files) == [OTHER]
    finally:
        tracker.stop()


def test_client_rules_are_live_and_deny_wins(workdir):
    tracker = ClosedTracker(workdir, access="open")
    try:
        assert b"failure reason" not in tracker.announce(OTHER, peer_id=b"-TR4050-abcdefghijkl")
        assert tracker.cli("clients", "allow", "-qB", "-TR").returncode == 0
        assert tracker.cli("clients", "deny", "-TR4").returncode == 0
        listed = tracker.cli("clients", "list").stdout.split("\n")
        assert [line.split("\t")[:2] for line in listed if line] == [["allow", "-TR"], ["deny", "-TR4"], ["allow", "-qB"]]
        assert b"failure reason" not in tracker.announce(OTHER, port=7001, peer_id=b"-qB4650-abcdefghijkl")
        assert b"failure reason" not in tracker.announce(OTHER, port=7002, peer_id=b"-TR3000-abcdefghijkl")
        refused = tracker.announce(OTHER, port=7003, peer_id=b"-TR4050-abcdefghijkl")
        assert fails_with(refused, "client not allowed on this tracker") and refused[b"retry in"] == 60
        assert fails_with(tracker.announce(OTHER, port=7004, peer_id=b"-lt0D80-abcdefghijkl"),
                          "client not allowed on this tracker")
        with sqlite3.connect(tracker.database) as db:
            ports = {row[0][-2:] for row in db.execute("SELECT endpoint FROM peers")}
        assert (7003).to_bytes(2, "big") not in ports and (7004).to_bytes(2, "big") not in ports
        assert tracker.cli("clients", "remove", "-TR4", "-qB", "-TR").returncode == 0
        assert b"failure reason" not in tracker.announce(OTHER, port=7005, peer_id=b"-lt0D80-abcdefghijkl")
        bad = tracker.cli("clients", "deny", "%G1", "x" * 21)
        assert bad.returncode == 1 and len(bad.stderr.strip().split("\n")) == 2, bad.stderr
    finally:
        tracker.stop()


def test_torrents_made_by_real_tools_register_the_hashes_the_tools_report(closed, workdir):
    made = make_torrents(workdir)
    result = closed.cli("torrents", "add", *[str(path) for path, _, _ in made.values()])
    assert result.returncode == 0, result.stderr
    listed = json.loads(closed.cli("torrents", "list", "--json").stdout)
    by_hash = {entry["info_hash"]: entry for entry in listed}
    for name, (_, v1, v2) in made.items():
        primary = v1 or v2
        assert primary in by_hash, (name, result.stdout)
        versions = {h["info_hash"]: h["version"] for h in by_hash[primary]["hashes"]}
        assert versions == {**({v1: 1} if v1 else {}), **({v2: 2} if v2 else {})}, name
    assert by_hash[made["mktorrent"][1]]["name"] == "a.bin"
    assert by_hash[made["mktorrent"][1]]["size"] == 200_000 and by_hash[made["mktorrent"][1]]["files"] == 1
    assert by_hash[made["transmission"][1]]["size"] == 270_000 and by_hash[made["transmission"][1]]["files"] == 2
    assert by_hash[made["lt-hybrid"][1]]["size"] == 270_000 and by_hash[made["lt-hybrid"][1]]["files"] == 2
    # v2 clients announce the truncated SHA-256: served too, as its own swarm.
    for name in ("lt-v2", "lt-hybrid"):
        reply = closed.announce(bytes.fromhex(made[name][2]))
        assert b"failure reason" not in reply, (name, reply)
    again = closed.cli("torrents", "add", str(made["mktorrent"][0]))
    assert again.returncode == 0 and "already registered" in again.stdout


def test_bad_input_is_refused_one_line_each_and_the_rest_applies(closed, workdir):
    made = make_torrents(workdir)
    good = made["lt-v1"][0]
    truncated = workdir / "truncated.torrent"
    truncated.write_bytes(good.read_bytes()[:-10])
    garbage = workdir / "garbage.torrent"
    garbage.write_bytes(os.urandom(500))
    mixed = workdir / "mixed"
    mixed.mkdir()
    shutil.copy(made["mktorrent"][0], mixed / "ok.torrent")
    (mixed / "README.txt").write_text("not a torrent")
    result = closed.cli("torrents", "add", str(good), str(truncated), str(garbage), "abc123", str(mixed),
                        str(workdir / "missing.torrent"))
    assert result.returncode == 1
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 5, result.stderr
    for item in ("truncated.torrent", "garbage.torrent", "abc123", "README.txt", "missing.torrent"):
        assert sum(item in line for line in lines) == 1, (item, result.stderr)
    listed = json.loads(closed.cli("torrents", "list", "--json").stdout)
    assert {entry["info_hash"] for entry in listed} == {made["lt-v1"][1], made["mktorrent"][1]}


def test_sync_follows_a_directory_and_touches_nothing_else(closed, workdir):
    made = make_torrents(workdir)
    watched = workdir / "watched"
    watched.mkdir()
    for name in ("mktorrent", "lt-v2"):
        shutil.copy(made[name][0], watched / f"{name}.torrent")
    (watched / "notes.txt").write_text("ignored")
    manual = os.urandom(20).hex()
    assert closed.cli("torrents", "add", manual).returncode == 0

    first = closed.cli("torrents", "sync", str(watched))
    assert first.returncode == 0 and "added 2, removed 0" in first.stdout, first.stdout + first.stderr
    second = closed.cli("torrents", "sync", str(watched))
    assert "added 0, removed 0, unchanged 2" in second.stdout, "idempotent"
    assert b"failure reason" not in closed.announce(bytes.fromhex(made["mktorrent"][1]))

    (watched / "mktorrent.torrent").unlink()
    shutil.copy(made["transmission"][0], watched / "transmission.torrent")
    (watched / "broken.torrent").write_bytes(b"d4:info")
    third = closed.cli("torrents", "sync", str(watched))
    assert third.returncode == 1 and "broken.torrent" in third.stderr
    assert "added 1, removed 1" in third.stdout, third.stdout
    hashes = {entry["info_hash"] for entry in json.loads(closed.cli("torrents", "list", "--json").stdout)}
    assert hashes == {manual, made["lt-v2"][2], made["transmission"][1]}
    assert fails_with(closed.announce(bytes.fromhex(made["mktorrent"][1])), "torrent not registered with this tracker")


def test_an_opentracker_list_moves_over_and_back(closed, workdir):
    hashes = [os.urandom(20).hex() for _ in range(3)]
    listing = workdir / "whitelist"
    listing.write_text("# opentracker whitelist\n" + "\n".join(hashes) + "\n\n" + hashes[0].upper() + "\n")
    result = closed.cli("torrents", "import", str(listing))
    assert result.returncode == 0 and "imported 3 new of 4" in result.stdout, result.stdout + result.stderr
    exported = closed.cli("torrents", "export").stdout.split("\n")
    assert exported[0].startswith("#") and sorted(line for line in exported[1:] if line) == sorted(hashes)
    bad = closed.cli("torrents", "import", "-", stdin="0123\n" + hashes[1] + "\n")
    assert bad.returncode == 1 and "-:1:" in bad.stderr


def test_aria2_is_refused_until_the_torrent_is_added_then_downloads(closed, workdir):
    from test_clients import aria2, make_torrent
    seed_dir = workdir / "seed"
    seed_dir.mkdir()
    original = seed_dir / "payload.bin"
    original.write_bytes(os.urandom(1024 * 1024 + 777))
    torrent, info_hash = make_torrent(original, closed.nginx.url("/announce"))

    log_path = workdir / "aria2-refused.log"
    with open(workdir / "aria2-refused.out", "wb") as out:
        refused = aria2(["--dir", str(workdir / "nowhere"), f"--listen-port={harness.free_port()}",
                         "--log", str(log_path), "--log-level=info", str(torrent)], out)
        try:
            harness.wait_until(lambda: log_path.exists() and b"torrent not registered with this tracker"
                               in log_path.read_bytes(), timeout=30, what="aria2 reporting the failure reason")
        finally:
            refused.terminate()
            refused.wait(10)
    assert closed.peers_of(info_hash) == 0

    assert closed.cli("torrents", "add", str(torrent)).returncode == 0
    with open(workdir / "aria2-seed.log", "wb") as seed_log, open(workdir / "aria2-leech.log", "wb") as leech_log:
        seeder = aria2(["--dir", str(seed_dir), "--check-integrity=true", "--seed-ratio=0.0",
                        f"--listen-port={harness.free_port()}", str(torrent)], seed_log)
        try:
            harness.wait_until(lambda: harness.scrape(closed.base, info_hash)[b"files"].get(info_hash, {})
                               .get(b"complete") == 1, timeout=30, what="the seeder's announce")
            leech_dir = workdir / "leech"
            leecher = aria2(["--dir", str(leech_dir), "--seed-time=0", f"--listen-port={harness.free_port()}",
                             str(torrent)], leech_log)
            assert leecher.wait(120) == 0, (workdir / "aria2-leech.log").read_text()
        finally:
            seeder.terminate()
            seeder.wait(10)
    assert (leech_dir / original.name).read_bytes() == original.read_bytes()


def saved_counts(control):
    with sqlite3.connect(f"file:{control}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT info_hash, downloaded FROM completed").fetchall())


def test_completed_counts_survive_a_reboot(workdir):
    # The ip parameter (honoured from loopback when allowed) gives each peer its own address.
    tracker = ClosedTracker(workdir, access="open", extra=["--counts-save-interval", "10", "--allow-ip-parameter", "yes"],
                            workers=2)
    info_hash = os.urandom(20)
    for n in (1, 2, 3):
        tracker.announce(info_hash, port=7000 + n, peer_id=b"-qB4650-%012d" % n, left=0, event="completed",
                         ip=f"10.9.0.{n}")
    assert harness.scrape(tracker.base, info_hash)[b"files"][info_hash][b"downloaded"] == 3
    harness.wait_until(lambda: saved_counts(tracker.control).get(info_hash) == 3, timeout=40,
                       what="the counts copied to the control database")
    tracker.stop()
    # A reboot: tmpfs is empty again.
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(tracker.database + suffix):
            os.unlink(tracker.database + suffix)
    rebooted = ClosedTracker(workdir, access="open", workers=2)
    try:
        assert harness.scrape(rebooted.base, info_hash)[b"files"][info_hash][b"downloaded"] == 3
        listed = json.loads(rebooted.cli("torrents", "list", "--json").stdout)
        assert listed == []
    finally:
        rebooted.stop()


def test_dump_and_restore_reproduce_the_list(closed, workdir):
    made = make_torrents(workdir)
    assert closed.cli("torrents", "add", *[str(p) for p, _, _ in made.values()], os.urandom(20).hex()).returncode == 0
    assert closed.cli("clients", "deny", "-XX", "%00%FF").returncode == 0
    # Private tracking's tables too (all but `clients`, which are the client rules above).
    site_rows = {"key_floors": ["21", "3"], "banned": ["7", "Banned: #1 rule, 100% sure"],
                 "ratio_watch": ["8", "Ratio watch: seed more"], "revoked": ["9", "ab" * 20],
                 "deleted": ["cd" * 20, "Deleted: dupe"], "passkeys": ["Abcdefghijklmnop0123", "21"]}
    for table, values in site_rows.items():
        added = closed.cli("site", "add", table, *values)
        assert added.returncode == 0, added.stderr
    dump = closed.cli("dump")
    assert dump.returncode == 0 and dump.stdout.startswith("shoal-dump 1\n")
    assert "site\tbanned\t7\tBanned: #1 rule, 100% sure\n" in dump.stdout
    restored_control = workdir / "state" / "restored.db"
    restore = cli(restored_control, "restore", "-", stdin=dump.stdout, database=closed.database)
    assert restore.returncode == 0, restore.stderr
    assert "restored 6 torrents, 2 client rules, 0 completed counts, 6 site rows" in restore.stdout
    listings = [["torrents", "list"], ["torrents", "list", "--json"], ["clients", "list"]]
    listings += [["site", "list", table] for table in site_rows]
    for command in listings:
        assert cli(restored_control, *command, database=closed.database).stdout == closed.cli(*command).stdout
    redump = cli(restored_control, "dump").stdout
    strip = lambda text: [line for line in text.split("\n") if not line.startswith("#")]
    assert strip(redump) == strip(dump.stdout)
    again = cli(restored_control, "restore", "-", stdin=dump.stdout)
    assert again.returncode == 1 and "not empty" in again.stderr
    # --replace empties every table first, the site's too: a row added since is gone.
    assert cli(restored_control, "site", "add", "banned", "99", "Banned: later").returncode == 0
    replaced = cli(restored_control, "restore", "--replace", "-", stdin=dump.stdout)
    assert replaced.returncode == 0, replaced.stderr
    for command in listings:
        assert cli(restored_control, *command, database=closed.database).stdout == closed.cli(*command).stdout
    broken = cli(workdir / "state" / "other.db", "restore", "-", stdin=dump.stdout.replace("\tallow\t", "\tmaybe\t")
                 .replace("client\tdeny", "client\tmaybe"))
    assert broken.returncode == 1 and "nothing was changed" in broken.stderr
    bad_site = cli(workdir / "state" / "other.db", "restore", "-", stdin=dump.stdout.replace("site\tkey_floors\t21", "site\tkey_floors\tme"))
    assert bad_site.returncode == 1 and "key_floors" in bad_site.stderr and "nothing was changed" in bad_site.stderr
    assert cli(workdir / "state" / "other.db", "torrents", "list").stdout.count("\n") == 1, "header only"


def test_start_up_names_an_unusable_control_database(workdir):
    missing = workdir / "no-such-dir" / "control.db"
    result = subprocess.run([harness.SHOAL, "serve", "--listen", f"127.0.0.1:{harness.free_port()}",
                             "--database", str(workdir / "peers.db"), "--control-database", str(missing),
                             "--access", "whitelist"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and str(missing.parent) in lines[0] and "install -d" in lines[0], result.stderr
    config = subprocess.run([harness.SHOAL, "check-config", "--access", "whitelist", "--control-database", ""],
                            capture_output=True, text=True, timeout=30)
    assert config.returncode == 78 and "needs a control-database" in config.stderr
