#!/usr/bin/env python3
"""The cluster front's whole nginx.conf: nginx/cluster/front.conf with the given hosts in both
rings and the given listen addresses, its files in RUNDIR (the merged full scrape, which
nginx/cluster/shoal-cluster-scrape writes, in RUNDIR/fullscrape). One writer for `make cluster`
(scripts/cluster.sh), the tests and the benchmark.

    cluster_front.py RUNDIR --listen 127.0.0.1:6969 [--listen …] --host 10.77.0.2:80 [--host …]
                     [--workers N] [--trust-real-ip]
"""
import argparse
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "nginx" / "cluster"
# What front.conf needs, in this order (set-misc is built on the devel kit).
MODULES = ["ndk_http_module.so", "ngx_http_set_misc_module.so", "ngx_http_js_module.so"]


def front_config(rundir, listens, hosts, workers="auto", trust_real_ip=False):
    """`trust_real_ip`: believe X-Real-IP from loopback (a load generator naming each peer)."""
    servers = "".join(f"    server {host} max_fails=1 fail_timeout=10s;\n" for host in hosts)
    site = "".join(line for line in (CLUSTER / "front.conf").read_text().splitlines(keepends=True)
                   if not line.strip().startswith("server 10.77."))
    for key in ("$shoal_shard", "$arg_shoal_shard"):
        site = site.replace(f"    hash {key} consistent;\n", f"    hash {key} consistent;\n" + servers)
    site = site.replace("/etc/nginx/shoal-front.js", str(CLUSTER / "shoal-front.js"))
    site = site.replace("/etc/nginx/shoal-front-proxy.conf", str(CLUSTER / "shoal-front-proxy.conf"))
    site = site.replace("/var/lib/shoal-front/fullscrape", f"{rundir}/fullscrape")
    listen = "".join(f"    listen {address};\n" for address in listens)
    if trust_real_ip:
        listen += "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Real-IP;\n"
    site = site.replace("    listen 80;\n", listen)
    user = "user root;" if os.geteuid() == 0 else ""
    modules = "".join(f"load_module /usr/lib/nginx/modules/{module};\n" for module in MODULES)
    return f"""{modules}daemon off;
{user}
worker_processes {workers};
pid {rundir}/nginx.pid;
error_log {rundir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {rundir}/client_body_temp;
    proxy_temp_path {rundir}/proxy_temp;
    fastcgi_temp_path {rundir}/fastcgi_temp;
    uwsgi_temp_path {rundir}/uwsgi_temp;
    scgi_temp_path {rundir}/scgi_temp;
    keepalive_requests 10000;
    large_client_header_buffers 4 16k;
{site}
}}
"""


def haproxy_config(listens, hosts, threads=None, trust_real_ip=False):
    """nginx/cluster/haproxy.cfg, the other kind of front, with these binds and hosts.
    `trust_real_ip`: pass the client's X-Real-IP on (a load generator naming each peer)."""
    text = (CLUSTER / "haproxy.cfg").read_text()
    text = text.replace("    bind :80\n", "".join(f"    bind {address}\n" for address in listens))
    if threads:
        text = text.replace("\nglobal\n", f"\nglobal\n    nbthread {threads}\n", 1)
    if trust_real_ip:
        text = text.replace("    http-request set-header X-Real-IP %[src]\n", "")
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("    server h")]
    servers = "".join(f"    server h{n} {host}\n" for n, host in enumerate(hosts, start=1))
    return "".join(lines).rstrip("\n") + "\n" + servers


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rundir")
    parser.add_argument("--listen", action="append", required=True)
    parser.add_argument("--host", action="append", required=True)
    parser.add_argument("--workers", default="auto")
    parser.add_argument("--trust-real-ip", action="store_true")
    args = parser.parse_args()
    rundir = pathlib.Path(args.rundir)
    rundir.mkdir(parents=True, exist_ok=True)
    (rundir / "nginx.conf").write_text(front_config(rundir, args.listen, args.host, args.workers, args.trust_real_ip))
