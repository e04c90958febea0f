"""Real BitTorrent clients from Debian find each other only through Shoal and transfer a file."""
import hashlib
import os
import shutil
import subprocess

import pytest

import bencode
import harness

PIECE = 256 * 1024
DISCOVERY_OFF = ["--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false", "--bt-enable-lpd=false"]


def make_torrent(path, announce_url):
    data = path.read_bytes()
    pieces = b"".join(hashlib.sha1(data[i:i + PIECE]).digest() for i in range(0, len(data), PIECE))
    # private=1: clients also keep DHT and PEX off for this torrent by themselves (BEP 27).
    info = {"name": path.name, "length": len(data), "piece length": PIECE, "pieces": pieces, "private": 1}
    torrent = path.parent / (path.name + ".torrent")
    torrent.write_bytes(bencode.encode({"announce": announce_url, "info": info}))
    return torrent, hashlib.sha1(bencode.encode(info)).digest()


def aria2(args, log):
    return subprocess.Popen(["aria2c", "--console-log-level=warn", "--summary-interval=0", "--file-allocation=none",
                             "--disable-ipv6=true", "--bt-stop-timeout=60", *DISCOVERY_OFF, *args],
                            stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
def swarm(client_tracker, workdir):
    """A 3 MiB file seeded by aria2 through the tracker; yields (torrent, info_hash, original)."""
    tracker = client_tracker
    if shutil.which("aria2c") is None:
        pytest.fail("aria2c is not installed: `make test` installs it")
    seed_dir = workdir / "seed"
    seed_dir.mkdir()
    original = seed_dir / "payload.bin"
    original.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
    torrent, info_hash = make_torrent(original, tracker.url("/announce"))
    seed_log = open(workdir / "aria2-seed.log", "wb")
    seeder = aria2(["--dir", str(seed_dir), "--check-integrity=true", "--seed-ratio=0.0",
                    f"--listen-port={harness.free_port()}", str(torrent)], seed_log)

    def seeder_listed():
        files = harness.scrape(tracker.url(""), info_hash)[b"files"][info_hash]
        return files[b"complete"] == 1

    try:
        harness.wait_until(seeder_listed, timeout=30, what="the seeder's announce")
        yield torrent, info_hash, original
    finally:
        seeder.terminate()
        seeder.wait(10)
        seed_log.close()


def test_aria2_downloads_from_aria2_through_the_tracker(swarm, workdir):
    torrent, _, original = swarm
    leech_dir = workdir / "aria2-leech"
    with open(workdir / "aria2-leech.log", "wb") as log:
        leecher = aria2(["--dir", str(leech_dir), "--seed-time=0", f"--listen-port={harness.free_port()}",
                         str(torrent)], log)
        assert leecher.wait(120) == 0, (workdir / "aria2-leech.log").read_text()
    assert (leech_dir / original.name).read_bytes() == original.read_bytes()


LIBTORRENT_CLIENT = r"""
import sys, time
import libtorrent as lt
torrent, save_path, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
session = lt.session({
    "listen_interfaces": f"127.0.0.1:{port}", "enable_dht": False, "enable_lsd": False,
    "enable_upnp": False, "enable_natpmp": False, "alert_mask": 0,
    # both peers share 127.0.0.1; the tracker is the only way they learn of each other
    "allow_multiple_connections_per_ip": True,
})
handle = session.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save_path})
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    status = handle.status()
    if status.is_seeding:
        print("done", status.total_payload_download, flush=True)
        sys.exit(0)
    time.sleep(0.2)
print("timed out", handle.status().state, handle.status().num_peers, flush=True)
sys.exit(1)
"""


def test_libtorrent_downloads_from_aria2_through_the_tracker(swarm, workdir):
    """python3-libtorrent (the library behind qBittorrent and Deluge) as the downloader."""
    if subprocess.run(["/usr/bin/python3", "-c", "import libtorrent"], capture_output=True).returncode != 0:
        pytest.fail("python3-libtorrent is not installed: `make test` installs it")
    torrent, _, original = swarm
    leech_dir = workdir / "libtorrent-leech"
    leech_dir.mkdir()
    out = subprocess.run(["/usr/bin/python3", "-c", LIBTORRENT_CLIENT, str(torrent), str(leech_dir),
                          str(harness.free_port()), "100"], capture_output=True, text=True, timeout=130)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (leech_dir / original.name).read_bytes() == original.read_bytes()
