"""Starts the real pieces (shoal, nginx) on loopback for the end-to-end tests."""
import os
import pathlib
import shutil
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

    def __init__(self, workdir: pathlib.Path, workers=2, listen=None, database=None, extra=(), env=None,
                 preexec_fn=None):
        self.workdir = workdir
        self.database = database or str(workdir / "peers.db")
        self.listen = listen or f"127.0.0.1:{free_port()}"
        self.log_path = workdir / f"shoal-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        # nginx (and Apache) workers run as www-data when the tests run as root.
        group = ["--socket-group", "www-data"] if self.listen.startswith("unix:") and os.geteuid() == 0 else []
        self.process = subprocess.Popen(
            [SHOAL, "serve", "--listen", self.listen, "--workers", str(workers), "--database", self.database, *group,
             *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec_fn)
        if self.listen.startswith("unix:"):
            path = self.listen[5:]
            wait_until(lambda: os.path.exists(path) or self.process.poll() is not None, what="shoal socket")
        else:
            host, port = self.listen.rsplit(":", 1)
            wait_until(lambda: port_open(host, int(port)) or self.process.poll() is not None, what="shoal port")
        if self.process.poll() is not None:
            raise RuntimeError(f"shoal exited at start: {self.log_path.read_text()}")
        # serve listens before it forks its workers: tests that look at the workers (or kill them)
        # start once all are there (CI once read an empty set right after start).
        wait_until(lambda: len(self.worker_pids()) >= workers or self.process.poll() is not None,
                   what="shoal's workers")

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


class WebServer:
    """What the tests need from a running web server: its URLs, its error log, a clean stop."""
    port: int
    rundir: pathlib.Path
    process: subprocess.Popen
    stop_signal = signal.SIGTERM

    def url(self, path: str, host="127.0.0.1") -> str:
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{path}"

    def error_log(self) -> str:
        path = self.rundir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Nginx(WebServer):
    """A real nginx from Debian, configured by scripts/nginx-config.sh like `make run`, or with
    `site` (a server block in nginx/, edited by the caller's `edit`) as the whole http { }."""

    stop_signal = signal.SIGQUIT  # graceful: finish the requests in hand

    def __init__(self, workdir: pathlib.Path, upstream: str, site: str = None, edit=None, port: int = None):
        self.rundir = workdir / f"nginx-{free_port()}"
        self.port = port or free_port()
        subprocess.run([str(ROOT / "scripts/nginx-config.sh"), str(self.rundir), str(self.port), upstream],
                       check=True)
        if site:
            text = (ROOT / "nginx" / site).read_text()
            text = text.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
            text = text.replace("listen [::]:80;", f"listen [::1]:{self.port};" if has_ipv6_loopback() else "")
            text = text.replace("server unix:/run/shoal.sock;", f"server {upstream};")
            text = edit(text) if edit else text
            (self.rundir / "site.conf").write_text(text)
            config = (self.rundir / "nginx.conf").read_text()
            http_start = config.index("@UPSTREAM_BLOCK@") if "@UPSTREAM_BLOCK@" in config else config.index("    server {")
            config = config[:http_start] + f"    include {self.rundir}/site.conf;\n}}\n"
            (self.rundir / "nginx.conf").write_text(config)
        self.process = subprocess.Popen(["nginx", "-p", str(self.rundir), "-c", str(self.rundir / "nginx.conf"),
                                         "-e", str(self.rundir / "error.log")])
        wait_until(lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None, what="nginx")
        if self.process.poll() is not None:
            raise RuntimeError("nginx did not start: " + (self.rundir / "error.log").read_text())



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


APACHE_MODULES = "/usr/lib/apache2/modules"


class Apache(WebServer):
    """A real Apache from Debian running one of the snippets in apache/, as an operator would.

    Only the server-wide part (modules, ports, user) is written here; everything tracker-specific
    comes from the file in apache/ that `site` names, included unchanged."""

    def __init__(self, workdir: pathlib.Path, site: str, defines: dict, docroot: pathlib.Path = None):
        self.port = free_port()
        self.rundir = workdir / f"apache-{self.port}"
        (self.rundir / "fcgid").mkdir(parents=True)
        docroot = docroot or (self.rundir / "htdocs")
        docroot.mkdir(parents=True, exist_ok=True)
        as_root = os.geteuid() == 0
        if as_root:
            shutil.chown(self.rundir / "fcgid", "www-data", "www-data")
        modules = ["mpm_prefork", "authz_core", "authz_host", "mime", "alias", "env", "rewrite", "fcgid", "proxy", "proxy_fcgi",
                   "cgi"]
        listen = [f"Listen 127.0.0.1:{self.port}"] + ([f"Listen [::1]:{self.port}"] if has_ipv6_loopback() else [])
        lines = [
            f"ServerRoot {self.rundir}",
            f"PidFile {self.rundir}/httpd.pid",
            *listen,
            "ServerName 127.0.0.1",
            f"ErrorLog {self.rundir}/error.log",
            "LogLevel warn",
            *[f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules],
            *(["User www-data", "Group www-data"] if as_root else []),
            "StartServers 4", "MinSpareServers 4", "MaxSpareServers 16", "MaxRequestWorkers 64",
            "TypesConfig /etc/mime.types",
            f"DocumentRoot {docroot}",
            f"<Directory {docroot}>", "    AllowOverride FileInfo Options", "    Require all granted", "</Directory>",
            f"FcgidIPCDir {self.rundir}/fcgid",
            f"FcgidProcessTableFile {self.rundir}/fcgid/shm",
            *[f"Define {name} {self.port if value == '@PORT@' else value}" for name, value in defines.items()],
            *([f"Include {ROOT}/apache/{site}"] if site else []),
        ]
        self.config = self.rundir / "httpd.conf"
        self.config.write_text("\n".join(lines) + "\n")
        # Its own session: on shutdown mod_fcgid signals its whole process group, which would include us.
        self.process = subprocess.Popen(["apache2", "-f", str(self.config), "-D", "FOREGROUND"], start_new_session=True)
        wait_until(lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None, what="apache")
        if self.process.poll() is not None:
            raise RuntimeError("apache did not start: " + self.error_log())



def writable_database_dir(workdir: pathlib.Path) -> pathlib.Path:
    """A directory the web server's user can create the database in (Apache runs it as www-data)."""
    path = workdir / "db"
    path.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "www-data", "www-data")
    return path


class Setup:
    """One way of deploying Shoal, started on loopback: a web server, and `shoal serve` if it needs one.

    `name` is one of SETUPS. The object offers url(), error_log() and stop()."""

    def __init__(self, name: str, workdir: pathlib.Path):
        self.name = name
        self.shoal = None
        self.database = str(writable_database_dir(workdir) / "peers.db")
        self.prefix = ""
        if name == "nginx":
            self.shoal = Shoal(workdir, database=self.database)
            self.server = Nginx(workdir, self.shoal.upstream)
        elif name == "apache-fcgid":
            self.server = Apache(workdir, "shoal-fcgid.conf", {"SHOAL_BINARY": SHOAL, "SHOAL_DATABASE": self.database})
        elif name == "apache-vhost":
            self.server = Apache(workdir, "shoal-vhost.conf",
                                 {"SHOAL_BINARY": SHOAL, "SHOAL_DATABASE": self.database, "SHOAL_PORT": "@PORT@"})
        elif name == "apache-htaccess":
            docroot = workdir / "public_html"
            tracker_dir = docroot / "tracker"
            tracker_dir.mkdir(parents=True)
            os.symlink(SHOAL, tracker_dir / "shoal.fcgi")
            htaccess = (ROOT / "apache/shoal.htaccess").read_text()
            htaccess = htaccess.replace("/dev/shm/shoal-tracker.db", self.database)
            htaccess = htaccess.replace("/home/you/public_html/tracker/shoal.fcgi", str(tracker_dir / "shoal.fcgi"))
            assert self.database in htaccess and str(tracker_dir) in htaccess, \
                "the sample .htaccess no longer sets the binary and the database"
            (tracker_dir / ".htaccess").write_text(htaccess)
            self.server = Apache(workdir, None, {}, docroot=docroot)
            self.prefix = "/tracker"
        elif name == "apache-proxy-fcgi":
            socket_path = workdir / "fcgi.sock"
            self.shoal = Shoal(workdir, listen=f"unix:{socket_path}", database=self.database)
            self.server = Apache(workdir, "shoal-proxy-fcgi.conf", {"SHOAL_SOCKET": str(socket_path)})
        elif name == "apache-cgi":
            self.server = Apache(workdir, "shoal-cgi.conf", {"SHOAL_BINARY": SHOAL, "SHOAL_DATABASE": self.database})
        else:
            raise ValueError(name)

    def url(self, path: str, host="127.0.0.1") -> str:
        return self.server.url(self.prefix + path, host)

    def error_log(self) -> str:
        return self.server.error_log()

    def stop(self):
        self.server.stop()
        if self.shoal is not None:
            assert self.shoal.stop() == 0, self.shoal.output()


SETUPS = ["nginx", "apache-fcgid", "apache-vhost", "apache-htaccess", "apache-proxy-fcgi", "apache-cgi"]


def child_pids_named(name: str):
    """PIDs of running processes whose command name is `name`."""
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}
