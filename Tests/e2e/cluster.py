"""A Shoal cluster on loopback for the tests: N hosts (each nginx + `shoal serve` with its own
database, as nginx/cluster/host.conf describes) behind a front nginx built from
nginx/cluster/front.conf and shoal-front.js."""
import os
import sqlite3
import subprocess

import harness

CLUSTER = harness.ROOT / "nginx" / "cluster"
JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"


class Host:
    def __init__(self, workdir, index):
        self.dir = workdir / f"host{index}"
        self.dir.mkdir()
        self.database = str(self.dir / "peers.db")
        self.start()

    def start(self, port=None):
        """Starts the host (again: on the same port, as a host that comes back)."""
        self.shoal = harness.Shoal(self.dir, workers=2, database=self.database, extra=["--control-database", ""])
        # The host believes X-Real-IP from the front (on loopback here).
        os.environ["REAL_IP_HEADER"] = "X-Real-IP"
        try:
            self.nginx = harness.Nginx(self.dir, self.shoal.upstream, port=port)
        finally:
            del os.environ["REAL_IP_HEADER"]
        self.port = self.nginx.port

    def stop(self):
        self.nginx.stop()
        assert self.shoal.stop() == 0, self.shoal.output()

    def swarm_sizes(self):
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT info_hash, seeders + leechers FROM torrents"))


class Front:
    def __init__(self, workdir, hosts):
        self.dir = workdir / "front"
        self.dir.mkdir()
        self.port = harness.free_port()
        site = (CLUSTER / "front.conf").read_text()
        servers = "".join(f"    server 127.0.0.1:{h.port} max_fails=1 fail_timeout=10s;\n" for h in hosts)
        lines = site.splitlines(keepends=True)
        site = "".join(line for line in lines if not line.strip().startswith("server 10.77."))
        site = site.replace("    hash $shoal_shard consistent;\n", "    hash $shoal_shard consistent;\n" + servers)
        site = site.replace("    hash $arg_shoal_shard consistent;\n", "    hash $arg_shoal_shard consistent;\n" + servers)
        site = site.replace("/etc/nginx/shoal-front.js", str(CLUSTER / "shoal-front.js"))
        site = site.replace("/etc/nginx/shoal-front-proxy.conf", str(CLUSTER / "shoal-front-proxy.conf"))
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        user = "user root;" if os.geteuid() == 0 else ""
        config = f"""load_module {JS_MODULE};
daemon off;
{user}
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {self.dir}/client_body_temp;
    proxy_temp_path {self.dir}/proxy_temp;
    fastcgi_temp_path {self.dir}/fastcgi_temp;
    uwsgi_temp_path {self.dir}/uwsgi_temp;
    scgi_temp_path {self.dir}/scgi_temp;
    large_client_header_buffers 4 16k;
{site}
}}
"""
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
