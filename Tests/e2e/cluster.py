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
        """Whether this host's database holds the peer announcing from `port` in this swarm."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            return db.execute("SELECT 1 FROM peers WHERE info_hash = ? AND substr(endpoint, -2) = ?",
                              (info_hash, port.to_bytes(2, "big"))).fetchone() is not None

    def swarm_sizes(self):
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT info_hash, seeders + leechers FROM torrents"))


class Front:
    def __init__(self, workdir, hosts, name="front"):
        self.dir = workdir / name
        self.dir.mkdir()
        self.port = harness.free_port()
        config = front_config(self.dir, [f"127.0.0.1:{self.port}"], [f"127.0.0.1:{h.port}" for h in hosts], 1)
        (self.dir / "nginx.conf").write_text(config)
        self.process = subprocess.Popen(["nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                                         "-e", str(self.dir / "error.log")])
        harness.wait_until(lambda: harness.port_open("127.0.0.1", self.port) or self.process.poll() is not None,
                           what="front nginx")
        if self.process.poll() is not None:
            raise RuntimeError("front nginx did not start: " + (self.dir / "error.log").read_text())
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


class HAProxyFront:
    """nginx/cluster/haproxy.cfg over the same hosts: the second kind of front."""

    def __init__(self, workdir, hosts):
        self.dir = workdir / "haproxy-front"
        self.dir.mkdir()
        self.port = harness.free_port()
        config = self.dir / "haproxy.cfg"
        config.write_text(haproxy_config([f"127.0.0.1:{self.port}"], [f"127.0.0.1:{h.port}" for h in hosts]))
        self.log = open(self.dir / "haproxy.log", "wb")
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(lambda: harness.port_open("127.0.0.1", self.port) or self.process.poll() is not None,
                           what="haproxy front")
        if self.process.poll() is not None:
            raise RuntimeError("haproxy did not start: " + (self.dir / "haproxy.log").read_text())
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()
