# Sourced by the end2end scripts that keep image bytes in an S3 store: starts a real s3s-fs
# (crates.io; scripts/setup.sh --test installs it) on loopback with a fresh bucket.
#
#   start_s3_store DIR PORT    sets s3_pid (kill it when done) and s3_env, the SILO_STORAGE__*
#                              settings that point Silo at the bucket "silo" in DIR
start_s3_store() {
	local dir=$1 port=$2 s3s secret
	s3s=$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")
	[[ -x $s3s ]] || { echo "s3s-fs not found (scripts/setup.sh --test installs it)" >&2; return 1; }
	mkdir -p "$dir/silo"
	secret=secret-$RANDOM$RANDOM
	"$s3s" --host 127.0.0.1 --port "$port" --access-key silo-e2e --secret-key "$secret" "$dir" \
		>"$dir.log" 2>&1 &
	s3_pid=$!
	local tries=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
		((++tries < 100)) || { echo "s3s-fs did not start on port $port: $(cat "$dir.log")" >&2; return 1; }
		sleep 0.1
	done
	s3_env=(SILO_STORAGE__BACKEND=s3 SILO_STORAGE__S3__ENDPOINT="http://127.0.0.1:$port"
		SILO_STORAGE__S3__BUCKET=silo SILO_STORAGE__S3__ACCESS_KEY=silo-e2e
		SILO_STORAGE__S3__SECRET_KEY="$secret")
}
