#!/usr/bin/env python3
"""Pull a shub:// reference exactly as Apptainer's shub client does (internal/pkg/client/shub):
parse the reference, GET the manifest without credentials, GET the `image` URL without
credentials, check the size against Content-Length, and file the result under `commit`.

Usage: shub_pull.py [--no-https] shub://host/[entity/]collection/container[:tag][@digest] OUT
Prints the commit (the cache key). Exits 1 with a message on any failure.
"""
import hashlib
import json
import re
import sys
import urllib.error
import urllib.request

# The client's validation of shub refs (isShubPullRef).
SHUB_REF = re.compile(
    r"^(shub://)?([-.a-zA-Z0-9/]{1,64}/)?[-a-zA-Z0-9]{1,39}/[-_.a-zA-Z0-9]{1,64}"
    r"(:[-_.a-zA-Z0-9]{1,64})?(@[a-f0-9]{32}|@[a-f0-9]{40})?$"
)


def fail(message):
    print(f"shub_pull: {message}", file=sys.stderr)
    sys.exit(1)


def manifest_url(ref, no_https):
    if not SHUB_REF.match(ref):
        fail(f"{ref} is not a valid shub reference")
    path = ref[len("shub://"):] if ref.startswith("shub://") else ref
    parts = path.split("/")
    if len(parts) > 2:
        registry = "/".join(parts[:-2])
        parts = parts[-2:]
    else:
        registry = "singularity-hub.org"
    user, container = parts
    if ":" not in container and "@" not in container:
        container += ":latest"
    scheme = "http" if no_https else "https"
    return f"{scheme}://{registry}/api/container/{user}/{container}"


def main():
    args = sys.argv[1:]
    no_https = "--no-https" in args
    args = [a for a in args if a != "--no-https"]
    if len(args) != 2:
        fail(__doc__)
    ref, out = args
    url = manifest_url(ref, no_https)
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            if r.status != 200:
                fail(f"manifest {url}: status {r.status}")
            manifest = json.load(r)
    except urllib.error.HTTPError as e:
        fail(f"manifest {url}: status {e.code}")
    for field in ("image", "name", "tag", "version", "commit"):
        if not isinstance(manifest.get(field), str):
            fail(f"manifest {url} lacks {field}: {manifest}")
    commit = manifest["commit"]
    if not commit or not re.fullmatch(r"[A-Za-z0-9._-]+", commit):
        fail(f"commit {commit!r} is not a usable cache key")
    image = manifest["image"]
    if no_https:
        image = re.sub(r"^https://", "http://", image)
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(image, timeout=7200) as r, open(out, "wb") as f:
            if r.status != 200:
                fail(f"download {image}: status {r.status}")
            length = r.headers.get("Content-Length")
            while chunk := r.read(1 << 20):
                f.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as e:
        fail(f"download {image}: status {e.code}")
    if length is not None and int(length) != size:
        fail(f"download {image}: {size} bytes, Content-Length {length}")
    if digest.hexdigest() != commit:
        fail(f"download {image}: sha256 {digest.hexdigest()} is not the commit {commit}")
    print(commit)


if __name__ == "__main__":
    main()
