"""Drive Silo with the real oras-py client (PyPI `oras`): push a SIF as Apptainer's oras
artifact, monolithic or chunked, and pull it back.

Usage: oci_client.py push|pull HOST:PORT REPO:TAG FILE [--chunked] (user and token from the
environment: OCI_USER, OCI_TOKEN; without them the client is anonymous; OCI_NO_RETRY=1 turns
off oras-py's own retries).
"""
import os
import shutil
import sys
import tempfile

import oras.client
import oras.decorator


def no_retry(seconds):
    raise SystemExit(f"a request failed (oras-py would retry in {seconds} s; OCI_NO_RETRY=1)")


if os.environ.get("OCI_NO_RETRY") == "1":
    # oras-py retries a failed request five times with a growing sleep (about two minutes
    # in all); the fault test wants the failure itself. The retry loop sleeps through the
    # module's `time`: make that sleep end the client instead.
    oras.decorator.time = type("NoRetry", (), {"sleep": staticmethod(no_retry)})

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
