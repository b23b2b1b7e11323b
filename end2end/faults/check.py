"""Invariants after a crash and restart (end2end/run-faults.sh): what every surface shows of
one tag, and whether the database and the blob store agree. Standard library only; the
database is read with Python's sqlite3 module (SQLite) or the psql CLI (PostgreSQL).

    check.py surfaces URL USER TOKEN ENTITY/COLLECTION/CONTAINER:TAG absent|SHA256
        absent: no surface shows the tag (library image and imagefile, shub manifest, OCI
        tags list and manifest, REST image listing). SHA256: every surface shows exactly
        that image, uploaded.
    check.py data DATABASE BLOB_ROOT [--clean]
        Every file under BLOB_ROOT/sha256 hashes to its name; every uploaded image and every
        OCI blob record has its blob, of the recorded size. With --clean: no temporary file
        under BLOB_ROOT/tmp (S3: uploads/ beside BLOB_ROOT) and no upload session rows are left.
        DATABASE is a SQLite file or a postgres:// URL. Prints a one-line summary.
    check.py age DATABASE
        Moves every upload session's expiry into the past (stands in for a day passing).
Exit status 1 with the violations listed on stderr.
"""
import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request

problems = []


def fail(msg):
    problems.append(msg)


def get(url, headers=None):
    """(status, body bytes) of a GET."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def oci_token(url, user, token, repo):
    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    status, body = get(f"{url}/v2/token?service=silo&scope=repository:{repo}:pull",
                       {"Authorization": f"Basic {basic}"})
    if status != 200:
        fail(f"OCI token endpoint answered {status}: {body[:200]!r}")
        return ""
    doc = json.loads(body)
    return doc.get("token") or doc.get("access_token") or ""


def surfaces(url, user, token, ref, want):
    path, tag = ref.rsplit(":", 1)
    bearer = {"Authorization": f"Bearer {token}"}
    absent = want == "absent"

    def expect(name, status, body, sha_of):
        if absent:
            if status == 200:
                fail(f"{name}: partial image visible (200): {body[:300]!r}")
            elif status >= 500:
                fail(f"{name}: {status} {body[:200]!r}")
            return
        if status != 200:
            fail(f"{name}: expected the image, got {status} {body[:200]!r}")
            return
        found = sha_of(body)
        if found != want:
            fail(f"{name}: shows {found}, expected {want}")

    status, body = get(f"{url}/v1/images/{path}:{tag}?arch=amd64", bearer)
    expect("library GET /v1/images", status, body,
           lambda b: json.loads(b)["data"]["hash"].removeprefix("sha256."))
    if status == 200 and not absent and not json.loads(body)["data"].get("uploaded"):
        fail("library GET /v1/images: image not marked uploaded")
    status, body = get(f"{url}/v1/imagefile/{path}:{tag}?arch=amd64", bearer)
    expect("library GET /v1/imagefile", status, body, lambda b: hashlib.sha256(b).hexdigest())
    status, body = get(f"{url}/api/container/{path}:{tag}", bearer)
    expect("shub GET /api/container", status, body,
           lambda b: json.loads(b).get("version", "").removeprefix("sha256."))
    oci = {"Authorization": f"Bearer {oci_token(url, user, token, path)}"}
    status, body = get(f"{url}/v2/{path}/tags/list", oci)
    tags = json.loads(body).get("tags") or [] if status == 200 else []
    if status >= 500:
        fail(f"OCI tags list: {status}")
    if absent and tag in tags:
        fail(f"OCI tags list shows {tag}: {tags}")
    if not absent and tag not in tags:
        fail(f"OCI tags list lacks {tag}: {status} {body[:200]!r}")
    status, body = get(f"{url}/v2/{path}/manifests/{tag}", {
        **oci, "Accept": "application/vnd.oci.image.manifest.v1+json"})
    if absent and status == 200:
        fail(f"OCI manifest of {tag} visible: {body[:300]!r}")
    if not absent:
        layers = json.loads(body).get("layers", []) if status == 200 else []
        if [layer.get("digest") for layer in layers] != [f"sha256:{want}"]:
            fail(f"OCI manifest of {tag}: {status}, layers {layers}")
    status, body = get(f"{url}/api/v1/containers/{path}/images?per_page=100", bearer)
    if status >= 500:
        fail(f"REST images: {status}")
    items = []
    if status == 200:
        doc = json.loads(body)
        items = doc.get("items", doc.get("data", doc)) if isinstance(doc, dict) else doc
    tagged = [i for i in items if tag in i.get("tags", [])]
    if absent and tagged:
        fail(f"REST listing shows {tag}: {tagged}")
    if not absent and [(i["sha256"], i["uploaded"]) for i in tagged] != [(want, True)]:
        fail(f"REST listing of {tag}: {tagged or status}")


def query(db, sql):
    if db.startswith("postgres"):
        out = subprocess.run(["psql", db, "-AtF", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [tuple(str(v) for v in row) for row in conn.execute(sql)]
    finally:
        conn.close()


def data(db, root, clean):
    blobs = {}
    base = os.path.join(root, "sha256")
    for dirpath, _, files in os.walk(base):
        for name in files:
            full = os.path.join(dirpath, name)
            h = hashlib.sha256()
            with open(full, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            if h.hexdigest() != name:
                fail(f"corrupt blob {full}: hashes to {h.hexdigest()}")
            if os.path.basename(dirpath) != name[:2]:
                fail(f"blob {full} in the wrong directory")
            blobs[name] = os.path.getsize(full)
    uploaded = query(db, "SELECT id, sha256, size FROM images WHERE uploaded = true")
    for image_id, sha, size in uploaded:
        if sha not in blobs:
            fail(f"image {image_id} is uploaded but its blob {sha} is missing")
        elif blobs[sha] != int(size):
            fail(f"image {image_id}: recorded size {size}, blob has {blobs[sha]}")
    for digest, size in query(db, "SELECT digest, size FROM oci_blobs"):
        if digest not in blobs:
            fail(f"OCI blob record {digest} has no blob")
        elif blobs[digest] != int(size):
            fail(f"OCI blob {digest}: recorded size {size}, blob has {blobs[digest]}")
    referenced = {sha for _, sha, _ in uploaded} | {d for d, _ in query(db, "SELECT digest, size FROM oci_blobs")}
    orphans = sorted(set(blobs) - referenced)
    leftovers = []
    # filesystem store: <root>/tmp; S3 (s3s-fs keeps objects as files): <bucket>/uploads
    for where in (os.path.join(root, "tmp"), os.path.join(os.path.dirname(root), "uploads")):
        for dirpath, _, files in os.walk(where):
            leftovers += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    sessions = int(query(db, "SELECT count(*) FROM upload_sessions")[0][0])
    parts = int(query(db, "SELECT count(*) FROM upload_parts")[0][0])
    oci_sessions = int(query(db, "SELECT count(*) FROM oci_uploads")[0][0])
    if clean:
        if leftovers:
            fail(f"temporary files left after the sweep: {leftovers}")
        if sessions or parts or oci_sessions:
            fail(f"upload sessions left after the sweep: {sessions} library ({parts} parts), {oci_sessions} OCI")
    print(f"{len(blobs)} blobs verified, {len(uploaded)} uploaded images, {len(orphans)} unreferenced "
          f"blobs, {len(leftovers)} temporary files, {sessions}+{oci_sessions} upload sessions")


def age(db):
    for table in ("upload_sessions", "oci_uploads"):
        if db.startswith("postgres"):
            sql = f"UPDATE {table} SET expires_at = now() - interval '2 days'"
            subprocess.run(["psql", db, "-qc", sql], check=True)
        else:
            # Keep the stored text format, move it to the year 2000.
            conn = sqlite3.connect(db)
            conn.execute(f"UPDATE {table} SET expires_at = '2000' || substr(expires_at, 5)")
            conn.commit()
            conn.close()


def main():
    cmd = sys.argv[1]
    if cmd == "surfaces":
        surfaces(*sys.argv[2:7])
    elif cmd == "data":
        data(sys.argv[2], sys.argv[3], "--clean" in sys.argv[4:])
    elif cmd == "age":
        age(sys.argv[2])
    else:
        sys.exit(f"unknown command {cmd}")
    if problems:
        for p in problems:
            print(f"VIOLATION: {p}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
