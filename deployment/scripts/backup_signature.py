"""Sign a backup, or check its signature: HMAC-SHA256 under a key kept outside the backups.

    python3 backup_signature.py sign KEY_FILE DUMP NAME   # prints "<hex>  NAME", NAME: the dump's final name
    python3 backup_signature.py check KEY_FILE DUMP       # exit 0 if DUMP.sig is DUMP's signature

The message is the dump's file name, a newline, then its bytes: a checksum file anyone can
regenerate; a signature only the holder of the key can. The key file (32+ random bytes,
readable by the backup user only) must not live in the backup directory, so a copy of the
backups is no way to forge one.
"""

import hashlib
import hmac
import sys
from pathlib import Path

MIN_KEY_BYTES = 32


def _key(path):
    key = Path(path).read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise SystemExit(f"the signing key in {path} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def signature(key, dump, name):
    mac = hmac.new(key, name.encode() + b"\n", hashlib.sha256)
    with dump.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            mac.update(chunk)
    return mac.hexdigest()


def main(command, key_file, dump_path, name=None):
    dump = Path(dump_path)
    key = _key(key_file)
    if command == "sign":
        print(f"{signature(key, dump, name)}  {name}")
        return 0
    signed = Path(f"{dump_path}.sig")
    if not signed.is_file():
        print(f"{dump} is not signed (no {signed.name})", file=sys.stderr)
        return 1
    fields = signed.read_text().split()
    if len(fields) != 2 or fields[1] != dump.name or not hmac.compare_digest(fields[0], signature(key, dump, dump.name)):
        print(f"{dump} does not match its signature: forged, altered or signed with another key", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if (sys.argv[1:2], len(sys.argv)) not in ((["sign"], 5), (["check"], 4)):
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
