// Package keyclient drives Silo's HKP keyserver with Apptainer's key client.
//
// Environment (set by ../run-keyserver.sh):
//
//	SILO_KEYSERVER  base URL; its host must be "localhost" for the client to send a
//	                token over plain http
//	SILO_TOKEN      a push-scoped token
//	SILO_KEY_FILE   an ASCII-armoured public key (not yet on the server)
//	SILO_KEY_FPR    its fingerprint, 40 hex digits
//	SILO_KEY_EMAIL  the e-mail address in its user ID
package keyclient

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apptainer/container-key-client/client"
)

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set", name)
	}
	return v
}

func newClient(t *testing.T, token string) *client.Client {
	t.Helper()
	opts := []client.Option{client.OptBaseURL(env(t, "SILO_KEYSERVER")), client.OptUserAgent("silo-e2e-keyclient/1")}
	if token != "" {
		opts = append(opts, client.OptBearerToken(token))
	}
	c, err := client.NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func wantStatus(t *testing.T, err error, code int) {
	t.Helper()
	var httpErr *client.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Code() != code {
		t.Fatalf("want HTTP %d, got %v", code, err)
	}
}

func TestKeyPushPullSearch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keyText, err := os.ReadFile(env(t, "SILO_KEY_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	fpr := strings.ToUpper(env(t, "SILO_KEY_FPR"))
	email := env(t, "SILO_KEY_EMAIL")
	fprBytes, err := hex.DecodeString(fpr)
	if err != nil || len(fprBytes) != 20 {
		t.Fatalf("bad fingerprint %q", fpr)
	}
	anonymous := newClient(t, "")
	authed := newClient(t, env(t, "SILO_TOKEN"))

	// `apptainer key push` without a token: refused.
	wantStatus(t, anonymous.PKSAdd(ctx, string(keyText)), http.StatusUnauthorized)
	_, err = anonymous.GetKey(ctx, fprBytes)
	wantStatus(t, err, http.StatusNotFound)

	// With the remote's token (sent as "BEARER <token>"), twice: idempotent.
	for i := 0; i < 2; i++ {
		if err := authed.PKSAdd(ctx, string(keyText)); err != nil {
			t.Fatalf("PKSAdd with token (attempt %d): %v", i+1, err)
		}
	}

	// What signature verification on pull does: GetKey by fingerprint (exact=on, op=get),
	// anonymously and with the token; also by the 8- and 4-byte key IDs.
	for _, c := range []*client.Client{anonymous, authed} {
		for _, id := range [][]byte{fprBytes, fprBytes[12:], fprBytes[16:]} {
			armored, err := c.GetKey(ctx, id)
			if err != nil {
				t.Fatalf("GetKey(%X): %v", id, err)
			}
			if strings.Count(armored, "-----BEGIN PGP PUBLIC KEY BLOCK-----") != 1 {
				t.Fatalf("GetKey(%X) returned no single armoured key:\n%s", id, armored)
			}
		}
	}

	// `apptainer key search`: the machine-readable index.
	index, err := anonymous.PKSLookup(ctx, nil, email, client.OperationIndex, true, false,
		[]string{client.OptionMachineReadable})
	if err != nil {
		t.Fatalf("PKSLookup index: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(index), "\n")
	if lines[0] != "info:1:1" || !strings.HasPrefix(lines[1], "pub:"+fpr+":") {
		t.Fatalf("unexpected index:\n%s", index)
	}
	if !strings.Contains(index, "uid:") || !strings.Contains(index, email) {
		t.Fatalf("index lacks the user ID:\n%s", index)
	}

	// Unknown keys and bad searches.
	_, err = anonymous.PKSLookup(ctx, nil, "nobody@nowhere.invalid", client.OperationIndex, true, true,
		[]string{client.OptionMachineReadable})
	wantStatus(t, err, http.StatusNotFound)
	_, err = anonymous.GetKey(ctx, make([]byte, 20))
	wantStatus(t, err, http.StatusNotFound)
	_, err = anonymous.GetKey(ctx, make([]byte, 16)) // a v3 (MD5) fingerprint: not supported
	wantStatus(t, err, http.StatusBadRequest)
}
