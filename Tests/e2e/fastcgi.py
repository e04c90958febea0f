"""A minimal FastCGI client, for talking to `shoal serve` straight on its socket as a web server
(or a hostile local user) would."""
import socket
import struct

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 2, 3, 4, 5, 6
RESPONDER = 1
KEEP_CONN = 1


def record(kind: int, request_id: int, content: bytes = b"") -> bytes:
    return struct.pack(">BBHHBx", VERSION, kind, request_id, len(content), 0) + content


def pair(name: bytes, value: bytes) -> bytes:
    def length(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return length(len(name)) + length(len(value)) + name + value


def request_bytes(params: dict, request_id=1, keep=False) -> bytes:
    body = b"".join(pair(k.encode(), v if isinstance(v, bytes) else str(v).encode()) for k, v in params.items())
    out = record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", RESPONDER, KEEP_CONN if keep else 0))
    for start in range(0, len(body), 65535):
        out += record(PARAMS, request_id, body[start:start + 65535])
    return out + record(PARAMS, request_id) + record(STDIN, request_id)


def announce_params(query: str, remote="127.0.0.1", path="/announce", **extra) -> dict:
    return {"SCRIPT_NAME": path, "QUERY_STRING": query, "REMOTE_ADDR": remote, "REQUEST_METHOD": "GET",
            **extra}


def connect(address: str, timeout=10.0) -> socket.socket:
    """`address` as `shoal serve --listen` takes it: unix:/path or host:port."""
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address[5:])
        return sock
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def read_reply(sock: socket.socket) -> bytes:
    """The STDOUT of one request (CGI head and body), once its END_REQUEST arrives."""
    data = b""
    stdout = b""
    while True:
        while len(data) < 8:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before END_REQUEST")
            data += chunk
        _, kind, _, length, padding = struct.unpack(">BBHHBx", data[:8])
        while len(data) < 8 + length + padding:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a record")
            data += chunk
        content = data[8:8 + length]
        data = data[8 + length + padding:]
        if kind == STDOUT:
            stdout += content
        elif kind == END_REQUEST:
            return stdout


def ask(address: str, params: dict, timeout=10.0) -> tuple:
    """One request on a new connection: (status code, body)."""
    with connect(address, timeout) as sock:
        sock.sendall(request_bytes(params))
        reply = read_reply(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n")[0].split()[1])
    return status, body


def send_and_reset(address: str, params: dict):
    """Sends a whole request and hangs up at once with a reset, as nginx does when its client goes."""
    sock = connect(address)
    if sock.family != socket.AF_UNIX:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.sendall(request_bytes(params))
    sock.close()
