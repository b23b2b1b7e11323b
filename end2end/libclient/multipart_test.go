package libclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apptainer/container-library-client/client"
)

// Failed multipart uploads must leave nothing visible: the image stays
// uploaded:false, its imagefile is not found, and a later correct upload of
// the same image works. The library's multipart functions are unexported in
// container-library-client 1.2.2 (postFileV2Multipart, multipartUploadPart,
// completeMultipartUpload, abortMultipartUpload), and it never sends wrong
// bytes on its own, so:
//   - TestMultipart_CorruptPart_LibraryAborts makes the real library send a
//     corrupted part (through its UploadCallback reader) and lets it abort;
//   - the other two send the library's exact request bodies (its exported
//     request/response types) over net/http to inject the faults.

// ---------------------------------------------------------------------------
// Setup helpers

// multipartContainer pushes a small SIF with the library into a fresh
// container (creating entity, collection and container the library's way)
// and returns the container's path and id.
func multipartContainer(t *testing.T, e env, c *client.Client, prefix string) (path, containerID string) {
	t.Helper()
	seed := makeVariantSIF(t, 64)
	path = e.User + "/" + e.Collection + "/" + uniqueName(prefix)
	if _, err := push(t, c, seed, path, []string{"seed"}); err != nil {
		t.Fatalf("setup: UploadImage(%s): %v", path, err)
	}
	img, err := c.GetImage(opCtx(t), seed.Arch, path+":seed")
	if err != nil {
		t.Fatalf("setup: GetImage(%s:seed): %v", path, err)
	}
	if img.Container == "" {
		t.Fatalf("setup: GetImage(%s:seed) has no container id", path)
	}
	return path, img.Container
}

// createImageRecord registers f in the container the way the library's
// (unexported) createImage does: POST v1/images with a marshalled
// client.Image. The new image must say uploaded:false.
func createImageRecord(t *testing.T, e env, containerID string, f *sifFixture) string {
	t.Helper()
	var img client.Image
	rawJSON(t, e, http.MethodPost, "v1/images", e.Token,
		client.Image{Hash: f.Hash, Container: containerID, Description: "silo libclient e2e fault injection"}).
		data(t, "POST v1/images", &img)
	if img.ID == "" || img.Uploaded {
		t.Fatalf("POST v1/images answered id=%q uploaded=%v, want an id and uploaded=false", img.ID, img.Uploaded)
	}
	return img.ID
}

func startMultipart(t *testing.T, e env, imageID string, size int64) client.MultipartUpload {
	t.Helper()
	var mu client.MultipartUpload
	rawJSON(t, e, http.MethodPost, "v2/imagefile/"+imageID+"/_multipart", e.Token,
		client.MultipartUploadStartRequest{Size: size}).data(t, "POST .../_multipart", &mu)
	if want := int((size + mu.PartSize - 1) / max64(mu.PartSize, 1)); mu.UploadID == "" || mu.PartSize <= 0 || mu.TotalParts != want {
		t.Fatalf("multipart start for %d bytes: uploadID=%q partSize=%d totalParts=%d (want ceil = %d)", size, mu.UploadID, mu.PartSize, mu.TotalParts, want)
	}
	t.Logf("multipart upload %s: %d parts of %d bytes", mu.UploadID, mu.TotalParts, mu.PartSize)
	return mu
}

// partURL asks for part n's presigned URL, announcing sha (may be "").
func partURL(t *testing.T, e env, imageID string, mu client.MultipartUpload, n int, size int64, sha string) string {
	t.Helper()
	var part client.UploadImagePart
	partRequest(t, e, imageID, mu, n, size, sha).data(t, fmt.Sprintf("PUT .../_multipart (part %d)", n), &part)
	if part.PresignedURL == "" {
		t.Fatalf("part %d: empty presignedURL", n)
	}
	return part.PresignedURL
}

func partRequest(t *testing.T, e env, imageID string, mu client.MultipartUpload, n int, size int64, sha string) rawResponse {
	t.Helper()
	return rawJSON(t, e, http.MethodPut, "v2/imagefile/"+imageID+"/_multipart", e.Token,
		client.UploadImagePartRequest{PartSize: size, UploadID: mu.UploadID, PartNumber: n, SHA256Checksum: sha})
}

// putPart sends part bytes like the library does: no Authorization,
// Content-Length, x-amz-content-sha256 = announced (if not "").
func putPart(t *testing.T, e env, presignedURL string, data []byte, announced string) rawResponse {
	t.Helper()
	h := map[string]string{}
	if announced != "" {
		h["x-amz-content-sha256"] = announced
	}
	return raw(t, e, http.MethodPut, presignedURL, "", bytes.NewReader(data), h)
}

// partOf returns part n (1-based) of f for part size ps.
func partOf(f *sifFixture, n int, ps int64) []byte {
	off := int64(n-1) * ps
	return f.Data[off:min64(off+ps, f.Size)]
}

// multipartFixtureKiB is the payload size of the fault-injection SIFs: one
// MiB over the server's part size, so they take two parts.
func multipartFixtureKiB(e env) int {
	mib := e.PartSizeMiB
	if mib == 0 {
		mib = 64 // the server's default
	}
	return int(mib+1) * 1024
}

// requireNothingVisible checks that f's image (registered but never
// completed) says uploaded:false by hash, has no imagefile, and carries no tag.
func requireNothingVisible(t *testing.T, e env, c *client.Client, f *sifFixture, path, imageID string) {
	t.Helper()
	ref := path + ":" + f.Hash
	img, err := c.GetImage(opCtx(t), f.Arch, ref)
	switch {
	case errors.Is(err, client.ErrNotFound):
		t.Logf("GetImage(%s) -> not found", ref)
	case err != nil:
		t.Errorf("GetImage(%s): %v", ref, err)
	default:
		if img.Uploaded {
			t.Errorf("GetImage(%s) says uploaded=true (size %d) after a failed upload", ref, img.Size)
		}
		if imageID != "" && img.ID != imageID {
			t.Errorf("GetImage(%s) = image %s, want %s", ref, img.ID, imageID)
		}
		t.Logf("GetImage(%s) -> id=%s uploaded=%v size=%d", ref, img.ID, img.Uploaded, img.Size)
	}
	for _, tag := range []string{f.Hash, "v1"} {
		m := rec.mark()
		fh, err := os.Create(filepath.Join(t.TempDir(), "none.sif"))
		if err != nil {
			t.Fatal(err)
		}
		derr := c.DownloadImage(opCtx(t), fh, f.Arch, path, tag, nil)
		fh.Close()
		if derr == nil || !strings.Contains(derr.Error(), "not found") {
			t.Errorf("DownloadImage(%s:%s) after a failed upload: err = %v, want \"requested image was not found\"", path, tag, derr)
		}
		for _, ex := range rec.since(m) {
			if strings.Contains(ex.Path, "/v1/imagefile/") && ex.Status != 404 {
				t.Errorf("GET /v1/imagefile of an image never completed answered %d, want 404: %s", ex.Status, ex)
			}
		}
	}
	if _, err := c.GetImage(opCtx(t), f.Arch, path+":v1"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetImage(%s:v1) = %v, want client.ErrNotFound (no tag may be set by a failed upload)", path, err)
	}
}

// uploadAfterFailure pushes f with the library into path (its image record
// may exist with uploaded:false) and checks it arrives whole.
func uploadAfterFailure(t *testing.T, e env, c *client.Client, f *sifFixture, path string) {
	t.Helper()
	m := rec.mark()
	if _, err := push(t, c, f, path, []string{"v1"}); err != nil {
		t.Fatalf("UploadImage(%s) after the failed upload: %v", path, err)
	}
	exs := rec.since(m)
	checkUploadFlow(t, e, exs, f)
	got, err := c.GetImage(opCtx(t), f.Arch, path+":v1")
	if err != nil {
		t.Fatalf("GetImage(%s:v1): %v", path, err)
	}
	checkImage(t, "GetImage(:v1) after the re-upload", got, f)
	pullAndCompare(t, e, c, f, f.Arch, path, "v1", nil)
}

// ---------------------------------------------------------------------------
// Tests

// TestMultipart_PartHashMismatch_Abort: part 1 arrives fine, the last part's
// bytes do not match the sha256 announced for it (in the part request and in
// x-amz-content-sha256) -> 422 with the error envelope; then the upload is
// aborted: its part URLs and upload ID are dead, and nothing is visible.
func TestMultipart_PartHashMismatch_Abort(t *testing.T) {
	e := loadEnv(t)
	c, _ := newClient(t, e.URL, e.Token)
	path, cid := multipartContainer(t, e, c, "libclient-mpabort")
	f := makeVariantSIF(t, multipartFixtureKiB(e))
	id := createImageRecord(t, e, cid, f)
	mu := startMultipart(t, e, id, f.Size)
	if mu.TotalParts < 2 {
		t.Fatalf("want >= 2 parts for a %d-byte file, got %d", f.Size, mu.TotalParts)
	}

	var firstURL string
	for n := 1; n < mu.TotalParts; n++ {
		part := partOf(f, n, mu.PartSize)
		u := partURL(t, e, id, mu, n, int64(len(part)), sha256Hex(part))
		if n == 1 {
			firstURL = u
		}
		r := putPart(t, e, u, part, sha256Hex(part))
		if r.Status != 200 || r.Header.Get("ETag") == "" {
			t.Fatalf("part %d: PUT answered %d (ETag %q), want 200 with an ETag: %s", n, r.Status, r.Header.Get("ETag"), r.Body)
		}
	}

	last := mu.TotalParts
	good := partOf(f, last, mu.PartSize)
	bad := append([]byte(nil), good...)
	for i := 0; i < len(bad); i += 4096 {
		bad[i] ^= 0x5a
	}
	u := partURL(t, e, id, mu, last, int64(len(good)), sha256Hex(good))
	requirePartRefused(t, e, putPart(t, e, u, bad, sha256Hex(good)), fmt.Sprintf("PUT part %d with bytes not matching its announced sha256", last))

	rawJSON(t, e, http.MethodPut, "v2/imagefile/"+id+"/_multipart_abort", e.Token,
		client.AbortMultipartUploadRequest{UploadID: mu.UploadID}).data(t, "PUT .../_multipart_abort", nil)

	// The aborted upload is gone: its part URL, a new part request and a
	// complete all answer 404.
	// A one-byte body: the server refuses before reading, and a large body would race
	// with the connection closing (a broken pipe instead of the 404).
	if r := putPart(t, e, firstURL, []byte("x"), ""); r.Status != 404 && !(e.onS3() && r.Status == 403) {
		t.Errorf("PUT to part 1's URL after the abort answered %d, want 404: %s", r.Status, truncate(string(r.Body), 200))
	}
	partRequest(t, e, id, mu, 1, mu.PartSize, "").requireError(t, "part request for the aborted upload", 404)
	rawJSON(t, e, http.MethodPut, "v2/imagefile/"+id+"/_multipart_complete", e.Token,
		client.CompleteMultipartUploadRequest{UploadID: mu.UploadID, CompletedParts: []client.CompletedPart{{PartNumber: 1}}}).
		requireError(t, "_multipart_complete of the aborted upload", 404)

	requireNothingVisible(t, e, c, f, path, id)
	uploadAfterFailure(t, e, c, f, path)
}

// TestMultipart_CompleteWholeHashMismatch: every part is self-consistent but
// comes from another file of the same size, so only the whole-image check at
// _multipart_complete can catch it -> 422 with the error envelope; the image
// stays uploaded:false and the other file's hash does not appear either.
func TestMultipart_CompleteWholeHashMismatch(t *testing.T) {
	e := loadEnv(t)
	c, _ := newClient(t, e.URL, e.Token)
	path, cid := multipartContainer(t, e, c, "libclient-mpwrong")
	f := makeVariantSIF(t, multipartFixtureKiB(e))
	other := makeVariantSIF(t, multipartFixtureKiB(e))
	if other.Size != f.Size || other.Hash == f.Hash {
		t.Fatalf("want two different files of one size, got %d (%s) and %d (%s)", f.Size, f.Hash, other.Size, other.Hash)
	}
	id := createImageRecord(t, e, cid, f)
	mu := startMultipart(t, e, id, f.Size)

	var done client.CompleteMultipartUploadRequest
	done.UploadID = mu.UploadID
	for n := 1; n <= mu.TotalParts; n++ {
		part := partOf(other, n, mu.PartSize)
		u := partURL(t, e, id, mu, n, int64(len(part)), sha256Hex(part))
		r := putPart(t, e, u, part, sha256Hex(part))
		if r.Status != 200 {
			t.Fatalf("part %d (self-consistent) answered %d: %s", n, r.Status, r.Body)
		}
		done.CompletedParts = append(done.CompletedParts, client.CompletedPart{PartNumber: n, Token: r.Header.Get("ETag")})
	}
	rawJSON(t, e, http.MethodPut, "v2/imagefile/"+id+"/_multipart_complete", e.Token, done).
		requireError(t, "_multipart_complete of parts whose whole does not hash to the image", 422)
	if r := rawJSON(t, e, http.MethodPut, "v2/imagefile/"+id+"/_multipart_complete", e.Token, done); r.Status < 400 {
		t.Errorf("a second _multipart_complete of the refused upload answered %d: %s", r.Status, r.Body)
	}

	requireNothingVisible(t, e, c, f, path, id)
	if img, err := c.GetImage(opCtx(t), other.Arch, path+":"+other.Hash); err == nil {
		t.Errorf("the other file's hash %s became image %s (uploaded=%v) in %s", other.Hash, img.ID, img.Uploaded, path)
	} else if !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetImage(%s:%s): %v, want client.ErrNotFound", path, other.Hash, err)
	}
	uploadAfterFailure(t, e, c, f, path)
}

// corruptingUpload is an UploadCallback whose reader (the one the library
// sends part bodies from) flips one byte at offset At of the file: the
// library still announces each part's true sha256, as if the bytes had been
// damaged in transit.
type corruptingUpload struct {
	At  int64
	src io.ReadSeeker
}

func (u *corruptingUpload) InitUpload(_ int64, r io.Reader) { u.src = r.(io.ReadSeeker) }
func (u *corruptingUpload) GetReader() io.Reader            { return u }
func (u *corruptingUpload) Terminate()                      {}
func (u *corruptingUpload) Finish()                         {}

func (u *corruptingUpload) Read(p []byte) (int, error) {
	off, err := u.src.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	n, err := u.src.Read(p)
	if u.At >= off && u.At < off+int64(n) {
		p[u.At-off] ^= 0xff
	}
	return n, err
}

// TestMultipart_CorruptPart_LibraryAborts: the real library pushes a > 64 MiB
// SIF whose last part is corrupted on the way; the server refuses that part
// (422), the library aborts the upload itself (PUT .../_multipart_abort),
// UploadImage fails, nothing is visible; then a clean UploadImage of the
// same file goes through the multipart flow and pulls back byte-identical.
func TestMultipart_CorruptPart_LibraryAborts(t *testing.T) {
	e := loadEnv(t)
	c, lg := newClient(t, e.URL, e.Token)
	f := makeVariantSIF(t, (clientMultipartThreshold>>10)+1024)
	if f.Size <= clientMultipartThreshold {
		t.Fatalf("fixture of %d bytes is not above the library's 64 MiB multipart threshold", f.Size)
	}
	path := e.User + "/" + e.Collection + "/" + uniqueName("libclient-mpcorrupt")

	fh, err := os.Open(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	lm := lg.mark()
	m := rec.mark()
	_, err = c.UploadImage(opCtx(t), fh, path, f.Arch, []string{"v1"}, "silo libclient e2e corrupt part", &corruptingUpload{At: f.Size - 100})
	fh.Close()
	exs := rec.since(m)
	t.Logf("requests:%s", formatExchanges(exs, 40))
	if err == nil {
		t.Fatalf("UploadImage with a corrupted part succeeded")
	}
	t.Logf("UploadImage failed as expected: %v", err)

	var start, refused, aborted, completed, tagged []exchange
	for _, ex := range exs {
		switch {
		case ex.Method == http.MethodPost && strings.HasSuffix(ex.Path, "/_multipart"):
			start = append(start, ex)
		case ex.Method == http.MethodPut && (ex.Status == 422 || (e.onS3() && ex.Status >= 400 && ex.Status < 500)):
			refused = append(refused, ex)
		case strings.HasSuffix(ex.Path, "/_multipart_abort"):
			aborted = append(aborted, ex)
		case strings.HasSuffix(ex.Path, "/_multipart_complete"):
			completed = append(completed, ex)
		case ex.Method == http.MethodPost && strings.Contains(ex.Path, "/tags/"):
			tagged = append(tagged, ex)
		}
	}
	if len(start) != 1 || start[0].Status != 200 {
		t.Fatalf("want one POST .../_multipart answered 200:%s", formatExchanges(start, 3))
	}
	if len(refused) != 1 || refused[0].Auth != "" || (!e.onS3() && !strings.Contains(refused[0].RespBody, `"error"`)) {
		t.Errorf("want exactly one part PUT (no auth) refused with 422 and an error envelope, got:%s", formatExchanges(refused, 5))
	}
	if len(aborted) != 1 || aborted[0].Status != 200 {
		t.Errorf("want the library's PUT .../_multipart_abort answered 200, got:%s", formatExchanges(aborted, 3))
	}
	if len(completed)+len(tagged) > 0 {
		t.Errorf("after the refused part the library still completed or tagged:%s", formatExchanges(append(completed, tagged...), 5))
	}
	if !lg.saidSince(lm, "Aborting multipart upload ID") {
		t.Errorf("the library did not log \"Aborting multipart upload ID\"")
	}

	requireNothingVisible(t, e, c, f, path, "")
	uploadAfterFailure(t, e, c, f, path)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
