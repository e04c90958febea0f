"""A full disk, on a real small tmpfs the test mounts (and unmounts): refused cleanly, explained
once, survived, and recovered from without a restart."""
import concurrent.futures
import hashlib
import os
import subprocess
import time

import pytest

import fastcgi
import harness
from harness import SHOAL
from test_hostile import assert_consistent, query, rows


@pytest.fixture
def small_tmpfs(workdir):
    mount = workdir / "small"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (the tests run as root in CI): {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def announce(address, info_hash, n, **extra):
    status, body = fastcgi.ask(address, fastcgi.announce_params(query(info_hash, n, **extra)))
    return status, body


def flood_new_swarms(address, start, count):
    """Announces `count` peers, each in a torrent of its own; returns the replies' outcomes."""
    def one(n):
        status, body = announce(address, n.to_bytes(4, "big") + b"\xf1" * 16, n, port=10000 + n % 50000)
        if status == 200 and b"failure reason" not in body:
            return "ok"
        if status == 200 and b"tracker is full" in body and b"retry in" in body:
            return "full"
        return f"{status} {body[:60]!r}"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(start, start + count)))


def test_a_full_disk_is_refused_explained_survived_and_recovered_from(workdir, small_tmpfs):
    database = small_tmpfs / "peers.db"
    shoal = harness.Shoal(workdir, workers=2, database=str(database),
                          extra=["--interval", "6", "--interval-jitter", "0", "--peer-ttl-factor", "1"])
    try:
        address = shoal.upstream
        known = b"\x61" * 20
        assert announce(address, known, 1)[0] == 200
        assert os.path.exists(str(database) + "-reserve")

        # New swarms until the tracker says it is full (bounded: 8 MiB holds well under 60,000).
        outcomes = []
        for start in range(10, 200_000, 5000):
            outcomes += flood_new_swarms(address, start, 5000)
            if outcomes.count("full") > 500:
                break
            assert announce(address, known, 1)[0] == 200  # keep the known peer alive
        assert outcomes.count("full") > 500, outcomes[-5:]
        assert set(outcomes) <= {"ok", "full"}, [o for o in outcomes if o not in ("ok", "full")][:5]

        # Full: a known peer still re-announces, and stopped still works.
        status, body = announce(address, known, 1)
        assert status == 200 and b"failure reason" not in body, body
        status, body = announce(address, known, 2)
        assert b"tracker is full" in body
        assert "refusing new peers and swarms" in shoal.output()
        assert shoal.output().count("refusing new peers and swarms") <= 4, "logged once a minute per worker"

        # With no traffic at all, the expired peers go, and new swarms are welcome again.
        harness.wait_until(lambda: rows(database, "SELECT count(*) FROM peers") <= 1, timeout=40,
                           what="expired peers removed by the workers' upkeep")
        status, body = announce(address, b"\x62" * 20, 3)
        assert status == 200 and b"failure reason" not in body, body
        # The WAL is back to a bounded size after the peak.
        harness.wait_until(lambda: os.path.getsize(str(database) + "-wal") <= 4 << 20, timeout=10, what="WAL")
        assert_consistent(database)

        # Something else fills the file system to the last byte.
        filler = small_tmpfs / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        # New swarms still fit in the pages expired peers freed inside the database; once those
        # are used up, they are refused (bounded: the file holds well under 30,000 more).
        outcomes = []
        for start in range(300_000, 330_000, 1000):
            outcomes += flood_new_swarms(address, start, 1000)
            if "full" in outcomes or any(o.startswith("503") for o in outcomes):
                break
        assert set(outcomes) <= {"ok", "full"} | {o for o in outcomes if o.startswith("503")}, outcomes[:5]
        assert "full" in outcomes or any(o.startswith("503") for o in outcomes), len(outcomes)
        status, body = announce(address, b"\x62" * 20, 3)
        assert status in (200, 503), (status, body)
        # Space comes back: so does the tracker, by itself.
        filler.unlink()
        harness.wait_until(lambda: announce(address, b"\x63" * 20, 4)[1].find(b"failure reason") < 0, timeout=20,
                           what="new peers accepted again")
        assert_consistent(database)
        assert "database or disk is full: " in shoal.output() or "refusing new peers" in shoal.output()

        check = subprocess.run([SHOAL, "check-config", "--database", str(database)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_check_config_says_when_the_disk_is_full(workdir, small_tmpfs):
    database = small_tmpfs / "peers.db"
    check = subprocess.run([SHOAL, "check-config", "--database", str(database)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert os.path.exists(str(database) + "-reserve")
    subprocess.run(["dd", "if=/dev/zero", f"of={small_tmpfs}/filler", "bs=64k"], capture_output=True)
    check = subprocess.run([SHOAL, "check-config", "--database", str(database)], capture_output=True, text=True)
    assert check.returncode == 1 and "database or disk is full: " in check.stderr, (check.stdout, check.stderr)


def test_merge_scrape_on_a_full_disk_keeps_the_last_copy(workdir, small_tmpfs):
    """The cluster front's full scrape on an 8 MiB tmpfs: a merge that fits is written; one that
    does not fails with one line saying why, leaves no temporary file, and the last copy stays."""
    def host_scrape(path, count, seed):
        """A host's full scrape of `count` torrents: in byte order, each with its counts."""
        hashes = sorted(hashlib.sha1(b"%d-%d" % (seed, n)).digest() for n in range(count))
        body = b"".join(b"20:" + h + b"d8:completei1e10:downloadedi2e11:downloadersi0e10:incompletei0ee" for h in hashes)
        path.write_bytes(b"d5:filesd" + body + b"ee")

    output = small_tmpfs / "fullscrape"
    small, large = workdir / "small.scrape", workdir / "large.scrape"
    host_scrape(small, 1000, 1)
    host_scrape(large, 200_000, 2)  # about 17 MB merged: more than the disk holds
    made = subprocess.run([harness.SHOAL, "merge-scrape", "--output", str(output), str(small)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    before = output.read_bytes()
    full = subprocess.run([harness.SHOAL, "merge-scrape", "--output", str(output), str(small), str(large)],
                          capture_output=True, text=True, timeout=60)
    assert full.returncode == 1 and "No space left on device" in full.stderr, full.stderr
    assert len(full.stderr.strip().split("\n")) == 1
    assert output.read_bytes() == before
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["fullscrape", "fullscrape.gz"]
