"""The status page in a real browser (headless Chromium from Debian) and .torrent files served
through nginx/shoal-site.conf."""
import html
import os
import re
import shutil
import subprocess
import urllib.request

import pytest

import bencode
import harness

ARTIFACTS = harness.ROOT / "Tests" / "e2e" / "artifacts"


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return name
    pytest.fail("chromium is not installed: `make test` installs it")


@pytest.fixture
def site(workdir):
    control = workdir / "state" / "control.db"
    control.parent.mkdir()
    shoal = harness.Shoal(workdir, workers=2, extra=["--control-database", str(control), "--status-page", "yes",
                                                     "--serve-torrents", "yes"])
    nginx = harness.Nginx(workdir, shoal.upstream, site="shoal-site.conf")
    yield shoal, nginx, control
    nginx.stop()
    assert shoal.stop() == 0, shoal.output()


def register(control, workdir, name):
    """A real .torrent (python3-libtorrent) with a name that needs escaping, registered; its hash."""
    data = workdir / "data" / name
    data.parent.mkdir(exist_ok=True)
    data.write_bytes(os.urandom(50_000))
    script = r"""
import sys, libtorrent as lt
fs = lt.file_storage(); lt.add_files(fs, sys.argv[1])
t = lt.create_torrent(fs, 16384); t.add_tracker("http://127.0.0.1/announce")
lt.set_piece_hashes(t, sys.argv[2])
data = lt.bencode(t.generate()); open(sys.argv[3], "wb").write(data)
print(lt.torrent_info(data).info_hashes().v1)
"""
    torrent = workdir / f"{len(list(workdir.glob('*.torrent')))}.torrent"
    out = subprocess.run(["/usr/bin/python3", "-c", script, str(data), str(data.parent), str(torrent)],
                         check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([harness.SHOAL, "torrents", "add", str(torrent), "--control-database", str(control)],
                   check=True, capture_output=True)
    return bytes.fromhex(out), torrent


def test_a_browser_shows_totals_and_the_busiest_torrents_by_name(site, workdir):
    shoal, nginx, control = site
    named, torrent = register(control, workdir, "Debian <netinst> & \"friends\".iso")
    anonymous = os.urandom(20)
    base = nginx.url("")
    for n in range(3):
        harness.announce(base, named, b"-qB4650-%012d" % n, 7000 + n, left=0 if n == 0 else 5)
    harness.announce(base, anonymous, b"-qB4650-xxxxxxxxxxxx", 7100, left=5)

    ARTIFACTS.mkdir(exist_ok=True)
    browser = chromium()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={workdir / 'chromium'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", nginx.url("/")], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert re.search(r'<dd id="torrents">2</dd>', page) and re.search(r'<dd id="peers">4</dd>', page), page
    assert re.search(r'<dd id="seeders">1</dd>', page) and re.search(r'<dd id="leechers">3</dd>', page), page
    rows = re.findall(r"<tr><td class=\"name\">(.*?)</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert len(rows) == 2, page
    first = rows[0]
    assert html.unescape(re.sub(r"<[^>]+>", "", first[0])) == "Debian <netinst> & \"friends\".iso"
    assert (first[1], first[2]) == ("1", "2")
    assert f'href="file?info_hash={named.hex()}"' in first[0]
    assert html.unescape(rows[1][0]) == anonymous.hex(), "no name known: the hash, and no link"
    shot = subprocess.run([browser, *flags, "--window-size=412,915", f"--screenshot={ARTIFACTS / 'status-page.png'}",
                           nginx.url("/")], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and (ARTIFACTS / "status-page.png").stat().st_size > 1000, shot.stderr[-2000:]

    with urllib.request.urlopen(nginx.url(f"/file?info_hash={named.hex()}"), timeout=10) as response:
        assert response.headers.get("Content-Type") == "application/x-bittorrent"
        assert response.read() == torrent.read_bytes()
        assert ".torrent" in response.headers.get("Content-Disposition")
    assert harness.get(nginx.url(f"/file?info_hash={anonymous.hex()}"))[0] == 404
    assert harness.get(nginx.url("/file?info_hash=nonsense"))[0] == 404


def test_both_are_404_while_off(workdir):
    shoal = harness.Shoal(workdir, workers=1, extra=["--control-database", ""])
    nginx = harness.Nginx(workdir, shoal.upstream, site="shoal-site.conf")
    try:
        assert harness.get(nginx.url("/"))[0] == 404
        assert harness.get(nginx.url("/file?info_hash=" + "00" * 20))[0] == 404
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()
