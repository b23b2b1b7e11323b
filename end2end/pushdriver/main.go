// Command pushdriver pushes one SIF image into a Silo (or any Sylabs library API) with
// Apptainer's own Go library client, exactly as `apptainer push` does, so browser tests can
// make a real push while a page is open.
//
//	pushdriver -url http://127.0.0.1:18091 -token "$TOKEN" \
//	    -ref alice/e2e/live:latest -file image.sif
//
// With -pull OUT it pulls the image instead (DownloadImage, as `apptainer pull library://`)
// and writes it to OUT.
//
// It builds offline against Debian's Go packages like ../libclient (see go.mod):
//
//	GOFLAGS="-mod=readonly -overlay=$PWD/gomod-overlay.json" GOPROXY=off \
//	    GOSUMDB=off go build -o pushdriver .
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apptainer/container-library-client/client"
)

func main() {
	url := flag.String("url", "", "base URL of the registry, e.g. http://127.0.0.1:8080")
	token := flag.String("token", "", "API token (or the environment variable SILO_TOKEN)")
	ref := flag.String("ref", "", "entity/collection/container[:tag] to push to (tag default latest)")
	file := flag.String("file", "", "SIF file to push")
	arch := flag.String("arch", "amd64", "architecture of the image")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	pull := flag.String("pull", "", "pull the image to this file instead of pushing -file")
	flag.Parse()
	if *token == "" {
		*token = strings.TrimSpace(os.Getenv("SILO_TOKEN"))
	}
	if *url == "" || *token == "" || *ref == "" || (*file == "") == (*pull == "") || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: pushdriver -url URL -token TOKEN -ref entity/collection/container[:tag] -file image.sif|-pull out.sif")
		os.Exit(2)
	}
	path, tag := *ref, "latest"
	if i := strings.LastIndex(*ref, ":"); i >= 0 {
		path, tag = (*ref)[:i], (*ref)[i+1:]
	}
	if strings.Count(path, "/") != 2 || tag == "" {
		fmt.Fprintf(os.Stderr, "pushdriver: -ref %q is not entity/collection/container[:tag]\n", *ref)
		os.Exit(2)
	}
	if *pull != "" {
		if err := download(*url, *token, path, tag, *arch, *pull, *timeout); err != nil {
			fmt.Fprintf(os.Stderr, "pushdriver: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := push(*url, *token, path, tag, *arch, *file, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "pushdriver: %v\n", err)
		os.Exit(1)
	}
}

func push(url, token, path, tag, arch, file string, timeout time.Duration) error {
	c, err := client.NewClient(&client.Config{
		BaseURL:   strings.TrimRight(url, "/"),
		AuthToken: token,
		UserAgent: "silo-e2e-pushdriver/1 (container-library-client 1.2.2)",
	})
	if err != nil {
		return fmt.Errorf("client for %s: %w", url, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done, err := c.UploadImage(ctx, f, path, arch, []string{tag}, "pushed by the end-to-end push driver", nil)
	if err != nil {
		return fmt.Errorf("UploadImage(%s:%s): %w", path, tag, err)
	}
	where := ""
	if done != nil {
		where = " " + done.ContainerURL
	}
	fmt.Printf("pushed %s:%s%s\n", path, tag, where)
	return nil
}

func download(url, token, path, tag, arch, out string, timeout time.Duration) error {
	c, err := client.NewClient(&client.Config{
		BaseURL:   strings.TrimRight(url, "/"),
		AuthToken: token,
		UserAgent: "silo-e2e-pushdriver/1 (container-library-client 1.2.2)",
	})
	if err != nil {
		return fmt.Errorf("client for %s: %w", url, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.DownloadImage(ctx, f, arch, path, tag, nil); err != nil {
		f.Close()
		return fmt.Errorf("DownloadImage(%s:%s): %w", path, tag, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("pulled %s:%s to %s\n", path, tag, out)
	return nil
}
