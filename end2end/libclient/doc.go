// Package libclient is a compatibility test of Silo's library:// API.
//
// The tests drive a running Silo server with Apptainer's real Go library
// client (github.com/apptainer/container-library-client/client), taken from
// Debian's golang-github-apptainer-container-library-client-dev package, and
// read the test SIF with the real SIF library (Debian's
// golang-github-sylabs-sif-dev), the way `apptainer push` derives the image
// architecture.
//
// Everything is built offline from /usr/share/gocode (see go.mod and
// gomod-overlay.json). Run it through end2end/run-libclient.sh, which builds
// a SIF with siftool, starts Silo, creates two users and tokens, and sets the
// environment:
//
//	SILO_URL          base URL of the server, e.g. http://127.0.0.1:18080 (required)
//	SILO_TOKEN        push token of SILO_USER (required)
//	SILO_USER         user name = library entity that SILO_TOKEN may push to (required)
//	SILO_SIF          path of a real SIF file with an amd64 primary partition (required)
//	SILO_OTHER_TOKEN  token of a second, non-admin user (optional)
//	SILO_OTHER_USER   name of that second user (optional; enables a positive control)
//	SILO_COLLECTION   collection to push into (default "e2e")
//	SILO_ANON_PULL    "1" (default): anonymous reads of the pushed image must work;
//	                  "0": they must be refused
//	SILO_SIF_ARM64    path of a second SIF whose primary partition is arm64
//	                  (required by TestArchTags_TwoArchesOneTag only)
//	SILO_DOWNLOAD_MODE  "stream": GET /v1/imagefile must answer 200;
//	                  "redirect": it must answer 303 to a capability URL that
//	                  serves exact 206 ranges; unset: either, checked as it comes
//	SILO_MULTIPART_PART_MIB  the part size (MiB) the server must announce for
//	                  multipart uploads (optional; its
//	                  SILO_LIBRARY__MULTIPART_PART_SIZE_MIB)
//	SILO_STORE        "s3" when Silo stores bytes in an S3 store with direct
//	                  part uploads and download redirects (part PUTs and
//	                  download URLs then go to the store); unset: Silo's own
//
// If a required variable is missing every test fails; none is skipped.
package libclient
