"""A strict bencode decoder and a small encoder, for checking what the tracker sends."""


def decode(data: bytes):
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError(f"trailing bytes at {end}")
    return value


def _decode(data: bytes, i: int):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        text = data[i + 1:end]
        if text in (b"", b"-", b"-0") or (text.lstrip(b"-").startswith(b"0") and text.lstrip(b"-") != b"0"):
            raise ValueError(f"bad integer {text!r}")
        return int(text), end + 1
    if c == b"l":
        items, i = [], i + 1
        while data[i:i + 1] != b"e":
            item, i = _decode(data, i)
            items.append(item)
        return items, i + 1
    if c == b"d":
        entries, i, last = {}, i + 1, None
        while data[i:i + 1] != b"e":
            key, i = _decode(data, i)
            if not isinstance(key, bytes) or (last is not None and key <= last):
                raise ValueError("dictionary keys must be sorted byte strings")
            last = key
            entries[key], i = _decode(data, i)
        return entries, i + 1
    if c.isdigit():
        colon = data.index(b":", i)
        length = int(data[i:colon])
        start = colon + 1
        if start + length > len(data):
            raise ValueError("string past end")
        return data[start:start + length], start + length
    raise ValueError(f"unexpected byte {c!r} at {i}")


def encode(value) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(encode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError(type(value))
