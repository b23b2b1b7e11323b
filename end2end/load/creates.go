package main

// Raw races on the library API's create calls, which Apptainer's client makes as
// get-then-create (so concurrent first pushes race on them): N identical container creates
// at once must all succeed with the same container (a create of what exists returns it to
// a caller allowed to create it; never a 409 or a 5xx), and image creates of the same hash
// must all answer the same record ("the same content twice gives the same record").

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

type createAnswer struct {
	status int
	id     string
	body   string
	err    error
}

func postLibrary(ctx context.Context, base, token, path string, body interface{}) createAnswer {
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(string(data)))
	if err != nil {
		return createAnswer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return createAnswer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return createAnswer{err: err}
	}
	var parsed struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &parsed)
	a := createAnswer{status: resp.StatusCode, id: parsed.Data.ID, body: truncate(raw)}
	if resp.StatusCode != http.StatusOK && (parsed.Error == nil || parsed.Error.Code != resp.StatusCode) {
		a.err = fmt.Errorf("status %d without the library error envelope: %s", resp.StatusCode, a.body)
	}
	return a
}

// all runs f n times at once.
func all(n int, f func() createAnswer) []createAnswer {
	out := make([]createAnswer, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range out {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			out[i] = f()
		}(i)
	}
	close(gate)
	wg.Wait()
	return out
}

// raceCreates checks the create races in the collection entity/collection (which exists).
func raceCreates(cfg raceConfig, entity, collection string, img *sifFile) []string {
	ctx := context.Background()
	var problems []string
	var coll struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := getJSON(ctx, cfg.base, cfg.token, "/v1/collections/"+entity+"/"+collection, &coll); err != nil {
		return []string{err.Error()}
	}
	const n = 16
	answers := all(n, func() createAnswer {
		return postLibrary(ctx, cfg.base, cfg.token, "/v1/containers",
			map[string]string{"name": "created-at-once", "collection": coll.Data.ID})
	})
	containers := map[string]int{}
	containerID := ""
	for _, a := range answers {
		switch {
		case a.err != nil:
			problems = append(problems, fmt.Sprintf("concurrent container create: %v", a.err))
		case a.status == http.StatusOK && a.id != "":
			containers[a.id]++
			containerID = a.id
		default:
			problems = append(problems, fmt.Sprintf("concurrent container create: status %d: %s", a.status, a.body))
		}
	}
	if len(containers) != 1 || containers[containerID] != n {
		problems = append(problems, fmt.Sprintf("%d concurrent creates of one container: answers %v; want all %d with one id", n, containers, n))
	}
	if containerID == "" {
		return problems
	}
	answers = all(n, func() createAnswer {
		return postLibrary(ctx, cfg.base, cfg.token, "/v1/images",
			map[string]string{"hash": "sha256." + img.SHA, "container": containerID})
	})
	ids := map[string]int{}
	for _, a := range answers {
		if a.err != nil || a.status != http.StatusOK {
			problems = append(problems, fmt.Sprintf("concurrent image create of one hash: status %d: %v %s", a.status, a.err, a.body))
			continue
		}
		ids[a.id]++
	}
	if len(ids) > 1 {
		problems = append(problems, fmt.Sprintf("%d concurrent creates of one image gave %d different records", n, len(ids)))
	}
	return problems
}
