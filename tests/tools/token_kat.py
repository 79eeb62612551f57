#!/usr/bin/env python3
"""Known-answer vectors for logseal tokens, computed independently of the C
code: normalization with the ipaddress module and regular expressions, key
derivation and hashing with hashlib.blake2b.

libsodium's crypto_kdf_derive_from_key(sub, n, id, ctx, key) is BLAKE2b
with key=key, salt=id as 8 bytes little endian + 8 zero bytes,
person=ctx padded with zeros to 16 bytes, an empty message and
digest_size=n. A token body is BLAKE2b(digest_size=16, key=class subkey)
of the normalized value, cut to 15 bytes.

Usage: token_kat.py            write the vectors to stdout
       token_kat.py --check F  exit 1 unless F holds exactly these vectors
"""
import base64
import hashlib
import ipaddress
import re
import struct
import sys

KEY = bytes(range(32))
EPOCH = 1234
CLASSES = ["ip", "id", "user", "email", "secret", "phone", "name"]
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
UUID_RE = re.compile(rb"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
PHONE_RE = re.compile(rb"^\+?[0-9 ().-]*[0-9]$")
IP4_RE = re.compile(rb"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")

VECTORS = [
    ("ip", "192.0.2.1"),
    ("ip", "10.1.2.3"),
    ("ip", "010.001.002.003"),
    ("ip", "::ffff:192.0.2.1"),
    ("ip", "::FFFF:192.0.2.1"),
    ("ip", "::ffff:c000:0201"),
    ("ip", "0:0:0:0:0:ffff:192.0.2.1"),
    ("ip", "2001:db8::1"),
    ("ip", "2001:DB8::1"),
    ("ip", "2001:0db8:0000:0000:0000:0000:0000:0001"),
    ("ip", "2001:db8:0:0:1:0:0:1"),
    ("ip", "2001:db8:0:1:1:1:1:1"),
    ("ip", "2001:0:0:1:0:0:0:1"),
    ("ip", "::2:3"),
    ("ip", "::1"),
    ("ip", "::"),
    ("ip", "fe80::1%eth0"),
    ("ip", "FE80:0:0:0:0:0:0:1%eth0"),
    ("ip", "1.2.3.256"),
    ("ip", "not-an-address"),
    ("id", "123E4567-E89B-12D3-A456-426614174000"),
    ("id", "123e4567-e89b-12d3-a456-426614174000"),
    ("id", "Device-ABC"),
    ("id", "10.1.2.3"),
    ("user", "12345"),
    ("user", "User42"),
    ("user", ""),
    ("email", "Alice@Example.COM"),
    ("email", "alice@example.com"),
    ("secret", "sk_live_AbC"),
    ("secret", "4111 1111 1111 1111"),
    ("secret", "4111-1111-1111-1111"),
    ("secret", "4111111111111111"),
    ("secret", "4111 1111 1111 1112"),
    ("phone", "+1-555-0100"),
    ("phone", "+15550100"),
    ("phone", "090-1234-5678"),
    ("phone", "090 1234 5678"),
    ("phone", "(090)1234-5678"),
    ("phone", "+81 (0)90-1234-5678"),
    ("phone", "+819012345678"),
    ("phone", "090-1234-5678 ext"),
    ("name", "Zo\u00eb"),
    ("name", "A" * 100),
]


def normalize_ip(v):
    if b":" not in v:
        m = IP4_RE.match(v)
        if not m or any(int(g) > 255 for g in m.groups()):
            return v
        return b".".join(str(int(g)).encode() for g in m.groups())
    addr, sep, zone = v.partition(b"%")
    if sep and not zone:
        return v
    try:
        a = ipaddress.IPv6Address(addr.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return v
    text = str(a.ipv4_mapped) if a.ipv4_mapped else a.compressed
    return text.encode() + sep + zone


def normalize_phone(v):
    """Digits of a number written with - . blank ( ); +81 and a 0 after it
    become the national 0; another country code keeps its '+'."""
    if not PHONE_RE.match(v):
        return v
    d = re.sub(rb"[^0-9]", b"", v)
    if not v.startswith(b"+"):
        return d
    if not d.startswith(b"81"):
        return b"+" + d
    rest = d[2:]
    return b"0" + (rest[1:] if rest.startswith(b"0") else rest)


def luhn_ok(d):
    total = 0
    for k, c in enumerate(reversed(d)):
        v = int(c) * (2 if k % 2 else 1)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


def normalize_secret(v):
    """A card number in groups (one of ' ' '-' between them): its digits."""
    m = re.match(rb"^[0-9]+(?:([ -])[0-9]+)?(?:\1[0-9]+)*$", v)
    if not m or not m.group(1):
        return v
    d = re.sub(rb"[ -]", b"", v)
    return d if 13 <= len(d) <= 19 and luhn_ok(d.decode()) else v


def normalize(cls, v):
    if cls == "ip":
        return normalize_ip(v)
    if cls == "id" and UUID_RE.match(v):
        return v.lower()
    if cls == "email":
        return v.lower()  # bytes.lower() touches ASCII only
    if cls == "phone":
        return normalize_phone(v)
    if cls == "secret":
        return normalize_secret(v)
    return v


def subkey(cls):
    salt = struct.pack("<Q", CLASSES.index(cls) + 1) + bytes(8)
    person = b"lsltoken" + bytes(8)
    return hashlib.blake2b(b"", key=KEY, salt=salt, person=person,
                           digest_size=32).digest()


def token(cls, value):
    norm = normalize(cls, value.encode())
    h = hashlib.blake2b(norm, key=subkey(cls), digest_size=16).digest()[:15]
    kid = EPOCH % 1024
    body = base64.b32encode(h).decode().lower()
    assert len(body) == 24
    return cls + "_" + ALPHABET[kid >> 5] + ALPHABET[kid & 31] + body


def render():
    out = ["# logseal token known answers: class, raw value, token",
           "# key: bytes 00..1f; epoch %d; written by tests/tools/"
           "token_kat.py" % EPOCH]
    for cls, value in VECTORS:
        out.append("%s\t%s\t%s" % (cls, value, token(cls, value)))
    return "\n".join(out) + "\n"


def main(argv):
    text = render()
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2], encoding="utf-8") as f:
            if f.read() != text:
                sys.stderr.write("%s differs from token_kat.py output\n"
                                 % argv[2])
                return 1
        return 0
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
