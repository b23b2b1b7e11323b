// Offline build against Debian's Go packages only, exactly like ../libclient/go.mod (every
// dependency replaced by its Debian copy; the go.mod Debian lacks for blang/semver comes
// through gomod-overlay.json, which points at ../libclient/gomod-shims). Build from this
// directory with:
//
//	GOFLAGS="-mod=readonly -overlay=$PWD/gomod-overlay.json" GOPROXY=off GOSUMDB=off go build -o silo-load .
module silo.local/end2end/load

go 1.19

require (
	github.com/apptainer/container-library-client v1.2.2
	github.com/sylabs/sif/v2 v2.8.3
)

require (
	github.com/blang/semver/v4 v4.0.0
	github.com/go-log/log v0.2.0 // indirect
	github.com/google/uuid v1.3.0 // indirect
	github.com/sylabs/json-resp v0.8.0 // indirect
	golang.org/x/sync v0.0.0-20200317015054-43a5402ce75a // indirect
)

replace (
	github.com/apptainer/container-library-client => /usr/share/gocode/src/github.com/apptainer/container-library-client
	github.com/blang/semver/v4 => /usr/share/gocode/src/github.com/blang/semver/v4
	github.com/go-log/log => /usr/share/gocode/src/github.com/go-log/log
	github.com/google/uuid => /usr/share/gocode/src/github.com/google/uuid
	github.com/sylabs/json-resp => /usr/share/gocode/src/github.com/sylabs/json-resp
	github.com/sylabs/sif/v2 => /usr/share/gocode/src/github.com/sylabs/sif
	golang.org/x/sync => /usr/share/gocode/src/golang.org/x/sync
)
