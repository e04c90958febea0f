"""Helpers for private tracking's tests: minting tokens as a site would, and the control endpoint."""
import hashlib
import hmac
import struct
import urllib.parse
import urllib.request

import bencode
import harness

SECRET = "0123456789abcdef0123456789abcdef-current"
PREVIOUS = "fedcba9876543210fedcba9876543210-previous"
CONTROL = "site-control-0123456789"


def mint(user, info_hash, key_version=0, secret=SECRET):
    """The token recipe from the README, with nothing but Python's standard library."""
    head = struct.pack(">IH", user, key_version)
    tag = hmac.new(secret.encode(), b"shoal-announce-v1" + head + info_hash, hashlib.sha256).digest()[:16]
    return (head + tag).hex()


def request(url, data=None, method=None):
    """(status, body) of a GET, or of a POST when `data` is given."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Control:
    """The site's side of the control endpoint."""

    def __init__(self, base, secret=CONTROL):
        self.root = f"{base}/{secret}"

    def replace(self, table, lines):
        return request(f"{self.root}/site/{table}", data="".join(line + "\n" for line in lines).encode())

    def add(self, table, lines):
        return request(f"{self.root}/site/{table}/add", data="".join(line + "\n" for line in lines).encode())

    def remove(self, table, lines):
        return request(f"{self.root}/site/{table}/remove", data="".join(line + "\n" for line in lines).encode())

    def rows(self, table):
        status, body = request(f"{self.root}/site/{table}")
        assert status == 200, (status, body)
        return [line.split("\t") for line in body.decode().splitlines()]

    def ledger(self, after=0, limit=10_000):
        """(header fields, rows as dicts)."""
        status, body = request(f"{self.root}/ledger?after={after}&limit={limit}")
        assert status == 200, (status, body)
        lines = body.decode().splitlines()
        header = dict(field.split("=", 1) for field in lines[0].split("\t")[1:])
        columns = lines[1].split("\t")
        rows = [dict(zip(columns, line.split("\t"))) for line in lines[2:]]
        for row in rows:
            for name in ("seq", "time", "user", "uploaded", "downloaded", "seconds", "seeding", "left"):
                row[name] = int(row[name])
        return header, rows

    def ack(self, epoch, through):
        return request(f"{self.root}/ledger/ack?epoch={epoch}&through={through}")


def announce(base, credential, info_hash, peer_id=b"-qB4650-abcdefghijkl", port=7000, shape="path", **extra):
    """Announces with a credential in one of the URL shapes; returns the decoded reply."""
    query = harness.announce_query(info_hash, peer_id, port, **extra)
    if shape == "path":
        url = f"{base}/{credential}/announce?{query}"
    elif shape == "suffix":
        url = f"{base}/announce/{credential}?{query}"
    elif shape == "query":
        url = f"{base}/announce?passkey={credential}&{query}"
    else:
        url = f"{base}/announce?{query}"
    status, body = harness.get(url)
    assert status == 200, (status, body)
    return bencode.decode(body)


class PrivateTracker:
    """`shoal serve` in private mode (4 workers) behind nginx, with the control endpoint on."""

    def __init__(self, workdir, workers=4, extra=()):
        control = workdir / "state" / "control.db"
        control.parent.mkdir(exist_ok=True)
        self.control_db = control
        self.database = str(workdir / "peers.db")
        self.shoal = harness.Shoal(workdir, workers=workers, database=self.database, extra=[
            "--control-database", str(control), "--tracking", "private", "--secret", SECRET,
            "--previous-secret", PREVIOUS, "--control-secret", CONTROL, *extra])
        self.nginx = harness.Nginx(workdir, self.shoal.upstream)
        self.base = self.nginx.url("")
        self.control = Control(self.base)

    def stop(self):
        self.nginx.stop()
        assert self.shoal.stop() == 0, self.shoal.output()
