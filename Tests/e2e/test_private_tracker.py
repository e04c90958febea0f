"""Private tracking end to end through nginx: tokens and passkeys, the site's control state, the
control endpoint, and the ledger drained exactly once."""
import concurrent.futures
import subprocess
import urllib.parse

import pytest

import bencode
import harness
from private_site import CONTROL, PREVIOUS, SECRET, PrivateTracker, announce, mint, request

HASH = bytes(range(20))
OTHER = bytes(range(1, 21))


@pytest.fixture
def tracker(workdir):
    started = PrivateTracker(workdir)
    yield started
    started.stop()


def failure(reply):
    return reply.get(b"failure reason", b"").decode()


def test_tokens_in_every_url_shape_and_nothing_without_one(tracker):
    token = mint(7, HASH)
    assert b"interval" in announce(tracker.base, token, HASH, shape="path")
    assert b"interval" in announce(tracker.base, token, HASH, shape="suffix", port=7001)
    assert b"interval" in announce(tracker.base, token, HASH, shape="query", port=7002)
    # The scrape URL a client derives by replacing "announce" in the canonical one.
    status, body = harness.get(f"{tracker.base}/{token}/scrape?info_hash={urllib.parse.quote_from_bytes(HASH)}")
    assert status == 200 and bencode.decode(body)[b"files"][HASH][b"complete"] == 3
    # A token answers for its own torrent only.
    both = "&".join("info_hash=" + urllib.parse.quote_from_bytes(h) for h in (HASH, OTHER))
    status, body = harness.get(f"{tracker.base}/{token}/scrape?{both}")
    assert list(bencode.decode(body)[b"files"]) == [HASH]

    reply = announce(tracker.base, None, HASH, shape="none")
    assert "private tracker" in failure(reply) and reply[b"retry in"] > 0
    assert "unknown or invalid" in failure(announce(tracker.base, mint(7, OTHER), HASH))      # another torrent
    assert "unknown or invalid" in failure(announce(tracker.base, mint(7, HASH, secret="x" * 40), HASH))
    assert "unknown or invalid" in failure(announce(tracker.base, "Z" * 44, HASH))          # no such passkey
    assert b"interval" in announce(tracker.base, mint(8, HASH, secret=PREVIOUS), HASH, port=7003)  # rotation
    # Full scrape is the site's (control endpoint), never a credential holder's.
    status, body = harness.get(f"{tracker.base}/{token}/scrape")
    assert "full scrape" in failure(bencode.decode(body))
    # Refusals stored nothing: three peers of user 7 and one of user 8.
    _, rows = tracker.control.ledger()
    assert sorted((r["user"], r["event"]) for r in rows) == [(7, "update")] * 3 + [(8, "update")]
    # Secrets never reach the log.
    assert SECRET not in tracker.shoal.output() and token not in tracker.shoal.output()


def test_passkeys_are_rows_the_site_writes(tracker):
    passkey = "PassKey0123456789abcd"
    assert "unknown" in failure(announce(tracker.base, passkey, HASH, shape="query"))
    assert tracker.control.replace("passkeys", [f"{passkey}\t42"])[0] == 200
    assert b"interval" in announce(tracker.base, passkey, HASH, shape="query")
    assert b"interval" in announce(tracker.base, passkey, HASH, shape="path", port=7001)
    _, rows = tracker.control.ledger()
    assert {r["user"] for r in rows} == {42}
    assert tracker.control.remove("passkeys", [passkey])[0] == 200
    assert "unknown" in failure(announce(tracker.base, passkey, HASH, shape="query"))


def test_site_control_state_refuses_with_its_messages(tracker):
    token = mint(5, HASH, key_version=1)
    assert b"interval" in announce(tracker.base, token, HASH)
    hex_hash = HASH.hex()

    assert tracker.control.replace("banned", ["5\tBanned: cheating"])[0] == 200
    assert failure(announce(tracker.base, token, HASH)) == "Banned: cheating"
    assert tracker.control.replace("banned", [])[0] == 200

    assert tracker.control.replace("key_floors", ["5\t2"])[0] == 200
    assert "revoked" in failure(announce(tracker.base, token, HASH))
    assert b"interval" in announce(tracker.base, mint(5, HASH, key_version=2), HASH)
    assert tracker.control.replace("key_floors", [])[0] == 200

    assert tracker.control.add("revoked", [f"5\t{hex_hash}"])[0] == 200
    assert "revoked" in failure(announce(tracker.base, token, HASH))
    assert b"interval" in announce(tracker.base, mint(5, OTHER, key_version=1), OTHER)
    assert tracker.control.remove("revoked", [f"5\t{hex_hash}"])[0] == 200

    assert tracker.control.add("deleted", [f"{hex_hash}\tUnregistered torrent: dupe"])[0] == 200
    assert failure(announce(tracker.base, token, HASH)) == "Unregistered torrent: dupe"
    assert tracker.control.rows("deleted") == [[hex_hash, "Unregistered torrent: dupe"]]
    assert tracker.control.replace("deleted", [])[0] == 200

    assert tracker.control.replace("ratio_watch", ["5\tRatio watch: seed only"])[0] == 200
    assert failure(announce(tracker.base, token, HASH, left=100)) == "Ratio watch: seed only"
    assert b"interval" in announce(tracker.base, token, HASH, left=0)
    assert b"interval" in announce(tracker.base, token, HASH, left=100, event="stopped")


def test_bad_control_requests_change_nothing(tracker, workdir):
    assert tracker.control.replace("banned", ["1\tfirst"])[0] == 200
    # Bad lines: the whole replace is refused, naming the line.
    status, body = tracker.control.replace("banned", ["2\tok", "x\tnot a user"])
    assert status == 400 and b"line 2" in body
    status, body = tracker.control.replace("deleted", ["abc\treason"])
    assert status == 400
    assert tracker.control.rows("banned") == [["1", "first"]]
    # Wrong secret: as if the path did not exist. GET cannot change a table.
    status, _ = request(f"{tracker.base}/wrong-secret-0123456789/site/banned", data=b"3\tx\n")
    assert status == 404
    assert request(f"{tracker.control.root}/site/banned/add")[0] == 405
    assert request(f"{tracker.control.root}/site/nonsense")[0] == 404
    # Another network: a tracker whose control-allow leaves loopback out answers 403.
    other = harness.Shoal(workdir, workers=1, database=str(workdir / "other.db"), extra=[
        "--control-database", str(workdir / "state" / "other-control.db"), "--control-secret", CONTROL,
        "--control-allow", "10.0.0.0/8"])
    try:
        nginx = harness.Nginx(workdir, other.upstream)
        try:
            status, _ = request(f"{nginx.url('')}/{CONTROL}/ledger")
            assert status == 403
        finally:
            nginx.stop()
    finally:
        assert other.stop() == 0


def test_counters_are_credited_once_and_drained_exactly_once(tracker):
    token = mint(9, HASH)
    peer = dict(peer_id=b"-qB4650-session00001", port=7100)
    announce(tracker.base, token, HASH, uploaded=1000, downloaded=500, left=9000, event="started", **peer)
    announce(tracker.base, token, HASH, uploaded=1000, downloaded=500, left=9000, **peer)  # same counters
    announce(tracker.base, token, HASH, uploaded=4000, downloaded=2500, left=7000, **peer)
    announce(tracker.base, token, HASH, uploaded=100, downloaded=100, left=7000, **peer)  # a reset
    announce(tracker.base, token, HASH, uploaded=300, downloaded=10_100, left=0, event="completed", **peer)
    announce(tracker.base, token, HASH, uploaded=300, downloaded=10_100, left=0, event="completed", **peer)
    announce(tracker.base, token, HASH, uploaded=900, downloaded=10_100, left=0, event="stopped", **peer)
    header, rows = tracker.control.ledger()
    # Only this peer is in the swarm: its uploads went to nobody, and say so (lone_upload).
    assert [(r["event"], r["uploaded"], r["downloaded"], r["flags"]) for r in rows] == [
        ("started", 0, 0, "new"),
        ("update", 0, 0, "-"),
        ("update", 3000, 2000, "lone_upload"),
        ("update", 0, 0, "reset"),
        ("completed", 200, 10_000, "overdownload,lone_upload"),
        ("update", 0, 0, "repeat"),
        ("stopped", 600, 0, "lone_upload"),
    ]
    assert [r["left"] for r in rows] == [9000, 9000, 7000, 7000, 0, 0, 0]
    assert rows[-1]["seeding"] == rows[-1]["seconds"] and rows[3]["seeding"] == 0
    assert sum(r["uploaded"] for r in rows) == 3000 + 200 + 600
    # Drain, with the ack lost: the next drain from the stored position sees nothing twice.
    epoch, last = int(header["epoch"]), rows[-1]["seq"]
    _, again = tracker.control.ledger(after=last)
    assert again == []
    assert tracker.control.ack(epoch + 1, last)[0] == 409
    assert tracker.control.ack(epoch, rows[2]["seq"])[0] == 200
    _, remaining = tracker.control.ledger()
    assert [r["seq"] for r in remaining] == [r["seq"] for r in rows[3:]]
    assert tracker.control.ack(epoch, last)[0] == 200
    header, empty = tracker.control.ledger()
    assert empty == [] and int(header["last"]) == last
    # Numbers keep growing after everything was acknowledged.
    announce(tracker.base, token, HASH, event="started", **peer)
    _, fresh = tracker.control.ledger()
    assert fresh[0]["seq"] == last + 1


def test_one_client_over_ipv4_and_ipv6_is_one_session(tracker):
    if not harness.has_ipv6_loopback():
        pytest.skip("no IPv6 loopback")
    token = mint(11, HASH)
    peer = dict(peer_id=b"-lt0D80-dualstack001", port=7200)
    v6 = tracker.nginx.url("", host="::1")
    announce(tracker.base, token, HASH, uploaded=0, left=10, event="started", **peer)
    announce(v6, token, HASH, uploaded=0, left=10, event="started", **peer)
    announce(tracker.base, token, HASH, uploaded=5000, left=10, **peer)
    announce(v6, token, HASH, uploaded=5000, left=10, **peer)
    _, rows = tracker.control.ledger()
    assert sum(r["uploaded"] for r in rows) == 5000
    assert [r["flags"] for r in rows].count("new") == 1


def test_concurrent_duplicates_of_one_session_credit_each_byte_once(tracker):
    token = mint(12, HASH)
    peer = dict(peer_id=b"-TR4050-concurrent01", port=7300)
    announce(tracker.base, token, HASH, uploaded=0, left=10, event="started", **peer)

    def one(step):
        return announce(tracker.base, token, HASH, uploaded=step * 1000, left=10, **peer)

    # A client's announce sent several times at once (two interfaces, two URLs, a retry), through
    # four workers: each step's growth is credited by exactly one of them.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for step in range(1, 41):
            list(pool.map(one, [step] * 8))
    _, rows = tracker.control.ledger()
    assert len(rows) == 1 + 40 * 8
    assert sum(r["uploaded"] for r in rows) == 40_000
    assert sorted(r["uploaded"] for r in rows if r["uploaded"]) == [1000] * 40


def test_counters_out_of_range_are_refused_and_store_nothing(tracker):
    token = mint(13, HASH)
    assert "must be a non-negative integer" in failure(announce(tracker.base, token, HASH, uploaded=2 ** 64))
    assert "out of range" in failure(announce(tracker.base, token, HASH, uploaded=2 ** 63))
    assert "out of range" in failure(announce(tracker.base, token, HASH, left=2 ** 63 + 5))
    _, rows = tracker.control.ledger()
    assert rows == []


def test_site_swarms_endpoint(tracker):
    announce(tracker.base, mint(1, HASH), HASH, left=0)
    announce(tracker.base, mint(2, HASH), HASH, left=5, port=7001)
    status, body = request(f"{tracker.control.root}/swarms?info_hash={HASH.hex()}&info_hash={OTHER.hex()}")
    assert status == 200
    lines = body.decode().splitlines()
    assert lines[0] == "info_hash\tseeders\tleechers\tsnatches"
    assert lines[1:] == [f"{HASH.hex()}\t1\t1\t0", f"{OTHER.hex()}\t0\t0\t0"]


def test_shoal_site_commands(tracker):
    def site(*args, stdin=None):
        return subprocess.run([harness.SHOAL, "site", *args, "--control-database", str(tracker.control_db),
                               "--database", tracker.database, "--secret", SECRET],
                              capture_output=True, text=True, input=stdin, timeout=60)

    minted = site("token", "--user", "21", "--key-version", "4", HASH.hex())
    assert minted.returncode == 0 and minted.stdout.strip() == mint(21, HASH, key_version=4)
    token = minted.stdout.strip()
    assert b"interval" in announce(tracker.base, token, HASH)

    assert site("add", "banned", "21", "Banned: from the shell").returncode == 0
    assert failure(announce(tracker.base, token, HASH)) == "Banned: from the shell"
    assert site("list", "banned").stdout == "21\tBanned: from the shell\n"
    assert site("remove", "banned", "21").returncode == 0
    missing = site("remove", "banned", "21")
    assert missing.returncode == 1 and "no row" in missing.stderr
    assert b"interval" in announce(tracker.base, token, HASH)

    bad = site("replace", "key_floors", "-", stdin="21\t1\nnot a line\n")
    assert bad.returncode == 65 and "line 2" in bad.stderr and site("list", "key_floors").stdout == ""
    assert site("replace", "key_floors", "-", stdin="21\t5\n").returncode == 0
    assert "revoked" in failure(announce(tracker.base, token, HASH))
    assert site("list", "key_floors").stdout == "21\t5\n"

    drained = site("ledger")
    assert drained.returncode == 0 and drained.stdout.startswith("# shoal ledger\tepoch=")
    epoch = drained.stdout.split("\t")[1].split("=")[1]
    assert len(drained.stdout.splitlines()) == 2 + 2  # header, columns, two announces
    assert site("ack", "--epoch", epoch, "--through", "2").returncode == 0
    assert site("ledger").stdout.count("\n") == 2
    assert site("ack", "--epoch", "1", "--through", "2").returncode == 1


def test_stats_say_how_far_behind_the_site_is(tracker):
    import json
    for port in (7400, 7401, 7402):
        announce(tracker.base, mint(3, HASH), HASH, port=port)
    status, body = harness.get(f"{tracker.base}/stats?format=json")
    ledger = json.loads(body)["ledger"]
    assert status == 200 and ledger["rows"] == 3 and ledger["last_seq"] == 3 and ledger["oldest_age_seconds"] >= 0
    header, _ = tracker.control.ledger()
    assert tracker.control.ack(int(header["epoch"]), 3)[0] == 200
    status, body = harness.get(f"{tracker.base}/stats")
    assert "shoal_ledger_rows 0" in body.decode() and "shoal_ledger_last_seq 3" in body.decode()


def test_apache_proxy_fcgi_recipe_routes_private_urls_and_the_control_endpoint(workdir):
    """apache/shoal-proxy-fcgi.conf as shipped: /announce/<credential> and the control endpoint."""
    socket_path = workdir / "fcgi.sock"
    control_db = workdir / "state" / "control.db"
    control_db.parent.mkdir()
    shoal = harness.Shoal(workdir, listen=f"unix:{socket_path}", database=str(workdir / "peers.db"), extra=[
        "--control-database", str(control_db), "--tracking", "private", "--secret", SECRET,
        "--control-secret", CONTROL])
    apache = harness.Apache(workdir, "shoal-proxy-fcgi.conf", {"SHOAL_SOCKET": str(socket_path)})
    try:
        base = apache.url("")
        token = mint(30, HASH)
        assert b"interval" in announce(base, token, HASH, shape="suffix")
        assert b"interval" in announce(base, token, HASH, shape="path", port=7001)
        from private_site import Control
        control = Control(base)
        assert control.replace("banned", ["30\tBanned via Apache"])[0] == 200
        assert failure(announce(base, token, HASH)) == "Banned via Apache"
        _, rows = control.ledger()
        assert len(rows) == 2
    finally:
        apache.stop()
        assert shoal.stop() == 0


def test_check_config_never_shows_the_secrets(workdir):
    out = subprocess.run([harness.SHOAL, "check-config", "--database", str(workdir / "p.db"), "--control-database",
                          str(workdir / "c.db"), "--tracking", "private", "--secret", SECRET, "--previous-secret",
                          PREVIOUS, "--control-secret", CONTROL], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    for secret in (SECRET, PREVIOUS, CONTROL):
        assert secret not in out.stdout + out.stderr
    assert out.stdout.count("(set)") >= 3
    # A private tracker without a secret does not start, and says what to do.
    bad = subprocess.run([harness.SHOAL, "check-config", "--database", str(workdir / "p.db"), "--control-database",
                          str(workdir / "c.db"), "--tracking", "private"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 78 and "openssl rand -hex 32" in bad.stderr
