package main

// The concurrency test: many real clients push at once into the same fresh containers —
// different images under the same tag, the same image under different tags, the same image
// under the same tag twice, and (with -oras) oras-py pushes of different images racing on
// one OCI tag. Afterwards the registry must be in a state some serial order of those pushes
// could have produced, and every tag must pull back the bytes of its image over the library,
// shub and OCI protocols.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"
)

type raceConfig struct {
	base, token, entity   string
	containers, distinct  int
	tags, rounds, kib     int
	orasPython, orasShell string
	orasUser              string
	orasPushes            int
}

// containerPlan is what one container receives in a round.
type containerPlan struct {
	path     string              // entity/collection/container
	base     *sifFile            // pushed alone first (tag "base"), creating the container
	sameTag  []*sifFile          // different images, all pushed to "latest"
	shared   *sifFile            // one image pushed to tags t0..tN-1 (and to t0 twice)
	oras     []*sifFile          // different images pushed with oras-py to "oci"
	allowed  map[string][]string // tag -> the shas a serial outcome may leave there
	pushedBy map[string]*sifFile // sha -> file
}

func runRace(args []string) {
	fs := flag.NewFlagSet("race", flag.ExitOnError)
	cfg := raceConfig{}
	fs.StringVar(&cfg.base, "url", "", "registry base URL")
	fs.StringVar(&cfg.token, "token", os.Getenv("SILO_TOKEN"), "API token of the pushing user")
	fs.StringVar(&cfg.entity, "entity", "", "entity to push into (the token's user)")
	fs.IntVar(&cfg.containers, "containers", 4, "containers raced on per round")
	fs.IntVar(&cfg.distinct, "distinct", 6, "different images pushed to the same tag, per container")
	fs.IntVar(&cfg.tags, "tags", 6, "tags the same image is pushed to at once, per container")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds, each on fresh containers")
	fs.IntVar(&cfg.kib, "kib", 256, "size of each SIF's partition, KiB")
	fs.StringVar(&cfg.orasPython, "oras-python", "", "python with oras-py (enables the OCI race)")
	fs.StringVar(&cfg.orasShell, "oras-script", "", "end2end/oci_client.py")
	fs.StringVar(&cfg.orasUser, "oras-user", "", "user name for oras-py's basic auth")
	fs.IntVar(&cfg.orasPushes, "oras-pushes", 3, "different images pushed with oras-py to the same tag, per container")
	fs.Parse(args)
	if cfg.base == "" || cfg.token == "" || cfg.entity == "" {
		fatalf("race: -url, -token and -entity are required")
	}
	cfg.base = strings.TrimRight(cfg.base, "/")
	dir := tempDir("silo-race-")
	defer os.RemoveAll(dir)

	failures := 0
	for round := 0; round < cfg.rounds; round++ {
		collection := fmt.Sprintf("race-%d-%d", time.Now().Unix(), round)
		plans := make([]*containerPlan, cfg.containers)
		for k := range plans {
			plans[k] = planContainer(cfg, dir, fmt.Sprintf("%s/%s/c%d", cfg.entity, collection, k))
		}
		// One serial first push per container: Apptainer's client creates the entity, the
		// collection and the container as get-then-create, so first pushes racing into a
		// container that does not exist yet may lose with 409 (checked on its own below).
		for _, p := range plans {
			if err := push(context.Background(), libraryClient(cfg.base, cfg.token), p.base, p.path, []string{"base"}); err != nil {
				fatalf("first push: %v", err)
			}
		}
		for _, pr := range raceCreates(cfg, cfg.entity, collection, plans[0].base) {
			fmt.Printf("  create race: %s\n", pr)
			failures++
		}
		started := time.Now()
		errs := racePushes(cfg, plans)
		fmt.Printf("round %d: %d containers, %d pushes at once in %.1f s\n",
			round+1, len(plans), countPushes(cfg, plans), time.Since(started).Seconds())
		for _, err := range errs {
			fmt.Printf("  PUSH FAILED: %v\n", err)
		}
		failures += len(errs)
		for _, p := range plans {
			problems := checkContainer(cfg, p)
			for _, pr := range problems {
				fmt.Printf("  %s: %s\n", p.path, pr)
			}
			failures += len(problems)
		}
	}
	if failures > 0 {
		fmt.Printf("race: FAIL (%d problems)\n", failures)
		os.Exit(1)
	}
	fmt.Println("race: PASS (every push succeeded; every container in a serial outcome; every pull hashed correctly)")
}

func planContainer(cfg raceConfig, dir, path string) *containerPlan {
	p := &containerPlan{path: path, allowed: map[string][]string{}, pushedBy: map[string]*sifFile{}}
	mk := func() *sifFile {
		f, err := makeSIF(dir, cfg.kib)
		if err != nil {
			fatalf("making a SIF: %v", err)
		}
		p.pushedBy[f.SHA] = f
		return f
	}
	p.base = mk()
	p.allowed["base"] = []string{p.base.SHA}
	for i := 0; i < cfg.distinct; i++ {
		f := mk()
		p.sameTag = append(p.sameTag, f)
		p.allowed["latest"] = append(p.allowed["latest"], f.SHA)
	}
	p.shared = mk()
	for i := 0; i < cfg.tags; i++ {
		p.allowed[fmt.Sprintf("t%d", i)] = []string{p.shared.SHA}
	}
	if cfg.orasPython != "" {
		for i := 0; i < cfg.orasPushes; i++ {
			f := mk()
			p.oras = append(p.oras, f)
			p.allowed["oci"] = append(p.allowed["oci"], f.SHA)
		}
	}
	return p
}

func countPushes(cfg raceConfig, plans []*containerPlan) int {
	n := 0
	for _, p := range plans {
		n += len(p.sameTag) + cfg.tags + 1 + len(p.oras)
	}
	return n
}

// racePushes starts every push of every plan behind one barrier and returns the failures.
func racePushes(cfg raceConfig, plans []*containerPlan) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		gate = make(chan struct{})
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, p := range plans {
		p := p
		for _, img := range p.sameTag {
			img := img
			run(func() error { return push(ctx, libraryClient(cfg.base, cfg.token), img, p.path, []string{"latest"}) })
		}
		for i := 0; i < cfg.tags; i++ {
			tag := fmt.Sprintf("t%d", i)
			run(func() error { return push(ctx, libraryClient(cfg.base, cfg.token), p.shared, p.path, []string{tag}) })
		}
		// The same image to the same tag, twice at once.
		run(func() error { return push(ctx, libraryClient(cfg.base, cfg.token), p.shared, p.path, []string{"t0"}) })
		for i, img := range p.oras {
			img, chunked := img, i%2 == 1
			run(func() error { return orasPush(ctx, cfg, p.path+":oci", img, chunked) })
		}
	}
	close(gate)
	wg.Wait()
	return errs
}

func orasPush(ctx context.Context, cfg raceConfig, ref string, img *sifFile, chunked bool) error {
	host := strings.TrimPrefix(strings.TrimPrefix(cfg.base, "http://"), "https://")
	args := []string{cfg.orasShell, "push", host, ref, img.Path}
	if chunked {
		args = append(args, "--chunked")
	}
	cmd := exec.CommandContext(ctx, cfg.orasPython, args...)
	cmd.Env = append(os.Environ(), "OCI_USER="+cfg.orasUser, "OCI_TOKEN="+cfg.token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("oras-py push %s (%s): %v: %s", ref, img.SHA[:12], err, truncate(out))
	}
	return nil
}

// What the REST API says about a container.
type restTag struct {
	Name   string `json:"name"`
	Arch   string `json:"arch"`
	SHA256 string `json:"sha256"`
}

type restImage struct {
	SHA256    string   `json:"sha256"`
	SizeBytes int64    `json:"size_bytes"`
	Uploaded  bool     `json:"uploaded"`
	Tags      []string `json:"tags"`
}

type restContainer struct {
	TagsByArch map[string][]restTag `json:"tags_by_arch"`
}

type imagePage struct {
	Items []restImage `json:"items"`
	Next  *string     `json:"next"`
}

// containerImages lists every image record of a container, following the pages.
func containerImages(ctx context.Context, base, token, path string) ([]restImage, error) {
	var all []restImage
	for page := 1; ; page++ {
		var got imagePage
		q := fmt.Sprintf("/api/v1/containers/%s/images?per_page=100&page=%d", path, page)
		if err := getJSON(ctx, base, token, q, &got); err != nil {
			return nil, err
		}
		all = append(all, got.Items...)
		if got.Next == nil || len(got.Items) == 0 {
			return all, nil
		}
	}
}

// checkContainer compares the container's final state with the serial outcomes and pulls
// every tag over each protocol; returns what is wrong.
func checkContainer(cfg raceConfig, p *containerPlan) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var problems []string
	bad := func(format string, args ...interface{}) { problems = append(problems, fmt.Sprintf(format, args...)) }

	images, err := containerImages(ctx, cfg.base, cfg.token, p.path)
	if err != nil {
		return []string{err.Error()}
	}
	seen := map[string]int{}
	for _, im := range images {
		seen[im.SHA256]++
		f, ours := p.pushedBy[im.SHA256]
		switch {
		case !ours:
			bad("image record %s was never pushed here", im.SHA256)
		case !im.Uploaded:
			bad("image %s is not complete (uploaded=false)", im.SHA256[:12])
		case im.SizeBytes != f.Size:
			bad("image %s records %d bytes, the file has %d", im.SHA256[:12], im.SizeBytes, f.Size)
		}
	}
	for sha, n := range seen {
		if n > 1 {
			bad("%d image records for the same content %s", n, sha[:12])
		}
	}
	for sha := range p.pushedBy {
		if seen[sha] == 0 {
			bad("pushed image %s has no record", sha[:12])
		}
	}

	var detail restContainer
	if err := getJSON(ctx, cfg.base, cfg.token, "/api/v1/containers/"+p.path, &detail); err != nil {
		return append(problems, err.Error())
	}
	tagged := map[string][]string{}
	for arch, tags := range detail.TagsByArch {
		for _, t := range tags {
			if arch != "amd64" {
				bad("tag %s has arch %s, only amd64 was pushed", t.Name, arch)
			}
			tagged[t.Name] = append(tagged[t.Name], t.SHA256)
		}
	}
	names := make([]string, 0, len(p.allowed))
	for name := range p.allowed {
		names = append(names, name)
	}
	sort.Strings(names)
	for name := range tagged {
		if _, ok := p.allowed[name]; !ok {
			bad("unexpected tag %s", name)
		}
	}
	final := map[string]string{}
	for _, name := range names {
		shas := tagged[name]
		if len(shas) != 1 {
			bad("tag %s points at %d images, want exactly one", name, len(shas))
			continue
		}
		if !contains(p.allowed[name], shas[0]) {
			bad("tag %s points at %s, which was never pushed to it", name, shas[0][:12])
			continue
		}
		final[name] = shas[0]
	}
	// Every image lists exactly the tags pointing at it.
	for _, im := range images {
		var want []string
		for name, sha := range final {
			if sha == im.SHA256 {
				want = append(want, name)
			}
		}
		got := append([]string(nil), im.Tags...)
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			bad("image %s lists tags [%s], the tags say [%s]", im.SHA256[:12], strings.Join(got, ","), strings.Join(want, ","))
		}
	}
	problems = append(problems, pullEveryTag(ctx, cfg, p.path, final)...)
	return problems
}

// pullEveryTag pulls each tag over the library, shub and OCI protocols at once and checks
// the bytes hash to the tag's image.
func pullEveryTag(ctx context.Context, cfg raceConfig, path string, final map[string]string) []string {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		problems []string
	)
	check := func(how, tag, want string, pull func() (string, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := pull()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s pull of %s: %v", how, tag, err))
			case got != want:
				problems = append(problems, fmt.Sprintf("%s pull of %s: bytes hash to %s, the tag's image is %s", how, tag, got[:12], want[:12]))
			}
		}()
	}
	for tag, sha := range final {
		tag, sha := tag, sha
		check("library", tag, sha, func() (string, error) {
			return pullLibrary(ctx, libraryClient(cfg.base, cfg.token), path, tag)
		})
		check("library by hash", tag, sha, func() (string, error) {
			return pullLibrary(ctx, libraryClient(cfg.base, cfg.token), path, "sha256."+sha)
		})
		check("shub", tag, sha, func() (string, error) { return pullShub(ctx, cfg.base, path, tag) })
		check("OCI", tag, sha, func() (string, error) { return pullOCI(ctx, cfg.base, cfg.token, path, tag) })
	}
	wg.Wait()
	sort.Strings(problems)
	return problems
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
