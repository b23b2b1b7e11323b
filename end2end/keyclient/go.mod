// Apptainer's key client (the code behind `apptainer key push|pull|search` and the key
// lookups of signature verification) against Silo's keyserver. Offline build against
// Debian's Go packages only: every dependency is replaced by its copy in
// /usr/share/gocode/src. Run by ../run-keyserver.sh.
//
// Debian packages: golang-go golang-github-apptainer-container-key-client-dev
module silo.local/end2end/keyclient

go 1.19

require github.com/apptainer/container-key-client v0.7.2

require github.com/sylabs/json-resp v0.8.0 // indirect

replace (
	github.com/apptainer/container-key-client => /usr/share/gocode/src/github.com/apptainer/container-key-client
	github.com/sylabs/json-resp => /usr/share/gocode/src/github.com/sylabs/json-resp
)
