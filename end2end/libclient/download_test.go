package libclient

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apptainer/container-library-client/client"
)

// TestDownloads_PartSizes pulls one image with DownloadImage and with
// ConcurrentDownloadImage at several part sizes and concurrencies (parts not
// aligned to anything, a single part, Apptainer's defaults). Against a
// redirect-mode server every variant goes 303 -> probe -> exact 206 ranges;
// against a stream-mode server every variant is a single 200 stream. The
// file must be byte-identical each time.
func TestDownloads_PartSizes(t *testing.T) {
	e := loadEnv(t)
	f := loadSIF(t, e.SIF)
	c, _ := newClient(t, e.URL, e.Token)
	path := e.User + "/" + e.Collection + "/" + uniqueName("libclient-dl")
	if _, err := push(t, c, f, path, []string{"v1"}); err != nil {
		t.Fatalf("UploadImage(%s): %v", path, err)
	}

	t.Run("DownloadImage", func(t *testing.T) { pullAndCompare(t, e, c, f, f.Arch, path, "v1", nil) })
	for _, spec := range []client.Downloader{
		apptainerDownloader,
		{Concurrency: 5, PartSize: 1<<20 + 7, BufferSize: 32 << 10},
		{Concurrency: 4, PartSize: 64<<10 + 1, BufferSize: 4 << 10},
		{Concurrency: 3, PartSize: f.Size, BufferSize: 32 << 10},
	} {
		spec := spec
		t.Run(fmt.Sprintf("Concurrent_%dx%d", spec.Concurrency, spec.PartSize), func(t *testing.T) {
			pullAndCompare(t, e, c, f, f.Arch, path, "v1", &spec)
		})
	}
	t.Run("Anonymous_Concurrent", func(t *testing.T) {
		if !e.AnonPull {
			t.Skip("SILO_ANON_PULL=0")
		}
		anon, _ := newClient(t, e.URL, "")
		pullAndCompare(t, e, anon, f, f.Arch, path, "v1", &apptainerDownloader)
	})

	// The 303 Location is a capability: it serves exact ranges and the
	// whole file with no credentials at all.
	t.Run("RedirectLocation_WithoutCredentials", func(t *testing.T) {
		r := raw(t, e, http.MethodGet, "v1/imagefile/"+path+":v1?arch="+f.Arch, e.Token, nil, nil)
		switch {
		case r.Status == 200:
			if e.DownloadMode == modeRedirect {
				t.Fatalf("download mode redirect, but GET /v1/imagefile answered 200")
			}
			compareBytes(t, "GET /v1/imagefile (stream)", r.Body, f)
			return
		case r.Status != 303:
			t.Fatalf("GET /v1/imagefile answered %d: %s", r.Status, truncate(string(r.Body), 200))
		}
		if e.DownloadMode == modeStream {
			t.Fatalf("download mode stream, but GET /v1/imagefile answered 303")
		}
		loc := r.Header.Get("Location")
		for _, span := range [][2]int64{{0, 0}, {100, 199}, {f.Size - 10, f.Size - 1}} {
			rr := raw(t, e, http.MethodGet, loc, "", nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", span[0], span[1])})
			want := fmt.Sprintf("bytes %d-%d/%d", span[0], span[1], f.Size)
			if rr.Status != 206 || rr.Header.Get("Content-Range") != want || !bytes.Equal(rr.Body, f.Data[span[0]:span[1]+1]) {
				t.Errorf("GET Location, Range bytes=%d-%d, no auth: %d Content-Range %q, %d bytes (want 206 %q and the exact bytes)",
					span[0], span[1], rr.Status, rr.Header.Get("Content-Range"), len(rr.Body), want)
			}
		}
		whole := raw(t, e, http.MethodGet, loc, "", nil, nil)
		if whole.Status != 200 {
			t.Fatalf("GET Location without Range and without auth answered %d", whole.Status)
		}
		compareBytes(t, "GET Location (no auth)", whole.Body, f)
		if !strings.HasPrefix(loc, e.URL+"/download/") {
			t.Logf("note: Location %s is not under SILO_URL %s", loc, e.URL)
		}
	})
}
