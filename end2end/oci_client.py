"""Drive Silo with the real oras-py client (PyPI `oras`): push a SIF as Apptainer's oras
artifact, monolithic or chunked, and pull it back.

Usage: oci_client.py push|pull HOST:PORT REPO:TAG FILE [--chunked] (user and token from the
environment: OCI_USER, OCI_TOKEN; without them the client is anonymous).
"""
import os
import shutil
import sys
import tempfile

import oras.client

SIF_CONFIG = "application/vnd.sylabs.sif.config.v1+json"
SIF_LAYER = "application/vnd.sylabs.sif.layer.v1.sif"


def client(host):
    c = oras.client.OrasClient(hostname=host, insecure=True)
    user, token = os.environ.get("OCI_USER"), os.environ.get("OCI_TOKEN")
    if user and token:
        c.auth.set_basic_auth(user, token)
    return c


def main():
    action, host, ref, path = sys.argv[1:5]
    chunked = "--chunked" in sys.argv[5:]
    c = client(host)
    target = f"{host}/{ref}"
    if action == "push":
        work = tempfile.mkdtemp()
        try:
            # oras-py wants the files relative to the working directory.
            name = os.path.basename(path)
            shutil.copy(path, os.path.join(work, name))
            with open(os.path.join(work, "config.json"), "w") as f:
                f.write("{}")
            os.chdir(work)
            response = c.push(
                target=target,
                files=[f"{name}:{SIF_LAYER}"],
                manifest_config=f"config.json:{SIF_CONFIG}",
                do_chunked=chunked,
                chunk_size=1024 * 1024,
            )
            print(f"pushed {target}: HTTP {response.status_code}")
        finally:
            shutil.rmtree(work)
    elif action == "pull":
        out = tempfile.mkdtemp()
        files = c.pull(target=target, outdir=out)
        if len(files) != 1:
            sys.exit(f"expected one file, pulled {files}")
        shutil.move(files[0], path)
        shutil.rmtree(out)
        print(f"pulled {target} to {path}")
    else:
        sys.exit(f"unknown action {action}")


if __name__ == "__main__":
    main()
