"""Configuration from a file, the environment and the command line, as an operator sets it up."""
import os
import subprocess

import harness
from harness import SHOAL


def run_shoal(args, env=None):
    environment = {"PATH": os.environ["PATH"], **(env or {})}
    return subprocess.run([SHOAL, *args], capture_output=True, text=True, timeout=30, env=environment)


def test_check_config_shows_every_setting_and_its_source(workdir):
    config = workdir / "shoal.conf"
    config.write_text(f"# test\ndatabase = {workdir}/peers.db\ninterval = 1200\nmax-numwant = 80\n")
    out = run_shoal(["check-config", "--config", str(config), "--max-numwant", "60"],
                    env={"SHOAL_INTERVAL": "1300", "SHOAL_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert out.returncode == 0, out.stderr
    lines = {line.split("=")[0].strip(): line for line in out.stdout.splitlines() if "=" in line}
    assert lines["interval"].endswith("= 1300  # environment SHOAL_INTERVAL")
    assert lines["max-numwant"].endswith("= 60  # command line --max-numwant")
    assert lines["database"].endswith(f"= {workdir}/peers.db  # {config} line 2")
    assert lines["min-interval"].endswith("= 650  # default")
    assert lines["trusted-proxies"].endswith("= 10.0.0.0/8  # environment SHOAL_TRUSTED_PROXIES")
    assert "configuration OK" in out.stdout


def test_bad_settings_stop_with_one_line_naming_them(workdir):
    config = workdir / "shoal.conf"
    config.write_text("interval = 600\ntrusted-proxies = 10.0.0.0/8, not-a-network\n")
    for args, env, expected in [
        (["check-config", "--config", str(config)], {}, f"{config} line 2"),
        (["serve", "--config", str(config)], {}, "trusted-proxies = '10.0.0.0/8, not-a-network'"),
        (["check-config"], {"SHOAL_CONFIG": str(workdir / "missing.conf")}, "cannot read configuration file"),
        (["check-config"], {"SHOAL_WORKERS": "lots"}, "workers = 'lots' (environment SHOAL_WORKERS)"),
        (["serve", "--allow-ip-parameter", "perhaps"], {}, "use yes or no"),
    ]:
        out = run_shoal(args, env)
        assert out.returncode == 78, (args, out.stderr)
        assert expected in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_check_config_fails_when_the_database_cannot_be_used(workdir):
    out = run_shoal(["check-config", "--database", "/nonexistent-dir/peers.db"])
    assert out.returncode == 1 and "cannot use database /nonexistent-dir/peers.db" in out.stderr


def test_serve_uses_file_then_environment(workdir):
    config = workdir / "shoal.conf"
    config.write_text(f"database = {workdir}/peers.db\ninterval = 1000\ninterval-jitter = 0\nmax-numwant = 1\n")
    shoal = harness.Shoal(workdir, database=str(workdir / "peers.db"), extra=("--config", str(config)),
                          env={"PATH": os.environ["PATH"], "SHOAL_INTERVAL": "700"})
    nginx = harness.Nginx(workdir, shoal.upstream)
    try:
        for n in range(3):
            reply = harness.announce(nginx.url(""), b"\x07" * 20, b"-SH0001-config%06d" % n, 7000 + n, left=1)
        assert reply[b"interval"] == 700 and reply[b"min interval"] == 350
        assert len(reply[b"peers"]) == 6  # max-numwant 1 from the file
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()


def test_every_bad_value_is_one_line_and_exit_78(workdir):
    """Edges found by trying: negative numbers on the command line (the argument parser took them
    for options and exited 64), a host name in listen (check-config accepted what serve could not
    bind), a FIFO as the configuration file (it hung), SQLite URIs, a zero busy timeout."""
    fifo = workdir / "fifo.conf"
    os.mkfifo(fifo)
    for args, expected in [
        (["check-config", "--interval", "-5"], "interval = '-5' (command line --interval)"),
        (["serve", "--max-numwant", "-1"], "max-numwant = '-1'"),
        (["check-config", "--listen", "localhost:9000"], "listen = 'localhost:9000'"),
        (["serve", "--listen", "localhost:9000"], "listen = 'localhost:9000'"),
        (["check-config", "--config", str(fifo)], "is not a regular file"),
        (["check-config", "--database", f"file:{workdir}/x.db?nolock=1"], "SQLite URIs are not accepted"),
        (["check-config", "--busy-timeout", "0"], "busy-timeout = '0'"),
    ]:
        out = run_shoal(args)
        assert out.returncode == 78, (args, out.returncode, out.stderr)
        assert expected in out.stderr and len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)


def test_a_file_written_on_windows_is_read(workdir):
    config = workdir / "shoal.conf"
    config.write_bytes(b"\xef\xbb\xbf# saved by Notepad\r\ninterval = 1200\r\ndatabase = " + str(workdir).encode()
                       + b"/peers.db\r\n")
    out = run_shoal(["check-config", "--config", str(config)])
    assert out.returncode == 0, out.stderr
    assert "= 1200  #" in out.stdout
