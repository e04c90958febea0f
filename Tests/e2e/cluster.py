"""A Shoal cluster on loopback for the tests: N hosts (each nginx + `shoal serve` with its own
database, as nginx/cluster/host.conf describes) behind a front nginx built from
nginx/cluster/front.conf and shoal-front.js."""
import os
import signal
import sys
import sqlite3
import subprocess

import harness

sys.path.insert(0, str(harness.ROOT / "scripts"))
from cluster_front import front_config, haproxy_config  # noqa: E402


class Host:
    def __init__(self, workdir, index):
        self.dir = workdir / f"host{index}"
        self.dir.mkdir()
        self.database = str(self.dir / "peers.db")
        self.start()

    def start(self, port=None):
        """Starts the host (again: on the same port, as a host that comes back)."""
        # Full scrapes as the README's cluster recipe sets them: only the front asks, on a timer.
        self.shoal = harness.Shoal(self.dir, workers=2, database=self.database,
                                   extra=["--control-database", "", "--full-scrape", "yes",
                                          "--full-scrape-interval", "0", "--full-scrape-cache", "1"])
        # The host believes X-Real-IP from the front (on loopback here).
        os.environ["REAL_IP_HEADER"] = "X-Real-IP"
        try:
            self.nginx = harness.Nginx(self.dir, self.shoal.upstream, port=port)
        finally:
            del os.environ["REAL_IP_HEADER"]
        self.port = self.nginx.port
        self.killed = False

    def stop(self):
        self.nginx.stop()
        if not self.killed:
            assert self.shoal.stop() == 0, self.shoal.output()

    def kill(self):
        """SIGKILL to every process of the host at once, as a crash or a power cut would."""
        nginx_workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.nginx.process.pid)],
                                       capture_output=True, text=True).stdout.split()
        for pid in [self.nginx.process.pid, *map(int, nginx_workers), self.shoal.process.pid, *self.shoal.worker_pids()]:
            os.kill(pid, signal.SIGKILL)
        self.nginx.process.wait(10)
        self.shoal.stop()
        self.killed = True

    def has_peer(self, info_hash, port):
        return has_peer(self.database, info_hash, port)

    def swarm_sizes(self):
        return swarm_sizes(self.database)


def has_peer(database, info_hash, port):
    """Whether a host's database holds the peer announcing from `port` in this swarm."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute("SELECT 1 FROM peers WHERE info_hash = ? AND substr(endpoint, -2) = ?",
                          (info_hash, port.to_bytes(2, "big"))).fetchone() is not None


def swarm_sizes(database):
    """Peers per swarm in a host's database."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT info_hash, seeders + leechers FROM torrents"))


class _FrontProcess:
    """What both kinds of front share: a directory, a loopback port, a process and its log."""

    def start(self, workdir, name, command, log_name):
        self.dir = workdir / name
        self.dir.mkdir()
        self.port = harness.free_port()
        self.log_path = self.dir / log_name
        self.base = f"http://127.0.0.1:{self.port}"
        config = self.configure()
        self.log = open(self.dir / "front.out", "wb")
        self.process = subprocess.Popen([*command, str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(lambda: harness.port_open("127.0.0.1", self.port) or self.process.poll() is not None,
                           what=f"the front in {name}")
        if self.process.poll() is not None:
            raise RuntimeError(f"the front in {name} did not start: " + self.log_path.read_text())

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


class Front(_FrontProcess):
    """nginx/cluster/front.conf + shoal-front.js over the hosts."""

    def __init__(self, workdir, hosts, name="front"):
        self.hosts = hosts
        self.start(workdir, name, ["nginx", "-p", str(workdir / name), "-e", str(workdir / name / "error.log"), "-c"],
                   "error.log")

    def configure(self):
        config = self.dir / "nginx.conf"
        config.write_text(front_config(self.dir, [f"127.0.0.1:{self.port}"], [f"127.0.0.1:{h.port}" for h in self.hosts], 1))
        return config


class HAProxyFront(_FrontProcess):
    """nginx/cluster/haproxy.cfg over the same hosts: the second kind of front."""

    def __init__(self, workdir, hosts):
        self.hosts = hosts
        self.start(workdir, "haproxy-front", ["haproxy", "-db", "-f"], "front.out")

    def configure(self):
        config = self.dir / "haproxy.cfg"
        config.write_text(haproxy_config([f"127.0.0.1:{self.port}"], [f"127.0.0.1:{h.port}" for h in self.hosts]))
        return config
