#!/usr/bin/env bash
# Installs everything Silo's build and tests need on a Debian machine, idempotently:
# a second run checks versions and installs nothing.
#
#   scripts/setup.sh          build + run needs (Rust wasm target, wasm-bindgen, Trunk, wasm-opt)
#   scripts/setup.sh --test   also the test needs (Go + Apptainer's library client, siftool,
#                             Chromium, Playwright, GnuPG with dirmngr, OpenLDAP slapd and
#                             ldap-utils, the sregistry client in ~/.cache/silo-venv)
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pin in Cargo.toml
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0       # npm's wasm-opt; Debian's (108) breaks current WASM
ORAS_PY_VERSION=0.2.43         # PyPI oras, for end2end/run-oci.sh
S3S_FS_VERSION=0.14.1          # crates.io s3s-fs: the S3 server of the storage and replica tests
                               # (0.15+ needs a newer Rust than the machine's 1.95)
ORAS_VENV=${OCI_VENV:-$HOME/.cache/silo-oci-venv}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_test=0
[[ ${1:-} == --test ]] && want_test=1

say() { printf '[setup] %s\n' "$*" >&2; }

apt_packages=(curl pkg-config)
if ((want_test)); then
	apt_packages+=(golang-go golang-github-apptainer-container-library-client-dev
		golang-github-sylabs-sif-dev siftool chromium gnupg dirmngr python3-venv skopeo
		golang-github-apptainer-container-key-client-dev
		slapd ldap-utils)   # server/tests/ldap_login.rs starts its own slapd (not the service)
fi
missing=()
for pkg in "${apt_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
	say "installing Debian packages: ${missing[*]}"
	SUDO=
	[[ $(id -u) == 0 ]] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
	say "Rust is missing: install it with rustup (https://rustup.rs) and re-run"
	exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
	say "adding the wasm32-unknown-unknown target"
	rustup target add wasm32-unknown-unknown
fi
for component in clippy rustfmt; do
	if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
		say "adding the $component component"
		rustup component add "$component"
	fi
done
if [[ $(wasm-bindgen --version 2>/dev/null) != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
	say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes)"
	cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [[ $(trunk --version 2>/dev/null) != "trunk $TRUNK_VERSION" ]]; then
	say "installing trunk $TRUNK_VERSION (several minutes)"
	cargo install -q trunk --version "$TRUNK_VERSION" --locked --force
fi
if ! command -v npm >/dev/null; then
	say "installing Node.js and npm"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [[ $(wasm-opt --version 2>/dev/null) != "wasm-opt version ${BINARYEN_VERSION%%.*}"* ]]; then
	say "installing wasm-opt from npm binaryen@$BINARYEN_VERSION"
	npm install -g --silent "binaryen@$BINARYEN_VERSION"
fi

if ((want_test)); then
	lock=$top/end2end/package-lock.json
	stamp=$top/end2end/node_modules/.silo-lock-sha
	if [[ ! -f $stamp ]] || [[ $(sha256sum "$lock" | cut -d' ' -f1) != $(cat "$stamp") ]]; then
		say "installing Playwright (without its browser download: tests use Debian's chromium)"
		(cd "$top/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
		sha256sum "$lock" | cut -d' ' -f1 >"$stamp"
	fi
	if [[ $("$ORAS_VENV/bin/python" -c 'import oras.version as v; print(v.__version__)' 2>/dev/null) != "$ORAS_PY_VERSION" ]]; then
		say "installing oras-py $ORAS_PY_VERSION into $ORAS_VENV"
		[[ -x $ORAS_VENV/bin/python ]] || python3 -m venv "$ORAS_VENV"
		"$ORAS_VENV/bin/pip" install -q "oras==$ORAS_PY_VERSION"
	fi
fi
if ((want_test)); then
	# The legacy sregistry client (end2end/run-sregistry.sh), in its own virtualenv.
	SREGISTRY_VERSION=0.2.39
	venv=$HOME/.cache/silo-venv
	if [[ $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("sregistry"))' 2>/dev/null) != "$SREGISTRY_VERSION" ]]; then
		say "installing the sregistry client $SREGISTRY_VERSION into $venv"
		python3 -m venv "$venv"
		"$venv/bin/pip" install -q "sregistry[registry-basic]==$SREGISTRY_VERSION"
	fi
fi
if ((want_test)); then
	if [[ $(s3s-fs --version 2>/dev/null) != "s3s-fs $S3S_FS_VERSION" ]]; then
		say "installing s3s-fs $S3S_FS_VERSION (an S3-compatible server for the tests; a few minutes)"
		cargo install -q s3s-fs --version "$S3S_FS_VERSION" --features binary --locked --force
	fi
fi
say "tools ready"
