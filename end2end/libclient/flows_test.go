package libclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apptainer/container-library-client/client"
)

// Checks of the HTTP exchanges the real library made for one push or pull,
// read from the recorder: which upload flow it took, whether a multipart
// upload was complete and consistent, whether a 303 download used exact
// ranges.

// ---------------------------------------------------------------------------
// Upload flows

// uploadFlow summarises the image upload inside one UploadImage call.
type uploadFlow struct {
	Multipart  bool
	UploadID   string
	TotalParts int   // as the server announced it
	PartSize   int64 // as the server announced it
	PartPUTs   int   // PUTs of part bytes to presigned URLs
}

// checkUploadFlow asserts that the exchanges of one UploadImage of f went
// through the flow the library must pick against an apiVersion 2 server:
// the v2 multipart upload for files above 64 MiB (start, one part request
// and one part PUT per announced part, complete; no single-part fallback,
// no abort), the v2 single-part upload otherwise.
func checkUploadFlow(t *testing.T, e env, exs []exchange, f *sifFixture) uploadFlow {
	t.Helper()
	var starts, partReqs, completes, aborts, singleStarts, singleCompletes, legacy []exchange
	for _, ex := range exs {
		p := ex.Path
		switch {
		case ex.Method == http.MethodPost && strings.HasSuffix(p, "/_multipart"):
			starts = append(starts, ex)
		case ex.Method == http.MethodPut && strings.HasSuffix(p, "/_multipart"):
			partReqs = append(partReqs, ex)
		case ex.Method == http.MethodPut && strings.HasSuffix(p, "/_multipart_complete"):
			completes = append(completes, ex)
		case ex.Method == http.MethodPut && strings.HasSuffix(p, "/_multipart_abort"):
			aborts = append(aborts, ex)
		case ex.Method == http.MethodPut && strings.HasSuffix(p, "/_complete"):
			singleCompletes = append(singleCompletes, ex)
		case ex.Method == http.MethodPost && strings.Contains(p, "/v2/imagefile/"):
			singleStarts = append(singleStarts, ex)
		case ex.Method == http.MethodPost && strings.Contains(p, "/v1/imagefile/"):
			legacy = append(legacy, ex)
		}
	}
	if len(legacy) > 0 {
		t.Errorf("the library used the legacy v1 upload (POST /v1/imagefile): /version must report apiVersion >= %s: %s",
			client.APIVersionV2Upload, legacy[0])
	}
	if len(aborts) > 0 {
		t.Errorf("the library aborted a multipart upload: %s", aborts[0])
	}

	if f.Size <= clientMultipartThreshold {
		if len(starts)+len(partReqs)+len(completes) > 0 {
			t.Errorf("a %d-byte file (<= 64 MiB) went through _multipart; the library only does that above 64 MiB", f.Size)
		}
		if len(singleStarts) != 1 || len(singleCompletes) != 1 {
			t.Fatalf("want one POST v2/imagefile/{id} and one PUT .../_complete (v2 single-part upload), got %d and %d",
				len(singleStarts), len(singleCompletes))
		}
		var start client.UploadImageResponse
		if err := json.Unmarshal([]byte(singleStarts[0].RespBody), &start); err != nil || start.Data.UploadURL == "" {
			t.Fatalf("POST v2/imagefile/{id} answered %s (no uploadURL; %v)", singleStarts[0].RespBody, err)
		}
		puts := exchangesTo(exs, http.MethodPut, start.Data.UploadURL)
		if len(puts) != 1 || puts[0].Status != 200 || puts[0].ReqBytes != f.Size {
			t.Errorf("want exactly one PUT of %d bytes to the upload URL answered 200, got:%s", f.Size, formatExchanges(puts, 5))
		}
		return uploadFlow{PartPUTs: len(puts)}
	}

	// Above 64 MiB: the multipart flow, and nothing of the single-part one.
	if len(singleStarts) > 0 || len(singleCompletes) > 0 {
		t.Errorf("a %d-byte file (> 64 MiB) fell back to the single-part upload (%d POST v2/imagefile/{id}, %d PUT .../_complete): "+
			"POST .../_multipart must not answer 404", f.Size, len(singleStarts), len(singleCompletes))
	}
	if len(starts) != 1 {
		t.Fatalf("want exactly one POST v2/imagefile/{id}/_multipart, got %d:%s", len(starts), formatExchanges(starts, 5))
	}
	if starts[0].Status != 200 {
		t.Fatalf("POST .../_multipart answered %d: %s", starts[0].Status, starts[0])
	}
	if starts[0].ReqBody != fmt.Sprintf(`{"filesize":%d}`, f.Size) {
		t.Errorf("multipart start body = %s, want {\"filesize\":%d}", starts[0].ReqBody, f.Size)
	}
	var start client.MultipartUploadStartResponse
	if err := json.Unmarshal([]byte(starts[0].RespBody), &start); err != nil {
		t.Fatalf("POST .../_multipart answered %q: %v", starts[0].RespBody, err)
	}
	mu := start.Data
	flow := uploadFlow{Multipart: true, UploadID: mu.UploadID, TotalParts: mu.TotalParts, PartSize: mu.PartSize}
	t.Logf("server started multipart upload %s: totalParts=%d partSize=%d options=%v", mu.UploadID, mu.TotalParts, mu.PartSize, mu.Options)
	if mu.UploadID == "" || mu.PartSize <= 0 {
		t.Fatalf("multipart start answered uploadID=%q partSize=%d", mu.UploadID, mu.PartSize)
	}
	if want := int((f.Size + mu.PartSize - 1) / mu.PartSize); mu.TotalParts != want {
		t.Errorf("totalParts = %d, want ceil(%d / %d) = %d (the client trusts it blindly)", mu.TotalParts, f.Size, mu.PartSize, want)
	}
	if e.PartSizeMiB > 0 && mu.PartSize != e.PartSizeMiB<<20 {
		t.Errorf("partSize = %d, want %d (SILO_LIBRARY__MULTIPART_PART_SIZE_MIB=%d)", mu.PartSize, e.PartSizeMiB<<20, e.PartSizeMiB)
	}
	if v := mu.Options[client.OptionS3Compliant]; v != "true" {
		t.Errorf("options.s3compliant = %q, want \"true\" (per-part sha256 checks)", v)
	}
	if mu.TotalParts < 2 {
		t.Errorf("only %d part(s): set a smaller part size to exercise several", mu.TotalParts)
	}

	// One part request and one part PUT per part, in order, each part exactly
	// the bytes of f at its offset.
	if len(partReqs) != mu.TotalParts {
		t.Errorf("%d part requests (PUT .../_multipart), server announced totalParts=%d", len(partReqs), mu.TotalParts)
	}
	partPUTs := 0
	etags := map[int]string{}
	sentSHA, sentAuth := 0, 0
	var partSizesSent []int64
	for i, pr := range partReqs {
		n := i + 1
		if pr.Status != 200 {
			t.Errorf("part request %d answered %d: %s", n, pr.Status, pr)
			continue
		}
		var body client.UploadImagePartRequest
		if err := json.Unmarshal([]byte(pr.ReqBody), &body); err != nil {
			t.Errorf("part request %d body %q: %v", n, pr.ReqBody, err)
			continue
		}
		off := int64(i) * mu.PartSize
		length := min64(mu.PartSize, f.Size-off)
		partSizesSent = append(partSizesSent, body.PartSize)
		if body.PartNumber != n || body.UploadID != mu.UploadID {
			t.Errorf("part request %d: partNumber=%d uploadID=%q, want %d and %q", n, body.PartNumber, body.UploadID, n, mu.UploadID)
		}
		if body.PartSize != length {
			t.Errorf("part request %d: partSize=%d, want the part's length %d", n, body.PartSize, length)
		}
		wantSHA := sha256Hex(f.Data[off : off+length])
		if body.SHA256Checksum != wantSHA {
			t.Errorf("part request %d: sha256sum=%q, want %s", n, body.SHA256Checksum, wantSHA)
		}
		var resp client.UploadImagePartResponse
		if err := json.Unmarshal([]byte(pr.RespBody), &resp); err != nil || resp.Data.PresignedURL == "" {
			t.Errorf("part request %d answered %q (no presignedURL; %v)", n, pr.RespBody, err)
			continue
		}
		puts := exchangesTo(exs, http.MethodPut, resp.Data.PresignedURL)
		partPUTs += len(puts)
		if len(puts) != 1 {
			t.Errorf("part %d: %d PUTs to its presigned URL %s, want 1", n, len(puts), resp.Data.PresignedURL)
			continue
		}
		put := puts[0]
		if put.Status != 200 {
			t.Errorf("part %d PUT answered %d, want exactly 200: %s", n, put.Status, put)
		}
		if put.ReqBytes != length {
			t.Errorf("part %d PUT sent %d bytes, want %d", n, put.ReqBytes, length)
		}
		if put.ETag == "" {
			t.Errorf("part %d PUT answered no ETag (the client sends it back as the part token)", n)
		}
		etags[n] = put.ETag
		if put.AmzSHA256 != "" {
			sentSHA++
			if put.AmzSHA256 != wantSHA {
				t.Errorf("part %d PUT: x-amz-content-sha256=%s, want %s", n, put.AmzSHA256, wantSHA)
			}
		}
		if put.Auth != "" {
			sentAuth++
		}
	}
	flow.PartPUTs = partPUTs
	if partPUTs != mu.TotalParts {
		t.Errorf("%d part PUTs, server announced totalParts=%d", partPUTs, mu.TotalParts)
	}
	t.Logf("client part requests: partSize sent per part = %v (server partSize %d); x-amz-content-sha256 on %d/%d part PUTs; Authorization on %d/%d part PUTs",
		partSizesSent, mu.PartSize, sentSHA, partPUTs, sentAuth, partPUTs)

	if len(completes) != 1 {
		t.Fatalf("want exactly one PUT .../_multipart_complete, got %d", len(completes))
	}
	if completes[0].Status != 200 {
		t.Fatalf("_multipart_complete answered %d: %s", completes[0].Status, completes[0])
	}
	var done client.CompleteMultipartUploadRequest
	if err := json.Unmarshal([]byte(completes[0].ReqBody), &done); err != nil {
		t.Fatalf("_multipart_complete body %q: %v", truncate(completes[0].ReqBody, 300), err)
	}
	if done.UploadID != mu.UploadID || len(done.CompletedParts) != mu.TotalParts {
		t.Errorf("_multipart_complete: uploadID=%q with %d parts, want %q with %d", done.UploadID, len(done.CompletedParts), mu.UploadID, mu.TotalParts)
	}
	for _, cp := range done.CompletedParts {
		if cp.Token != etags[cp.PartNumber] {
			t.Errorf("_multipart_complete: part %d token %q, the part PUT answered ETag %q", cp.PartNumber, cp.Token, etags[cp.PartNumber])
		}
	}
	return flow
}

// exchangesTo returns the exchanges with that method to rawURL (query ignored).
func exchangesTo(exs []exchange, method, rawURL string) []exchange {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	u.RawQuery = ""
	var out []exchange
	for _, ex := range exs {
		if ex.Method == method && ex.URL == u.String() {
			out = append(out, ex)
		}
	}
	return out
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// ---------------------------------------------------------------------------
// Downloads

// apptainerDownloader is what `apptainer pull` uses by default
// (apptainer.conf: download concurrency = 3, download part size = 5242880).
var apptainerDownloader = client.Downloader{Concurrency: 3, PartSize: 5 << 20, BufferSize: 32 << 10}

// pullAndCompare downloads path:tag for arch with the library, with
// DownloadImage if spec is nil, else with ConcurrentDownloadImage(spec),
// checks the HTTP flow for the server's download mode and compares the file
// with f byte for byte.
func pullAndCompare(t *testing.T, e env, c *client.Client, f *sifFixture, arch, path, tag string, spec *client.Downloader) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pulled.sif")
	fh, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	what := "DownloadImage"
	m := rec.mark()
	if spec == nil {
		err = c.DownloadImage(opCtx(t), fh, arch, path, tag, nil)
	} else {
		what = fmt.Sprintf("ConcurrentDownloadImage(concurrency %d, part size %d)", spec.Concurrency, spec.PartSize)
		err = func() (err error) {
			// client 1.2.2 indexes Content-Range without checking it: a ranged
			// response without "Content-Range: bytes a-b/N" panics.
			defer func() {
				if r := recover(); r != nil {
					err = errors.New("library panicked (missing/invalid Content-Range on the ranged GET of the 303 Location?): " + toString(r))
				}
			}()
			return c.ConcurrentDownloadImage(opCtx(t), fh, arch, path, tag, spec, nil)
		}()
	}
	fh.Close()
	exs := rec.since(m)
	t.Logf("%s of %s:%s (arch %s):%s", what, path, tag, arch, formatExchanges(exs, 12))
	if err != nil {
		t.Fatalf("%s(%s:%s, arch %s): %v", what, path, tag, arch, err)
	}
	checkDownloadFlow(t, e, exs, f, spec)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	compareBytes(t, what, got, f)
}

// checkDownloadFlow asserts what the server answered to one DownloadImage
// (spec nil) or ConcurrentDownloadImage(spec) of f:
//   - stream mode: GET /v1/imagefile -> 200 with the bytes, nothing else;
//   - redirect mode: GET /v1/imagefile -> 303 to an absolute URL; then for
//     DownloadImage one GET of it -> 200; for ConcurrentDownloadImage the
//     probe "Range: bytes=0-1024" -> 206 with "Content-Range: bytes
//     0-1024/<size>" (the client reads the size from it), then one GET per
//     part -> 206 with exactly the requested span (the client does not look
//     at the status: a 200 would silently corrupt the file).
func checkDownloadFlow(t *testing.T, e env, exs []exchange, f *sifFixture, spec *client.Downloader) {
	t.Helper()
	var files []exchange
	for _, ex := range exs {
		if ex.Method == http.MethodGet && strings.Contains(ex.Path, "/v1/imagefile/") {
			files = append(files, ex)
		}
	}
	if len(files) != 1 {
		t.Fatalf("want exactly one GET /v1/imagefile/..., got %d", len(files))
	}
	ff := files[0]
	switch {
	case e.DownloadMode == modeStream && ff.Status != 200:
		t.Fatalf("download mode stream: GET /v1/imagefile answered %d, want 200: %s", ff.Status, ff)
	case e.DownloadMode == modeRedirect && ff.Status != 303:
		t.Fatalf("download mode redirect: GET /v1/imagefile answered %d, want 303: %s", ff.Status, ff)
	case ff.Status != 200 && ff.Status != 303:
		t.Fatalf("GET /v1/imagefile answered %d, want 200 or 303: %s", ff.Status, ff)
	}
	if !strings.Contains(ff.Query, "arch=") {
		t.Errorf("GET /v1/imagefile without arch: %s", ff)
	}
	if ff.Status == 200 {
		if ff.Location != "" {
			t.Errorf("200 with a Location header: %s", ff)
		}
		for _, ex := range exs {
			if ex.Range != "" {
				t.Errorf("ranged request after a 200 (stream) answer: %s", ex)
			}
		}
		t.Logf("stream: 200 from GET /v1/imagefile, single-stream body")
		return
	}

	loc, err := url.Parse(ff.Location)
	if err != nil || !loc.IsAbs() || loc.Host == "" {
		t.Fatalf("303 Location %q is not an absolute URL (the client uses it verbatim)", ff.Location)
	}
	switch {
	case e.onS3() && strings.HasPrefix(ff.Location, e.URL+"/"):
		t.Errorf("303 Location %q is Silo's, want a presigned URL of the S3 store", ff.Location)
	case !e.onS3() && !strings.Contains(loc.Path, "/download/"):
		t.Errorf("303 Location %q is not a /download/<token> URL", ff.Location)
	}
	gets := exchangesTo(exs, http.MethodGet, ff.Location)
	authed := 0
	for _, g := range gets {
		if g.Auth != "" {
			authed++
		}
	}

	if spec == nil { // DownloadImage: net/http follows the 303 with a plain GET
		if len(gets) != 1 {
			t.Fatalf("DownloadImage after the 303: %d GETs of the Location, want 1:%s", len(gets), formatExchanges(gets, 5))
		}
		g := gets[0]
		if g.Status != 200 || g.Range != "" || g.ContentRange != "" {
			t.Errorf("DownloadImage: GET of the Location answered %d (Range %q, Content-Range %q), want a 200 of the whole file", g.Status, g.Range, g.ContentRange)
		}
		t.Logf("redirect: 303 -> GET %s -> %d (Authorization forwarded by net/http: %v)", loc.Path, g.Status, g.Auth != "")
		return
	}

	if len(gets) == 0 {
		t.Fatalf("ConcurrentDownloadImage made no request to the 303 Location %s", ff.Location)
	}
	probe := gets[0]
	wantProbeEnd := min64(1024, f.Size-1)
	if probe.Range != "bytes=0-1024" {
		t.Errorf("first GET of the Location has Range %q, want the client's probe bytes=0-1024", probe.Range)
	}
	if probe.Status != 206 {
		t.Errorf("probe (Range bytes=0-1024) answered %d, want 206", probe.Status)
	}
	if want := fmt.Sprintf("bytes 0-%d/%d", wantProbeEnd, f.Size); probe.ContentRange != want {
		t.Errorf("probe Content-Range = %q, want %q (the client reads the total size from it)", probe.ContentRange, want)
	}

	want := map[string]bool{}
	for start := int64(0); start < f.Size; start += spec.PartSize {
		want[fmt.Sprintf("bytes=%d-%d", start, min64(start+spec.PartSize, f.Size)-1)] = true
	}
	seen := map[string]int{}
	ranged206 := 0
	for _, g := range gets[1:] {
		seen[g.Range]++
		if !want[g.Range] {
			t.Errorf("unexpected part request: %s", g)
			continue
		}
		var a, b int64
		fmt.Sscanf(g.Range, "bytes=%d-%d", &a, &b)
		if g.Status != 206 {
			t.Errorf("part %s answered %d, want 206: %s", g.Range, g.Status, g)
			continue
		}
		if wantCR := fmt.Sprintf("bytes %d-%d/%d", a, b, f.Size); g.ContentRange != wantCR {
			t.Errorf("part %s: Content-Range %q, want %q", g.Range, g.ContentRange, wantCR)
			continue
		}
		ranged206++
	}
	for r := range want {
		if seen[r] != 1 {
			t.Errorf("part %s requested %d times, want once", r, seen[r])
		}
	}
	if ranged206 != len(want) {
		t.Errorf("%d of %d parts answered 206 with the exact span", ranged206, len(want))
	}
	t.Logf("redirect: 303 -> probe %s -> %d %q, then %d ranged GETs of %s -> 206 (Authorization sent on %d of %d requests to the Location)",
		probe.Range, probe.Status, probe.ContentRange, len(gets)-1, loc.Path, authed, len(gets))
}

// ---------------------------------------------------------------------------
// Raw HTTP, for fault injection only (the library never sends these faults)

type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// rawHTTP records its exchanges and does not follow redirects (a 303 is an
// answer to check, as for the library's ConcurrentDownloadImage).
var rawHTTP = &http.Client{
	Transport:     rec,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// raw sends one request to rawURL (absolute, or relative to e.URL), with
// "Authorization: Bearer token" unless token is "".
func raw(t *testing.T, e env, method, rawURL, token string, body io.Reader, header map[string]string) rawResponse {
	t.Helper()
	if !strings.Contains(rawURL, "://") {
		rawURL = e.URL + "/" + strings.TrimPrefix(rawURL, "/")
	}
	req, err := http.NewRequestWithContext(opCtx(t), method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", userAgent)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := rawHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the response: %v", method, rawURL, err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// rawJSON sends v as the JSON body, the way the library's apiCreate/apiUpdate
// do (no Content-Type header).
func rawJSON(t *testing.T, e env, method, path, token string, v interface{}) rawResponse {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw(t, e, method, path, token, strings.NewReader(string(b)), nil)
}

// data decodes the {"data": ...} envelope of a 200 answer into v.
func (r rawResponse) data(t *testing.T, what string, v interface{}) {
	t.Helper()
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("%s answered %d: %s", what, r.Status, truncate(string(r.Body), 300))
	}
	env := struct {
		Data json.RawMessage `json:"data"`
	}{}
	if err := json.Unmarshal(r.Body, &env); err != nil || len(env.Data) == 0 {
		t.Fatalf("%s: body %q is not a {\"data\":...} envelope (%v)", what, truncate(string(r.Body), 300), err)
	}
	if v != nil {
		if err := json.Unmarshal(env.Data, v); err != nil {
			t.Fatalf("%s: data %s: %v", what, truncate(string(env.Data), 300), err)
		}
	}
}

// requireError asserts status want and the sylabs json-resp error envelope
// {"error":{"code":want,"message":"..."}}, which is all jsonresp.ReadError
// can show the user.
func (r rawResponse) requireError(t *testing.T, what string, want int) {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s answered %d, want %d: %s", what, r.Status, want, truncate(string(r.Body), 300))
		return
	}
	var env struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Error == nil {
		t.Errorf("%s: %d body %q is not a {\"error\":{\"code\",\"message\"}} envelope (%v)", what, r.Status, truncate(string(r.Body), 300), err)
		return
	}
	if env.Error.Code != want || env.Error.Message == "" {
		t.Errorf("%s: error envelope code=%d message=%q, want code %d and a message", what, env.Error.Code, env.Error.Message, want)
	}
	t.Logf("%s -> %d %s", what, r.Status, truncate(string(r.Body), 200))
}
