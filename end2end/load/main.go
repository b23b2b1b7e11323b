// Command silo-load drives a running Silo with real clients from a second process:
//
//	silo-load race -url URL -token TOKEN -entity USER [-oras-python PY -oras-script end2end/oci_client.py -oras-user USER]
//	silo-load load -url URL -token TOKEN -entity USER [-clients 200] [-duration 60s]
//
// `race` is the concurrency test (race.go): pushes of different images under one tag and of
// one image under many tags, at once, on several fresh containers; the final state must be a
// serial outcome and every pull must hash correctly. `load` is the load test (load.go): many
// clients mixing pushes, pulls, searches and page loads for a while; it reports requests/s,
// latency percentiles per kind, bytes moved and errors, and fails on any error or corrupt
// download. Both exit 1 on failure, 2 on bad usage.
//
// It builds offline against Debian's Go packages (see go.mod and end2end/run-concurrency.sh).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: silo-load race|load [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "race":
		runRace(os.Args[2:])
	case "load":
		runLoad(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "silo-load: unknown command %q (race, load)\n", os.Args[1])
		os.Exit(2)
	}
}
