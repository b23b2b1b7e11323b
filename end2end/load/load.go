package main

// The load test: -clients goroutines, each a client looping over a weighted mix of pushes
// (library client), pulls (library, shub and OCI, every one hashed against the sha the image
// is known by), searches (library, REST, the SPA's server function) and page loads (the
// SPA's index and the calls its home page makes) for -duration. Fails on any error or
// corrupt download; prints requests/s, p50/p99 per kind and bytes moved.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is an image that pulls can ask for, and the sha its bytes must hash to.
type target struct {
	path, tag, sha string
	public         bool // pullable anonymously (shub)
}

type loadConfig struct {
	base, token, entity string
	clients             int
	duration            time.Duration
	pushKiB             int
	catalog             int
	report              string
}

// kinds of operation, with their weights in the mix.
var mix = []struct {
	kind   string
	weight int
}{
	{"push", 8},
	{"pull-library", 20},
	{"pull-shub", 10},
	{"pull-oci", 10},
	{"search-library", 8},
	{"search-rest", 8},
	{"search-spa", 8},
	{"page", 28},
}

var searchWords = []string{"genomics", "climate", "physics", "imaging", "tool", "learning", "astro", "bio", "load", "stats"}

type stats struct {
	mu       sync.Mutex
	lat      map[string][]time.Duration
	errs     map[string]int
	messages []string
	corrupt  int64
}

func (s *stats) record(kind string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs[kind]++
		if len(s.messages) < 30 {
			s.messages = append(s.messages, fmt.Sprintf("%s: %v", kind, err))
		}
		return
	}
	s.lat[kind] = append(s.lat[kind], d)
}

type corruptError struct{ msg string }

func (e corruptError) Error() string { return e.msg }

func runLoad(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	cfg := loadConfig{}
	fs.StringVar(&cfg.base, "url", "", "registry base URL")
	fs.StringVar(&cfg.token, "token", os.Getenv("SILO_TOKEN"), "API token of the pushing user")
	fs.StringVar(&cfg.entity, "entity", "", "entity to push into (the token's user)")
	fs.IntVar(&cfg.clients, "clients", 200, "concurrent clients")
	fs.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long the clients run")
	fs.IntVar(&cfg.pushKiB, "push-kib", 256, "largest pushed SIF partition, KiB")
	fs.IntVar(&cfg.catalog, "catalog", 300, "seeded containers to pull from (public ones, from the REST API)")
	fs.StringVar(&cfg.report, "report", "", "also write the figures as a Markdown table to this file")
	fs.Parse(args)
	if cfg.base == "" || cfg.token == "" || cfg.entity == "" {
		fatalf("load: -url, -token and -entity are required")
	}
	cfg.base = strings.TrimRight(cfg.base, "/")
	dir := tempDir("silo-load-")
	defer os.RemoveAll(dir)

	setupStart := time.Now()
	targets := seededTargets(cfg)
	targets = append(targets, ownTargets(cfg, dir)...)
	fmt.Printf("setup: %d pull targets (%d seeded) in %.1f s\n", len(targets), len(targets)-8, time.Since(setupStart).Seconds())

	st := &stats{lat: map[string][]time.Duration{}, errs: map[string]int{}}
	var pool pushedPool
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	reqBefore, sentBefore, recvBefore := atomic.LoadInt64(&transport.requests), atomic.LoadInt64(&transport.sent), atomic.LoadInt64(&transport.received)
	deadline := time.Now().Add(cfg.duration)
	started := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < cfg.clients; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(id) + started.UnixNano()))
			lib := libraryClient(cfg.base, cfg.token)
			for time.Now().Before(deadline) {
				pick, kind := rng.Intn(total), ""
				for _, m := range mix {
					if pick < m.weight {
						kind = m.kind
						break
					}
					pick -= m.weight
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				t0 := time.Now()
				err := runOp(ctx, cfg, kind, id, rng, lib, targets, &pool, dir)
				cancel()
				if _, ok := err.(corruptError); ok {
					atomic.AddInt64(&st.corrupt, 1)
				}
				st.record(kind, time.Since(t0), err)
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(started)
	requests := atomic.LoadInt64(&transport.requests) - reqBefore
	sent := atomic.LoadInt64(&transport.sent) - sentBefore
	recv := atomic.LoadInt64(&transport.received) - recvBefore

	table := summarize(cfg, st, elapsed, requests, sent, recv)
	fmt.Print(table)
	if cfg.report != "" {
		if err := os.WriteFile(cfg.report, []byte(table), 0o644); err != nil {
			fatalf("writing %s: %v", cfg.report, err)
		}
	}
	failed := st.corrupt > 0
	for _, n := range st.errs {
		failed = failed || n > 0
	}
	for _, m := range mix {
		if len(st.lat[m.kind]) == 0 {
			fmt.Printf("no successful %s operation\n", m.kind)
			failed = true
		}
	}
	for _, msg := range st.messages {
		fmt.Println("  ERROR", msg)
	}
	if failed {
		fmt.Println("load: FAIL")
		os.Exit(1)
	}
	fmt.Println("load: PASS (zero errors, zero corrupt downloads)")
}

// pushedPool holds the images pushed during the run (pulled back by their hash).
type pushedPool struct {
	mu   sync.Mutex
	list []target
}

func (p *pushedPool) add(t target) {
	p.mu.Lock()
	p.list = append(p.list, t)
	p.mu.Unlock()
}

func (p *pushedPool) pick(rng *rand.Rand) (target, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) == 0 {
		return target{}, false
	}
	return p.list[rng.Intn(len(p.list))], true
}

func runOp(ctx context.Context, cfg loadConfig, kind string, id int, rng *rand.Rand, lib libraryClientT,
	targets []target, pool *pushedPool, dir string) error {
	anyTarget := func() target { return targets[rng.Intn(len(targets))] }
	verify := func(how string, t target, got string, err error) error {
		if err != nil {
			return err
		}
		if got != t.sha {
			return corruptError{fmt.Sprintf("%s pull of %s:%s hashed to %s, want %s", how, t.path, t.tag, got, t.sha)}
		}
		return nil
	}
	switch kind {
	case "push":
		img, err := makeSIF(dir, 16+rng.Intn(cfg.pushKiB))
		if err != nil {
			return err
		}
		defer os.Remove(img.Path)
		path := fmt.Sprintf("%s/load/work-%02d", cfg.entity, id%20)
		if err := push(ctx, lib, img, path, []string{fmt.Sprintf("v%d", rng.Intn(3))}); err != nil {
			return err
		}
		pool.add(target{path: path, tag: "sha256." + img.SHA, sha: img.SHA})
		return nil
	case "pull-library":
		t := anyTarget()
		if p, ok := pool.pick(rng); ok && rng.Intn(3) == 0 {
			t = p
		}
		got, err := pullLibrary(ctx, lib, t.path, t.tag)
		return verify("library", t, got, err)
	case "pull-shub":
		t := anyTarget()
		for !t.public {
			t = anyTarget()
		}
		got, err := pullShub(ctx, cfg.base, t.path, t.tag)
		return verify("shub", t, got, err)
	case "pull-oci":
		t := anyTarget()
		got, err := pullOCI(ctx, cfg.base, cfg.token, t.path, t.tag)
		return verify("OCI", t, got, err)
	case "search-library":
		_, err := lib.Search(ctx, map[string]string{"value": searchWords[rng.Intn(len(searchWords))]})
		return err
	case "search-rest":
		q := url.QueryEscape(searchWords[rng.Intn(len(searchWords))])
		return getJSON(ctx, cfg.base, "", "/api/v1/containers?per_page=20&q="+q, nil)
	case "search-spa":
		return fetch(ctx, "POST", cfg.base+"/rpc/search", "application/x-www-form-urlencoded",
			"q="+url.QueryEscape(searchWords[rng.Intn(len(searchWords))]))
	case "page":
		return pageLoad(ctx, cfg, anyTarget())
	}
	return fmt.Errorf("unknown kind %s", kind)
}

// pageLoad fetches what the browser fetches for a home page visit followed by a container
// page (the WASM and JS are cached by a browser after the first visit, so not re-fetched).
func pageLoad(ctx context.Context, cfg loadConfig, t target) error {
	form := "application/x-www-form-urlencoded"
	parts := strings.SplitN(t.path, "/", 3)
	steps := []func() error{
		func() error { return fetch(ctx, "GET", cfg.base+"/", "", "") },
		func() error { return fetch(ctx, "POST", cfg.base+"/rpc/site", form, "") },
		func() error { return fetch(ctx, "POST", cfg.base+"/rpc/home", form, "") },
		func() error { return getJSON(ctx, cfg.base, "", "/api/v1/stats", nil) },
		func() error {
			v := url.Values{"entity": {parts[0]}, "collection": {parts[1]}, "container": {parts[2]}}
			return fetch(ctx, "POST", cfg.base+"/rpc/container", form, v.Encode())
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// seededTargets lists up to cfg.catalog public containers (the seeded ones) with the sha of
// their amd64 `latest` tag, from the REST API.
func seededTargets(cfg loadConfig) []target {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var paths []string
	for page := 1; len(paths) < cfg.catalog; page++ {
		var got struct {
			Items []struct {
				Path    string `json:"path"`
				Private bool   `json:"private"`
			} `json:"items"`
		}
		if err := getJSON(ctx, cfg.base, "", fmt.Sprintf("/api/v1/containers?per_page=100&page=%d", page), &got); err != nil {
			fatalf("listing containers: %v", err)
		}
		if len(got.Items) == 0 {
			break
		}
		for _, c := range got.Items {
			if !c.Private && len(paths) < cfg.catalog {
				paths = append(paths, c.Path)
			}
		}
	}
	if len(paths) == 0 {
		fatalf("no public containers to pull from: seed the registry first (silo seed)")
	}
	targets := make([]target, len(paths))
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var detail restContainer
				if err := getJSON(ctx, cfg.base, "", "/api/v1/containers/"+paths[i], &detail); err != nil {
					fatalf("reading %s: %v", paths[i], err)
				}
				for _, t := range detail.TagsByArch["amd64"] {
					if t.Name == "latest" {
						targets[i] = target{path: paths[i], tag: "latest", sha: t.SHA256, public: true}
					}
				}
				if targets[i].sha == "" {
					fatalf("%s has no amd64 latest tag", paths[i])
				}
			}
		}()
	}
	for i := range paths {
		work <- i
	}
	close(work)
	wg.Wait()
	return targets
}

// ownTargets pushes 8 SIFs the load test knows the sha of before the run starts.
func ownTargets(cfg loadConfig, dir string) []target {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lib := libraryClient(cfg.base, cfg.token)
	var out []target
	for i := 0; i < 8; i++ {
		img, err := makeSIF(dir, 64+64*i)
		if err != nil {
			fatalf("making a SIF: %v", err)
		}
		path := fmt.Sprintf("%s/load/base-%d", cfg.entity, i)
		if err := push(ctx, lib, img, path, []string{"latest"}); err != nil {
			fatalf("setup push: %v", err)
		}
		out = append(out, target{path: path, tag: "latest", sha: img.SHA, public: true})
	}
	return out
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func summarize(cfg loadConfig, st *stats, elapsed time.Duration, requests, sent, recv int64) string {
	var b strings.Builder
	secs := elapsed.Seconds()
	fmt.Fprintf(&b, "%d clients for %.1f s against %s\n\n", cfg.clients, secs, cfg.base)
	fmt.Fprintln(&b, "| kind | operations | per second | p50 ms | p99 ms | errors |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|---:|---:|")
	ops := 0
	errs := 0
	for _, m := range mix {
		lat := append([]time.Duration(nil), st.lat[m.kind]...)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		ops += len(lat)
		errs += st.errs[m.kind]
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.0f | %.0f | %d |\n", m.kind, len(lat), float64(len(lat))/secs,
			ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), st.errs[m.kind])
	}
	fmt.Fprintf(&b, "| **all** | %d | %.1f | | | %d |\n\n", ops, float64(ops)/secs, errs)
	fmt.Fprintf(&b, "HTTP requests: %d (%.1f/s); bytes sent %.1f MiB, received %.1f MiB (%.1f MiB/s in all); corrupt downloads: %d\n",
		requests, float64(requests)/secs, mib(sent), mib(recv), mib(sent+recv)/secs, st.corrupt)
	summary, _ := json.Marshal(map[string]interface{}{"operations": ops, "errors": errs, "corrupt": st.corrupt, "requests": requests})
	fmt.Fprintf(&b, "summary: %s\n", summary)
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(n int64) float64        { return float64(n) / (1 << 20) }
