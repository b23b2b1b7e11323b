#!/usr/bin/env python3
"""HTTP load driver for bench/transfers.sh (standard library only).

Every sub-command prints one line: a number (seconds, or milliseconds for `startup`) or a
short value, so the shell script can collect it. Uploads stream the file from disk with
http.client in 1 MiB blocks over one keep-alive connection per flow; nothing is held in
memory. The client does the same work for every server it is compared against.

  push-single  URL TOKEN E/C/N FILE SHA256 MD5   library v2 single-part push; seconds
  push-multi   URL TOKEN E/C/N FILE SHA256       library v2 multipart push; seconds
  put          URL FILE                           one PUT of the file (nginx dav); seconds
  oci-push     URL NAME FILE SHA256               distribution: POST + PUT ?digest=; seconds
  startup      URL CMD...                         start CMD, time to the first 200 of URL/healthz; ms
"""
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

BLOCK = 1 << 20


class Slice:
    """A read-only window [offset, offset+length) of an open file, for http.client bodies."""

    def __init__(self, f, offset, length):
        self.f, self.left = f, length
        f.seek(offset)

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


class Client:
    def __init__(self, base, token=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.token = token
        self.conns = {}

    def conn(self, host, port):
        key = (host, port)
        if key not in self.conns:
            self.conns[key] = http.client.HTTPConnection(host, port, timeout=600, blocksize=BLOCK)
        return self.conns[key]

    def call(self, method, url, body=None, headers=None, auth=True, ok=(200, 201, 202, 204)):
        u = urllib.parse.urlsplit(url if "://" in url else f"http://{self.host}:{self.port}{url}")
        h = dict(headers or {})
        if auth and self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c = self.conn(u.hostname, u.port or 80)
        path = u.path + (f"?{u.query}" if u.query else "")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if r.status not in ok:
            sys.exit(f"{method} {url}: HTTP {r.status}: {data[:300]!r}")
        return r, data

    def json(self, method, url, body=None, **kw):
        _, data = self.call(method, url, body, **kw)
        return json.loads(data)["data"] if data else None


def ensure_image(c, ref, sha):
    """Creates entity, collection and container when missing and a fresh image record."""
    e, col, n = ref.split("/")
    ids = {}
    for kind, path, body in (
        ("entities", e, {"name": e}),
        ("collections", f"{e}/{col}", {"name": col}),
        ("containers", f"{e}/{col}/{n}", {"name": n}),
    ):
        r, data = c.call("GET", f"/v1/{kind}/{path}", ok=(200, 404))
        if r.status == 404:
            if kind == "collections":
                body["entity"] = ids["entities"]
            if kind == "containers":
                body["collection"] = ids["collections"]
            ids[kind] = c.json("POST", f"/v1/{kind}", body)["id"]
        else:
            ids[kind] = json.loads(data)["data"]["id"]
    image = c.json("POST", "/v1/images", {"hash": f"sha256.{sha}", "container": ids["containers"]})
    if image.get("uploaded"):
        sys.exit(f"{ref}: an image with sha256 {sha} is already uploaded there (use a fresh container)")
    return ids["containers"], image["id"]


def tag(c, container, image):
    c.json("POST", f"/v2/tags/{container}", {"Arch": "amd64", "Tag": "latest", "ImageID": image})


def push_single(url, token, ref, path, sha, md5):
    c = Client(url, token)
    size = os.path.getsize(path)
    container, image = ensure_image(c, ref, sha)
    t0 = time.perf_counter()
    up = c.json("POST", f"/v2/imagefile/{image}", {"filesize": size, "sha256sum": sha, "md5sum": md5})
    with open(path, "rb") as f:
        c.call("PUT", up["uploadURL"], body=f, auth=False, ok=(200,),
               headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})
    c.call("PUT", f"/v2/imagefile/{image}/_complete", {})
    took = time.perf_counter() - t0
    tag(c, container, image)
    return took


def part_hashes(path, part):
    out = []
    with open(path, "rb") as f:
        while True:
            h, left = hashlib.sha256(), part
            while left:
                b = f.read(min(BLOCK, left))
                if not b:
                    break
                h.update(b)
                left -= len(b)
            if left == part:
                return out
            out.append(h.hexdigest())


def push_multi(url, token, ref, path, sha):
    c = Client(url, token)
    size = os.path.getsize(path)
    container, image = ensure_image(c, ref, sha)
    # The part size is the server's answer; hash the parts before the clock starts (the
    # real client hashes each part just before sending it: client work, not server work).
    start = c.json("POST", f"/v2/imagefile/{image}/_multipart", {"filesize": size})
    part = int(start["partSize"])
    hashes = part_hashes(path, part)
    if len(hashes) != int(start["totalParts"]):
        sys.exit(f"server says {start['totalParts']} parts, file has {len(hashes)}")
    t0 = time.perf_counter()
    done = []
    with open(path, "rb") as f:
        for i, h in enumerate(hashes, 1):
            length = min(part, size - (i - 1) * part)
            p = c.json("PUT", f"/v2/imagefile/{image}/_multipart",
                       {"partSize": length, "uploadID": start["uploadID"], "partNumber": i, "sha256sum": h})
            r, _ = c.call("PUT", p["presignedURL"], body=Slice(f, (i - 1) * part, length), auth=False,
                          ok=(200,), headers={"Content-Length": str(length), "x-amz-content-sha256": h})
            done.append({"partNumber": i, "token": r.getheader("ETag", "")})
    c.json("PUT", f"/v2/imagefile/{image}/_multipart_complete",
           {"uploadID": start["uploadID"], "completedParts": done})
    took = time.perf_counter() - t0
    tag(c, container, image)
    return took


def put(url, path):
    c = Client(url)
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        c.call("PUT", url, body=f, headers={"Content-Length": str(size)})
    return time.perf_counter() - t0


def oci_push(url, name, path, sha):
    c = Client(url)
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    r, _ = c.call("POST", f"/v2/{name}/blobs/uploads/", b"", headers={"Content-Length": "0"}, ok=(202,))
    loc = urllib.parse.urljoin(url + "/", r.getheader("Location"))
    loc += ("&" if "?" in loc else "?") + f"digest=sha256:{sha}"
    with open(path, "rb") as f:
        c.call("PUT", loc, body=f, ok=(201,),
               headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})
    return time.perf_counter() - t0


def startup(url, cmd):
    u = urllib.parse.urlsplit(url)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < 30:
            if proc.poll() is not None:
                sys.exit(f"{cmd[0]} exited with {proc.returncode} before answering")
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return (time.perf_counter() - t0) * 1000
            except OSError:
                pass
            time.sleep(0.002)
        sys.exit("no 200 from /healthz within 30 s")
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "push-single":
        out = push_single(*args)
    elif cmd == "push-multi":
        out = push_multi(*args)
    elif cmd == "put":
        out = put(*args)
    elif cmd == "oci-push":
        out = oci_push(*args)
    elif cmd == "startup":
        out = startup(args[0], args[1:])
    else:
        sys.exit(__doc__)
    print(f"{out:.4f}")


if __name__ == "__main__":
    main(sys.argv)
