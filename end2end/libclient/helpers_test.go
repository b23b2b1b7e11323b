package libclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptainer/container-library-client/client"
	"github.com/sylabs/sif/v2/pkg/sif"
)

const (
	// wantArch is the architecture the SIF fixture must carry and that all
	// pushes/pulls use.
	wantArch = "amd64"
	// clientMultipartThreshold is the library's minimumPartSize: files larger
	// than this are pushed with the v2 multipart flow (client/push.go).
	clientMultipartThreshold = 64 * 1024 * 1024
	// modeStream and modeRedirect are the values of SILO_DOWNLOAD_MODE.
	modeStream   = "stream"
	modeRedirect = "redirect"
	// opTimeout bounds a single library call (large pushes included).
	opTimeout = 10 * time.Minute
	// userAgent is sent on every library request.
	userAgent = "silo-e2e-libclient/1 (container-library-client 1.2.2; Linux amd64) Go/1.19"
)

// ---------------------------------------------------------------------------
// Environment

type env struct {
	URL        string
	Token      string
	User       string
	SIF        string
	OtherToken string
	OtherUser  string
	Collection string
	AnonPull   bool
	// SIFArm64 is a second SIF whose primary partition is arm64
	// (SILO_SIF_ARM64); only TestArchTags_TwoArchesOneTag needs it.
	SIFArm64 string
	// DownloadMode is what GET /v1/imagefile must answer: "stream" (200),
	// "redirect" (303 to a ranged capability URL) or "" (either, checked
	// for what it is).
	DownloadMode string
	// PartSizeMiB is the multipart part size the server must hand out
	// (SILO_MULTIPART_PART_MIB); 0 = not checked.
	PartSizeMiB int64
	// Store is "s3" when Silo keeps bytes in an S3 store (SILO_STORE): part
	// URLs and download redirects then point at the store, which answers
	// refusals in its own (XML) format.
	Store string
}

// onS3 tells whether the part and download URLs lead to the object store.
func (e env) onS3() bool { return e.Store == "s3" }

// requirePartRefused checks that a part PUT was refused: by Silo with 422 and
// its error envelope, or, when parts go straight to an S3 store, with the
// store's own 4xx.
func requirePartRefused(t *testing.T, e env, r rawResponse, what string) {
	t.Helper()
	if !e.onS3() {
		r.requireError(t, what, 422)
		return
	}
	if r.Status < 400 || r.Status > 499 {
		t.Errorf("%s: the store answered %d, want a 4xx refusal: %s", what, r.Status, truncate(string(r.Body), 300))
	}
}

// loadEnv reads the SILO_* variables and fails the test (never skips) when a
// required one is missing.
func loadEnv(t *testing.T) env {
	t.Helper()
	e := env{
		URL:          strings.TrimRight(os.Getenv("SILO_URL"), "/"),
		Token:        strings.TrimSpace(os.Getenv("SILO_TOKEN")),
		User:         os.Getenv("SILO_USER"),
		SIF:          os.Getenv("SILO_SIF"),
		OtherToken:   strings.TrimSpace(os.Getenv("SILO_OTHER_TOKEN")),
		OtherUser:    os.Getenv("SILO_OTHER_USER"),
		Collection:   os.Getenv("SILO_COLLECTION"),
		AnonPull:     os.Getenv("SILO_ANON_PULL") != "0",
		SIFArm64:     os.Getenv("SILO_SIF_ARM64"),
		DownloadMode: os.Getenv("SILO_DOWNLOAD_MODE"),
		Store:        os.Getenv("SILO_STORE"),
	}
	switch e.DownloadMode {
	case "", modeStream, modeRedirect:
	default:
		t.Fatalf("SILO_DOWNLOAD_MODE=%q: want %q, %q or unset", e.DownloadMode, modeStream, modeRedirect)
	}
	if v := os.Getenv("SILO_MULTIPART_PART_MIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 5 {
			t.Fatalf("SILO_MULTIPART_PART_MIB=%q: want a number >= 5", v)
		}
		e.PartSizeMiB = n
	}
	if e.Collection == "" {
		e.Collection = "e2e"
	}
	var missing []string
	for _, kv := range []struct{ k, v string }{
		{"SILO_URL", e.URL}, {"SILO_TOKEN", e.Token}, {"SILO_USER", e.User}, {"SILO_SIF", e.SIF},
	} {
		if kv.v == "" {
			missing = append(missing, kv.k)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("required environment variable(s) not set: %s. "+
			"These tests need a running Silo server: use end2end/run-libclient.sh, or export "+
			"SILO_URL (e.g. http://127.0.0.1:18080), SILO_TOKEN, SILO_USER and SILO_SIF yourself.",
			strings.Join(missing, ", "))
	}
	if !client.IsRefPart(e.User) || !client.IsRefPart(e.Collection) {
		t.Fatalf("SILO_USER %q / SILO_COLLECTION %q are not valid library name parts", e.User, e.Collection)
	}
	return e
}

// ---------------------------------------------------------------------------
// SIF fixture

type sifFixture struct {
	Path   string
	Data   []byte
	Size   int64
	SHA256 string // hex
	Hash   string // "sha256.<hex>", the library image hash
	Arch   string // sif.PrimaryArch(), as `apptainer push` computes it
}

var (
	fixtureMu    sync.Mutex
	fixtureCache = map[string]*sifFixture{}
)

// loadSIF reads a SIF file, hashes it and determines its primary architecture
// with the SIF library, exactly like `apptainer push` does
// (sif.LoadContainerFromPath + PrimaryArch).
func loadSIF(t *testing.T, path string) *sifFixture {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if f, ok := fixtureCache[path]; ok {
		return f
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading SIF %s: %v", path, err)
	}
	fi, err := sif.LoadContainerFromPath(path, sif.OptLoadWithFlag(os.O_RDONLY))
	if err != nil {
		t.Fatalf("%s is not a SIF file readable by the sif library: %v", path, err)
	}
	arch := fi.PrimaryArch()
	if err := fi.UnloadContainer(); err != nil {
		t.Fatalf("unloading SIF %s: %v", path, err)
	}
	sum := sha256.Sum256(data)
	f := &sifFixture{
		Path:   path,
		Data:   data,
		Size:   int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]),
		Arch:   arch,
	}
	f.Hash = "sha256." + f.SHA256
	fixtureCache[path] = f
	return f
}

// makeVariantSIF writes a new, small, valid SIF (random primary system
// partition, amd64) with the sif library, so its hash differs from the
// fixture.
func makeVariantSIF(t *testing.T, kib int) *sifFixture {
	t.Helper()
	payload := make([]byte, kib*1024)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	di, err := sif.NewDescriptorInput(sif.DataPartition, bytes.NewReader(payload),
		sif.OptPartitionMetadata(sif.FsSquash, sif.PartPrimSys, wantArch))
	if err != nil {
		t.Fatalf("sif.NewDescriptorInput: %v", err)
	}
	p := filepath.Join(t.TempDir(), "variant.sif")
	fi, err := sif.CreateContainerAtPath(p, sif.OptCreateWithDescriptors(di))
	if err != nil {
		t.Fatalf("sif.CreateContainerAtPath: %v", err)
	}
	if err := fi.UnloadContainer(); err != nil {
		t.Fatal(err)
	}
	return loadSIF(t, p)
}

// ---------------------------------------------------------------------------
// Names

var nameSeq uint64

// uniqueName returns a fresh, valid library name part such as
// "libclient-lq0c3x2k1-1".
func uniqueName(prefix string) string {
	n := atomic.AddUint64(&nameSeq, 1)
	return fmt.Sprintf("%s-%s-%d", prefix, strconv.FormatInt(time.Now().UnixNano(), 36), n)
}

// ---------------------------------------------------------------------------
// Recording HTTP transport
//
// The library uses its Config.HTTPClient for API calls, but http.DefaultClient
// (i.e. http.DefaultTransport) for the PUT to the upload URL, the multipart
// part PUTs and the ranged GETs of ConcurrentDownloadImage, and a private
// http.Client (again http.DefaultTransport) for the first request of
// ConcurrentDownloadImage. So the recorder is installed both as the client's
// transport and as http.DefaultTransport: every request the library makes is
// seen exactly once.

type exchange struct {
	Method       string
	URL          string // without query
	Path         string
	Query        string
	Auth         string // Authorization header as sent (redacted)
	Range        string // Range request header
	AmzSHA256    string // x-amz-content-sha256 request header
	ReqBytes     int64  // request Content-Length (-1 = unknown)
	ReqBody      string // replayable (JSON) bodies up to maxRecordedBody only
	Status       int
	Location     string
	ContentRange string
	ETag         string
	RespBody     string // JSON and error bodies up to maxRecordedBody only
	Err          string
}

// maxRecordedBody bounds the request and response bodies kept per exchange
// (a multipart complete body lists every part: ~60 bytes each).
const maxRecordedBody = 64 * 1024

func (e exchange) String() string {
	s := fmt.Sprintf("%s %s", e.Method, e.Path)
	if e.Query != "" {
		s += "?" + e.Query
	}
	if e.Err != "" {
		s += " -> error: " + e.Err
	} else {
		s += fmt.Sprintf(" -> %d", e.Status)
	}
	if e.Auth != "" {
		s += " [auth " + e.Auth + "]"
	} else {
		s += " [no auth]"
	}
	if e.Range != "" {
		s += " Range=" + e.Range
	}
	if e.ReqBytes > 0 {
		s += fmt.Sprintf(" [%d bytes sent]", e.ReqBytes)
	}
	if e.ReqBody != "" {
		s += " body=" + truncate(e.ReqBody, 300)
	}
	if e.Location != "" {
		s += " Location=" + e.Location
	}
	if e.ContentRange != "" {
		s += " Content-Range=" + e.ContentRange
	}
	if e.Status >= 400 && e.RespBody != "" {
		s += " response=" + truncate(e.RespBody, 300)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchange{
		Method:    req.Method,
		Path:      req.URL.EscapedPath(),
		Query:     req.URL.RawQuery,
		Range:     req.Header.Get("Range"),
		AmzSHA256: req.Header.Get("x-amz-content-sha256"),
		ReqBytes:  req.ContentLength,
	}
	u := *req.URL
	u.RawQuery = ""
	ex.URL = u.String()
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		ex.Auth = scheme + " <redacted>"
	}
	if req.GetBody != nil && req.ContentLength > 0 && req.ContentLength <= maxRecordedBody {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			ex.ReqBody = string(b)
		}
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		ex.Err = err.Error()
	} else {
		ex.Status = resp.StatusCode
		ex.Location = resp.Header.Get("Location")
		ex.ContentRange = resp.Header.Get("Content-Range")
		ex.ETag = resp.Header.Get("ETag")
		// Keep JSON and error bodies (never image bytes): read a bounded
		// prefix and hand the caller an identical body.
		if strings.Contains(resp.Header.Get("Content-Type"), "json") || resp.StatusCode >= 400 {
			head, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
			ex.RespBody = string(head)
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), errReader{rerr}, resp.Body), resp.Body}
		}
	}
	r.mu.Lock()
	r.log = append(r.log, ex)
	r.mu.Unlock()
	return resp, err
}

// errReader replays a read error met while recording a body (nil: EOF, so
// the MultiReader moves on to the rest of the body).
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// mark returns a position to pass to since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

// since returns the exchanges recorded after mark m.
func (r *recorder) since(m int) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log[m:]...)
}

var rec = &recorder{base: http.DefaultTransport}

func init() {
	http.DefaultTransport = rec
}

func formatExchanges(exs []exchange, max int) string {
	var b strings.Builder
	for i, e := range exs {
		if max > 0 && i >= max {
			fmt.Fprintf(&b, "\n    ... %d more", len(exs)-max)
			break
		}
		fmt.Fprintf(&b, "\n    %2d. %s", i+1, e)
	}
	return b.String()
}

func bytesSent(exs []exchange) int64 {
	var n int64
	for _, e := range exs {
		if e.ReqBytes > 0 {
			n += e.ReqBytes
		}
	}
	return n
}

// ---------------------------------------------------------------------------
// Library client construction

// tLogger implements the go-log Logger interface that client.Config.Logger
// wants; it forwards the library's own log lines to the test log and keeps
// them for assertions.
type tLogger struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (l *tLogger) Log(v ...interface{})                 { l.add(fmt.Sprint(v...)) }
func (l *tLogger) Logf(format string, v ...interface{}) { l.add(fmt.Sprintf(format, v...)) }

func (l *tLogger) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	l.t.Log("library: " + s)
}

func (l *tLogger) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *tLogger) saidSince(m int, substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines[m:] {
		if strings.Contains(s, substr) {
			return true
		}
	}
	return false
}

// newClient builds a library client exactly as Apptainer does (BaseURL,
// AuthToken, UserAgent, HTTPClient, Logger); token "" means anonymous.
func newClient(t *testing.T, baseURL, token string) (*client.Client, *tLogger) {
	t.Helper()
	lg := &tLogger{t: t}
	c, err := client.NewClient(&client.Config{
		BaseURL:    baseURL,
		AuthToken:  token,
		UserAgent:  userAgent,
		HTTPClient: &http.Client{Transport: rec},
		Logger:     lg,
	})
	if err != nil {
		t.Fatalf("client.NewClient(%q): %v", baseURL, err)
	}
	return c, lg
}

func opCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

// push runs client.UploadImage for the fixture. path is "entity/collection/
// container" WITHOUT tags: UploadImage rejects a path carrying tags; tags are
// passed separately.
func push(t *testing.T, c *client.Client, f *sifFixture, path string, tags []string) (*client.UploadImageComplete, error) {
	t.Helper()
	fh, err := os.Open(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	return c.UploadImage(opCtx(t), fh, path, f.Arch, tags, "silo libclient e2e", nil)
}

// ---------------------------------------------------------------------------
// Assertions

func requireNotFound(t *testing.T, c *client.Client, ref string) {
	t.Helper()
	img, err := c.GetImage(opCtx(t), wantArch, ref)
	if err == nil {
		t.Errorf("GetImage(%q) = image id=%q hash=%q uploaded=%v, want client.ErrNotFound", ref, img.ID, img.Hash, img.Uploaded)
		return
	}
	if !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetImage(%q) error = %v, want client.ErrNotFound (HTTP 404)", ref, err)
	}
}

func checkImage(t *testing.T, what string, img *client.Image, f *sifFixture) {
	t.Helper()
	if img == nil {
		t.Fatalf("%s: nil image", what)
	}
	if img.ID == "" {
		t.Errorf("%s: image id is empty", what)
	}
	if img.Hash != f.Hash {
		t.Errorf("%s: hash = %q, want %q", what, img.Hash, f.Hash)
	}
	if img.Size != f.Size {
		t.Errorf("%s: size = %d, want %d", what, img.Size, f.Size)
	}
	if !img.Uploaded {
		t.Errorf("%s: uploaded = false, want true (else every push re-uploads)", what)
	}
	if img.Architecture != nil && *img.Architecture != f.Arch {
		t.Errorf("%s: arch = %q, want %q", what, *img.Architecture, f.Arch)
	}
	t.Logf("%s: id=%s hash=%s size=%d uploaded=%v arch=%s container=%s tags=%v",
		what, img.ID, img.Hash, img.Size, img.Uploaded, strOrNil(img.Architecture), img.Container, img.Tags)
}

func strOrNil(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func compareBytes(t *testing.T, what string, got []byte, f *sifFixture) {
	t.Helper()
	sum := sha256.Sum256(got)
	gotHex := hex.EncodeToString(sum[:])
	if int64(len(got)) != f.Size {
		t.Errorf("%s: got %d bytes, want %d (sha256 %s, want %s)", what, len(got), f.Size, gotHex, f.SHA256)
		return
	}
	if !bytes.Equal(got, f.Data) {
		off := 0
		for off < len(got) && got[off] == f.Data[off] {
			off++
		}
		t.Errorf("%s: content differs from the pushed SIF at byte %d (sha256 %s, want %s)", what, off, gotHex, f.SHA256)
		return
	}
	if gotHex != f.SHA256 {
		t.Errorf("%s: sha256 %s, want %s", what, gotHex, f.SHA256)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// uploadRequest says why an exchange counts as sending image bytes, or "".
func uploadRequest(e exchange, uploadURLs map[string]bool) string {
	switch {
	case strings.Contains(e.Path, "/imagefile/") && (e.Method == http.MethodPost || e.Method == http.MethodPut):
		return "request to an imagefile upload endpoint"
	case uploadURLs[e.URL]:
		return "request to the upload URL handed out during the first push"
	case e.Method == http.MethodPut:
		return "unexpected PUT (a re-push only reads and sets tags)"
	case e.ReqBytes > 64*1024:
		return "large request body"
	}
	return ""
}
