"""The systemd units in systemd/: verified by systemd itself, and socket activation run for real."""
import os
import shutil
import signal
import subprocess

import pytest

import harness

UNITS = ["shoal.socket", "shoal.service", "shoal-cluster-scrape.service", "shoal-cluster-scrape.timer"]


def installed_units(workdir):
    """The units as an operator installs them, with ExecStart pointing at the binary under test."""
    unit_dir = workdir / "units"
    unit_dir.mkdir()
    for unit in UNITS:
        text = (harness.ROOT / "systemd" / unit).read_text()
        text = text.replace("/usr/local/bin/shoal-cluster-scrape", str(harness.ROOT / "nginx/cluster/shoal-cluster-scrape"))
        (unit_dir / unit).write_text(text.replace("/usr/local/bin/shoal", harness.SHOAL))
    return unit_dir


def test_units_pass_systemd_analyze_verify(workdir):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is not installed: `make test` installs systemd")
    unit_dir = installed_units(workdir)
    out = subprocess.run(["systemd-analyze", "verify", *[str(unit_dir / u) for u in UNITS]],
                         capture_output=True, text=True, timeout=60, cwd=unit_dir)
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr


def unit_value(unit, key):
    lines = (harness.ROOT / "systemd" / unit).read_text().splitlines()
    return [line.split("=", 1)[1] for line in lines if line.startswith(key + "=")]


def test_socket_activation_serves_on_the_socket_systemd_passes(workdir):
    """systemd-socket-activate does what shoal.socket does: opens the socket, execs the service's
    ExecStart with LISTEN_FDS set. The pool must serve on it and leave the socket file alone."""
    if shutil.which("systemd-socket-activate") is None:
        pytest.fail("systemd-socket-activate is not installed: `make test` installs systemd")
    socket_path = workdir / "shoal.sock"
    command = unit_value("shoal.service", "ExecStart")[0].replace("/usr/local/bin/shoal", harness.SHOAL).split()
    database = str(workdir / "peers.db")
    log = open(workdir / "activated.log", "wb")
    process = subprocess.Popen(["systemd-socket-activate", "-l", str(socket_path), "-E", f"SHOAL_DATABASE={database}",
                                "-E", "SHOAL_WORKERS=2", *command], stdout=log, stderr=subprocess.STDOUT)
    try:
        harness.wait_until(lambda: socket_path.exists(), what="the activation socket")
        os.chmod(socket_path, 0o666)
        nginx = harness.Nginx(workdir, f"unix:{socket_path}")
        try:
            harness.announce(nginx.url(""), b"\x0a" * 20, b"-SH0001-activated001", 6881, left=0)
            reply = harness.announce(nginx.url(""), b"\x0a" * 20, b"-SH0001-activated002", 6882, left=1)
            assert reply[b"complete"] == 1 and harness.compact_ports(reply[b"peers"]) == {6881}
        finally:
            nginx.stop()
        workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True)
        assert len(workers.stdout.split()) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(10)
        log.close()
    output = (workdir / "activated.log").read_text()
    assert code == 0, output
    assert "the socket systemd passed" in output, output
