package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apptainer/container-library-client/client"
	"github.com/sylabs/sif/v2/pkg/sif"
)

const userAgent = "silo-e2e-load/1 (container-library-client 1.2.2)"

// countingTransport counts the bytes sent (request bodies of known length) and received
// (response bodies as read) over every request of the process.
type countingTransport struct {
	inner    http.RoundTripper
	sent     int64
	received int64
	requests int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	atomic.AddInt64(&t.requests, 1)
	if req.ContentLength > 0 {
		atomic.AddInt64(&t.sent, req.ContentLength)
	}
	resp, err := t.inner.RoundTrip(req)
	if err == nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.received}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	atomic.AddInt64(b.n, int64(n))
	return n, err
}

// transport is used by everything in this process, the library client's uploads (which go
// through http.DefaultClient) included.
var transport = &countingTransport{inner: &http.Transport{
	Proxy:               nil,
	MaxIdleConns:        1024,
	MaxIdleConnsPerHost: 1024,
	IdleConnTimeout:     90 * time.Second,
}}

var httpClient = &http.Client{Transport: transport, Timeout: 5 * time.Minute}

func init() {
	http.DefaultTransport = transport
	http.DefaultClient.Transport = transport
}

// libraryClient is Apptainer's library client for the registry at base.
func libraryClient(base, token string) *client.Client {
	c, err := client.NewClient(&client.Config{
		BaseURL:    base,
		AuthToken:  token,
		UserAgent:  userAgent,
		HTTPClient: httpClient,
	})
	if err != nil {
		fatalf("library client for %s: %v", base, err)
	}
	return c
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "silo-load: "+format+"\n", args...)
	os.Exit(2)
}

// sifFile is a SIF image on disk and what the registry must hand back for it.
type sifFile struct {
	Path string
	SHA  string // lower-case hex sha256 of the file
	Size int64
}

// makeSIF writes a valid SIF (a primary system partition of kib KiB of random bytes,
// amd64) with the sif library, as `apptainer build` would lay it out, and hashes it.
func makeSIF(dir string, kib int) (*sifFile, error) {
	payload := make([]byte, kib*1024)
	if _, err := rand.Read(payload); err != nil {
		return nil, err
	}
	di, err := sif.NewDescriptorInput(sif.DataPartition, bytes.NewReader(payload),
		sif.OptPartitionMetadata(sif.FsSquash, sif.PartPrimSys, "amd64"))
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "image-*.sif")
	if err != nil {
		return nil, err
	}
	p := f.Name()
	f.Close()
	fi, err := sif.CreateContainerAtPath(p, sif.OptCreateWithDescriptors(di))
	if err != nil {
		return nil, err
	}
	if err := fi.UnloadContainer(); err != nil {
		return nil, err
	}
	sha, size, err := hashFile(p)
	if err != nil {
		return nil, err
	}
	return &sifFile{Path: p, SHA: sha, Size: size}, nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// push uploads a SIF with the library client's UploadImage, exactly like `apptainer push`.
func push(ctx context.Context, c *client.Client, img *sifFile, path string, tags []string) error {
	f, err := os.Open(img.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = c.UploadImage(ctx, f, path, "amd64", tags, "pushed by end2end/load", nil)
	if err != nil {
		return fmt.Errorf("push %s:%v (%s): %w", path, tags, img.SHA[:12], err)
	}
	return nil
}

// hashingWriter hashes what the library client downloads without keeping it.
type hashingWriter struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func newHashingWriter() *hashingWriter { return &hashingWriter{h: sha256.New()} }
func (w *hashingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}
func (w *hashingWriter) hex() string { return hex.EncodeToString(w.h.Sum(nil)) }

// pullLibrary downloads path:tag (or path:sha256.<hex>) with the library client and
// returns the sha256 of the bytes.
func pullLibrary(ctx context.Context, c *client.Client, path, tag string) (string, error) {
	w := newHashingWriter()
	if err := c.DownloadImage(ctx, w, "amd64", path, tag, nil); err != nil {
		return "", fmt.Errorf("library pull %s:%s: %w", path, tag, err)
	}
	return w.hex(), nil
}

// getJSON GETs base+path (with a bearer token when given) and decodes a 200 answer.
func getJSON(ctx context.Context, base, token, path string, out interface{}) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, truncate(body))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w: %s", path, err, truncate(body))
	}
	return nil
}

// fetch sends a request and reads the whole 2xx answer (discarded), for page loads.
func fetch(ctx context.Context, method, u, contentType string, body string) error {
	var r io.Reader
	if body != "" || method == http.MethodPost {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", method, u, resp.StatusCode, truncate(data))
	}
	return nil
}

// hashGet GETs u and returns the sha256 and length of the body of a 200 answer, checking
// the length against Content-Length.
func hashGet(ctx context.Context, u, token string) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", 0, fmt.Errorf("GET %s: status %d: %s", u, resp.StatusCode, truncate(body))
	}
	w := newHashingWriter()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != w.n {
		return "", 0, fmt.Errorf("GET %s: %d bytes, Content-Length %d", u, w.n, resp.ContentLength)
	}
	return w.hex(), w.n, nil
}

// pullShub pulls entity/collection/container:tag the way Apptainer's shub client does: the
// manifest without credentials, then its `image` URL; returns the sha256 of the bytes and
// checks it against the manifest's `commit`.
func pullShub(ctx context.Context, base, path, tag string) (string, error) {
	parts := strings.SplitN(path, "/", 2)
	var manifest struct {
		Image  string `json:"image"`
		Commit string `json:"commit"`
	}
	if err := getJSON(ctx, base, "", "/"+parts[0]+"/api/container/"+parts[1]+":"+tag, &manifest); err != nil {
		return "", fmt.Errorf("shub manifest: %w", err)
	}
	sha, _, err := hashGet(ctx, manifest.Image, "")
	if err != nil {
		return "", fmt.Errorf("shub pull %s:%s: %w", path, tag, err)
	}
	if sha != manifest.Commit {
		return sha, fmt.Errorf("shub pull %s:%s: bytes hash to %s, manifest commit %s", path, tag, sha, manifest.Commit)
	}
	return sha, nil
}

// pullOCI pulls repository:tag as an OCI client does (the manifest, then its one layer,
// with the token as bearer credentials); returns the sha256 of the layer bytes and checks
// it against the layer's digest.
func pullOCI(ctx context.Context, base, token, repo, tag string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v2/"+repo+"/manifests/"+url.PathEscape(tag), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("OCI manifest %s:%s: %w", repo, tag, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("OCI manifest %s:%s: %w", repo, tag, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("OCI manifest %s:%s: status %d: %s", repo, tag, resp.StatusCode, truncate(body))
	}
	var manifest struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(body, &manifest); err != nil || len(manifest.Layers) != 1 {
		return "", fmt.Errorf("OCI manifest %s:%s: want one layer: %s", repo, tag, truncate(body))
	}
	digest := manifest.Layers[0].Digest
	sha, _, err := hashGet(ctx, base+"/v2/"+repo+"/blobs/"+digest, token)
	if err != nil {
		return "", fmt.Errorf("OCI pull %s:%s: %w", repo, tag, err)
	}
	if "sha256:"+sha != digest {
		return sha, fmt.Errorf("OCI pull %s:%s: layer bytes hash to %s, digest %s", repo, tag, sha, digest)
	}
	return sha, nil
}

func truncate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func tempDir(prefix string) string {
	d, err := os.MkdirTemp(os.Getenv("TMPDIR"), prefix)
	if err != nil {
		fatalf("temp dir: %v", err)
	}
	return filepath.Clean(d)
}

// libraryClientT is the library client type (an alias keeps signatures short).
type libraryClientT = *client.Client
