"""Kept-open FastCGI connections (nginx `fastcgi_keep_conn`): a worker serves all its connections,
so an idle kept connection never stalls the others (libfcgi's accept loop did, for seconds)."""
import concurrent.futures
import os
import socket
import struct

import bencode
import harness


def fastcgi_request(sock, request_id, params, keep=True):
    """Sends one FastCGI request (BEGIN, PARAMS, empty PARAMS, empty STDIN) and reads the reply."""
    def record(kind, content=b""):
        return struct.pack(">BBHHBx", 1, kind, request_id, len(content), 0) + content

    encoded = b"".join(bytes([len(k), len(v)]) + k + v for k, v in params.items())
    sock.sendall(record(1, struct.pack(">HB5x", 1, 1 if keep else 0)) + record(4, encoded) + record(4) + record(5))
    stdout = b""
    while True:
        header = sock.recv(8, socket.MSG_WAITALL)
        kind, rid, length, padding = struct.unpack(">xBHHBx", header)
        content = sock.recv(length + padding, socket.MSG_WAITALL)[:length] if length + padding else b""
        assert rid == request_id
        if kind == 6:
            stdout += content
        elif kind == 3:
            return stdout


def announce_params(n):
    query = harness.announce_query(b"\x33" * 20, b"-SH0001-keep%08d" % n, 7000 + n, left=1)
    return {b"SCRIPT_NAME": b"/announce", b"QUERY_STRING": query.encode(), b"REMOTE_ADDR": b"127.0.0.1"}


def test_an_idle_kept_connection_does_not_block_the_worker(workdir):
    socket_path = workdir / "shoal.sock"
    shoal = harness.Shoal(workdir, workers=1, listen=f"unix:{socket_path}")
    try:
        kept = socket.socket(socket.AF_UNIX)
        kept.settimeout(10)
        kept.connect(str(socket_path))
        first = fastcgi_request(kept, 1, announce_params(1))
        assert first.startswith(b"Status: 200 OK") and b"failure reason" not in first
        # The kept connection now sits idle; the only worker must still serve new connections.
        with socket.socket(socket.AF_UNIX) as other:
            other.settimeout(10)
            other.connect(str(socket_path))
            reply = fastcgi_request(other, 1, announce_params(2), keep=False)
            body = reply.split(b"\r\n\r\n", 1)[1]
            assert bencode.decode(body)[b"incomplete"] == 2
            assert other.recv(1) == b""  # no FCGI_KEEP_CONN: closed after the reply
        # And the kept connection still answers its next request.
        again = fastcgi_request(kept, 2, announce_params(3))
        assert bencode.decode(again.split(b"\r\n\r\n", 1)[1])[b"incomplete"] == 3
        kept.close()
    finally:
        assert shoal.stop() == 0, shoal.output()


def test_nginx_upstream_keepalive_under_concurrent_load(workdir):
    socket_path = workdir / "shoal.sock"
    shoal = harness.Shoal(workdir, workers=2, listen=f"unix:{socket_path}")
    os.environ["FASTCGI_KEEPALIVE"] = "4"
    try:
        nginx = harness.Nginx(workdir, shoal.upstream)
    finally:
        del os.environ["FASTCGI_KEEPALIVE"]
    assert "fastcgi_keep_conn on;" in (nginx.rundir / "shoal-locations.conf").read_text()

    def one(n):
        query = harness.announce_query(bytes([n % 7 + 1]) * 20, b"-SH0001-%012d" % n, 10000 + n, left=n % 2)
        status, body = harness.get(nginx.url(f"/announce?{query}"), timeout=10)
        return status, body

    try:
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            results = list(pool.map(one, range(2000)))
        assert all(status == 200 and b"failure reason" not in body for status, body in results), \
            [r for r in results if r[0] != 200][:3]
    finally:
        nginx.stop()
        assert shoal.stop() == 0, shoal.output()
    assert "[error]" not in nginx.error_log(), nginx.error_log()
