"""Starts the real pieces (shoal, nginx) on loopback for the end-to-end tests."""
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import bencode

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOAL = os.environ.get("E2E_SHOAL_BIN") or str(ROOT / ".build/release/shoal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_until(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what}")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Shoal:
    """`shoal serve` on a loopback TCP port or a Unix socket."""

    def __init__(self, workdir: pathlib.Path, workers=2, listen=None, database=None, extra=()):
        self.workdir = workdir
        self.database = database or str(workdir / "peers.db")
        self.listen = listen or f"127.0.0.1:{free_port()}"
        self.log_path = workdir / f"shoal-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [SHOAL, "serve", "--listen", self.listen, "--workers", str(workers), "--database", self.database, *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        if self.listen.startswith("unix:"):
            path = self.listen[5:]
            wait_until(lambda: os.path.exists(path) or self.process.poll() is not None, what="shoal socket")
        else:
            host, port = self.listen.rsplit(":", 1)
            wait_until(lambda: port_open(host, int(port)) or self.process.poll() is not None, what="shoal port")
        if self.process.poll() is not None:
            raise RuntimeError(f"shoal exited at start: {self.log_path.read_text()}")

    @property
    def upstream(self) -> str:
        return self.listen

    def worker_pids(self):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


class Nginx:
    """A real nginx from Debian, configured by scripts/nginx-config.sh like `make run`."""

    def __init__(self, workdir: pathlib.Path, upstream: str):
        self.rundir = workdir / f"nginx-{free_port()}"
        self.port = free_port()
        subprocess.run([str(ROOT / "scripts/nginx-config.sh"), str(self.rundir), str(self.port), upstream],
                       check=True)
        self.process = subprocess.Popen(["nginx", "-p", str(self.rundir), "-c", str(self.rundir / "nginx.conf"),
                                         "-e", str(self.rundir / "error.log")])
        wait_until(lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None, what="nginx")
        if self.process.poll() is not None:
            raise RuntimeError("nginx did not start: " + (self.rundir / "error.log").read_text())

    def url(self, path: str, host="127.0.0.1") -> str:
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{path}"

    def error_log(self) -> str:
        path = self.rundir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def get(url: str, timeout=10):
    """Returns (status, body) for a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def announce_query(info_hash: bytes, peer_id: bytes, port: int, left=0, **extra) -> str:
    params = {"info_hash": info_hash, "peer_id": peer_id, "port": port, "left": left,
              "uploaded": 0, "downloaded": 0, **extra}
    return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


def announce(base_url: str, info_hash: bytes, peer_id: bytes, port: int, left=0, **extra):
    status, body = get(f"{base_url}/announce?{announce_query(info_hash, peer_id, port, left, **extra)}")
    assert status == 200, (status, body)
    return bencode.decode(body)


def scrape(base_url: str, *hashes: bytes):
    query = "&".join("info_hash=" + urllib.parse.quote_from_bytes(h) for h in hashes)
    status, body = get(f"{base_url}/scrape?{query}")
    assert status == 200, (status, body)
    return bencode.decode(body)


def compact_ports(packed: bytes, size=6):
    return {int.from_bytes(packed[i + size - 2:i + size], "big") for i in range(0, len(packed), size)}
