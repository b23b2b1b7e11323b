# Silo: the two commands are `make run` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/silo-target
# PostgreSQL used by the test suite (each test creates its own database through it).
SILO_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
SILO := $(CARGO_TARGET_DIR)/release/silo
SILO_DEBUG := $(CARGO_TARGET_DIR)/debug/silo

.PHONY: help run build spa setup setup-test test lint test-unit test-postgres test-libclient test-replicas test-keyserver test-sregistry test-oci test-concurrency test-load test-e2e test-oauth test-faults fmt bench bench-transfers fuzz clean-test-dbs openapi

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: build ## build and run Silo with its defaults (./silo-data, http://127.0.0.1:8080)
	$(SILO) serve

build: spa ## release build of the silo binary with the SPA embedded
	cargo build --release -p server

spa: setup ## build the SPA with Trunk into dist/
	cargo fetch -q
	trunk build --release

setup: ## install the build tools (idempotent)
	@scripts/setup.sh

setup-test: ## install the build and test tools (idempotent)
	@scripts/setup.sh --test

test: setup-test lint test-unit test-postgres spa test-libclient test-keyserver test-sregistry test-oci test-replicas test-concurrency test-load test-e2e test-oauth test-faults ## every check and test, on SQLite and PostgreSQL
	@echo "make test: all suites passed"

openapi: ## regenerate docs/openapi.json (the REST API's OpenAPI document) from the code
	cargo run -q -p server -- openapi > docs/openapi.json

fmt: ## format the code
	cargo fmt --all

lint: ## rustfmt and clippy (server and wasm) with warnings as errors
	cargo fmt --all -- --check
	cargo clippy -p silo-domain -p server --all-targets -- -D warnings
	cargo clippy -p app --features ssr -- -D warnings
	cargo clippy -p frontend -p app --target wasm32-unknown-unknown -- -D warnings

test-unit: ## unit and in-process HTTP tests on SQLite
	cargo test -p silo-domain -p server
	cargo test -p app --features ssr

test-postgres: clean-test-dbs ## the same tests on PostgreSQL
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		SILO_TEST_POSTGRES_URL=$(SILO_TEST_POSTGRES_URL) cargo test -p silo-domain -p server && \
		SILO_TEST_POSTGRES_URL=$(SILO_TEST_POSTGRES_URL) cargo test -p app --features ssr; \
	elif [ "$$CI" = true ]; then echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; \
	else echo "SKIPPED: PostgreSQL tests (no server at 127.0.0.1:5432)" >&2; fi

clean-test-dbs:
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		for db in $$(psql "$(SILO_TEST_POSTGRES_URL)" -Atc "select datname from pg_database where datname like 'silo\_t\_%' or datname like 'silo\_e2e\_%'"); do \
			psql "$(SILO_TEST_POSTGRES_URL)" -qc "drop database if exists $$db" ; done; fi

test-libclient: ## Apptainer's Go library client against silo in stream and 303 mode (SQLite, then PostgreSQL, then an S3 store), incl. a 200 MiB multipart SIF
	cargo build -p server
	LIBCLIENT_BIG_MB=200 end2end/run-libclient.sh $(SILO_DEBUG)
	LIBCLIENT_STORE=s3 LIBCLIENT_BIG_MB=80 LIBCLIENT_PORT=18082 end2end/run-libclient.sh $(SILO_DEBUG)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db LIBCLIENT_PORT=18081 end2end/run-libclient.sh $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then exit 1; fi

test-keyserver: ## GnuPG (gpg + dirmngr) against the HKP keyserver of a running silo (SQLite, then PostgreSQL)
	cargo build -p server
	end2end/run-keyserver.sh $(SILO_DEBUG)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db KEYSERVER_PORT=18191 end2end/run-keyserver.sh $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then exit 1; fi

test-sregistry: ## the real sregistry client and the shub:// request sequence against a running silo (SQLite, then PostgreSQL)
	cargo build -p server
	end2end/run-sregistry.sh $(SILO_DEBUG)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db end2end/run-sregistry.sh $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then exit 1; fi

test-oci: ## oras-py and skopeo against a running silo (SQLite, then an S3 store, then PostgreSQL), cross-protocol pulls
	cargo build -p server
	end2end/run-oci.sh $(SILO_DEBUG)
	OCI_STORE=s3 OCI_PORT=18292 end2end/run-oci.sh $(SILO_DEBUG)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db OCI_PORT=18291 end2end/run-oci.sh $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then exit 1; fi

test-replicas: ## two silo replicas on one PostgreSQL and one S3 store (s3s-fs): push through one, pull through the other, live events, rate limits, a moved tag seen by the other
	cargo build -p server
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		SILO_TEST_POSTGRES_URL=$(SILO_TEST_POSTGRES_URL) end2end/run-replicas.sh $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; \
	else echo "SKIPPED: replica test (no PostgreSQL at 127.0.0.1:5432)" >&2; fi

test-concurrency: ## many real clients (library client, oras-py) pushing into the same tags at once: a serial outcome, every pull hashed (SQLite, then PostgreSQL)
	cargo build -p server
	end2end/run-load.sh race $(SILO_DEBUG)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db LOAD_PORT=18701 end2end/run-load.sh race $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then exit 1; fi

test-load: spa ## 200 clients for 60 s mixing pushes, pulls, searches and page loads against a seeded registry: zero errors, zero corrupt downloads (docs/BENCHMARKS.md)
	cargo build -p server
	end2end/run-load.sh load $(SILO_DEBUG)

test-e2e: ## Playwright in Chromium against a running silo with a pushed image
	cargo build -p server
	SPA_EMBEDDED=1 end2end/run-spa.sh $(SILO_DEBUG)

test-oauth: ## sign-in in Chromium: a real OpenID provider (npm oidc-provider), a GitLab stand-in and a real slapd side by side on loopback, SQLite then PostgreSQL
	cargo build -p server
	SPA_EMBEDDED=1 end2end/run-oauth.sh $(SILO_DEBUG)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db OAUTH_SILO_PORT=18613 OAUTH_OIDC_PORT=18612 OAUTH_GITLAB_PORT=18616 OAUTH_LDAP_PORT=18617 SPA_EMBEDDED=1 end2end/run-oauth.sh $(SILO_DEBUG); \
	elif [ "$$CI" = true ]; then exit 1; fi

# The fault-injection binary (silo-domain's named crash points) is a feature build of the same
# debug binary, copied aside; cargo keeps both builds' artifacts, so switching costs a link.
SILO_FAULTS := $(CARGO_TARGET_DIR)/debug/silo-faults
test-faults: ## kill -9 silo at every point of every upload flow (real clients), restart, check no partial image, no corrupt blob, sweep, retry (SQLite; PostgreSQL; S3)
	cargo build -p server --features fault-injection
	cp $(SILO_DEBUG) $(SILO_FAULTS)
	cargo build -p server
	end2end/run-faults.sh $(SILO_FAULTS)
	FAULTS_STORE=s3 FAULTS_FLOWS="lib-single oras" FAULTS_PORT=19360 end2end/run-faults.sh $(SILO_FAULTS)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
		db=silo_e2e_$$RANDOM$$RANDOM; psql "$(SILO_TEST_POSTGRES_URL)" -qc "create database $$db" && \
		SILO_DATABASE_URL=$(dir $(SILO_TEST_POSTGRES_URL))$$db FAULTS_FLOWS="lib-multipart browser" FAULTS_PORT=19370 end2end/run-faults.sh $(SILO_FAULTS); \
	elif [ "$$CI" = true ]; then exit 1; fi

FUZZ_SECONDS ?= 60
FUZZ_TARGETS = sif names digests range content_range sregistry_auth oci_manifest json_body
FUZZ_TARGET_DIR ?= $(HOME)/.cache/silo-fuzz-target
fuzz: ## run every cargo-fuzz target (docs/FUZZING.md) for FUZZ_SECONDS each (default 60; not part of make test)
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd domain/fuzz && for target in $(FUZZ_TARGETS); do \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --debug-assertions \
			--target-dir $(FUZZ_TARGET_DIR) $$target corpus/$$target \
			$$([ $$target = sif ] && echo ../tests/fixtures) -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 || exit 1; \
	done

bench: spa ## benchmarks: 1 GiB push/pull memory, web interface at 10,000 containers (docs/BENCHMARKS.md)
	bench/transfer-memory.sh
	cargo build -q --release -p server
	bench/spa.sh 10000

bench-transfers: ## transfer and API throughput vs nginx and distribution, peak RSS, start-up (bench/transfers.sh; not in make test)
	bench/transfers.sh
