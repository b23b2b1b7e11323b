package libclient

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apptainer/container-library-client/client"
)

// TestArchTags_TwoArchesOneTag pushes an amd64 and an arm64 SIF into the same
// container under the same tag with the library (UploadImage with the arch
// `apptainer push` reads from the SIF header; the library then posts
// {"Arch","Tag","ImageID"} to v2/tags), and checks that :v1 resolves per
// arch for GetImage and both downloads, and that DeleteImage(:v1, arm64)
// removes only the arm64 image.
func TestArchTags_TwoArchesOneTag(t *testing.T) {
	e := loadEnv(t)
	if e.SIFArm64 == "" {
		t.Fatalf("SILO_SIF_ARM64 not set: this test needs a SIF whose primary partition is arm64 " +
			"(siftool add ... --datatype 4 --parttype 2 --partfs 1 --partarch 4); end2end/run-libclient.sh builds one")
	}
	amd := loadSIF(t, e.SIF)
	arm := loadSIF(t, e.SIFArm64)
	if amd.Arch != "amd64" || arm.Arch != "arm64" {
		t.Fatalf("fixtures: %s is %q and %s is %q, want amd64 and arm64 (sif PrimaryArch)", amd.Path, amd.Arch, arm.Path, arm.Arch)
	}
	if amd.Hash == arm.Hash {
		t.Fatalf("the amd64 and arm64 SIFs have the same hash %s", amd.Hash)
	}
	path := e.User + "/" + e.Collection + "/" + uniqueName("libclient-arch")
	ref := path + ":v1"
	c, _ := newClient(t, e.URL, e.Token)

	ids := map[string]string{} // arch -> image id
	for _, f := range []*sifFixture{amd, arm} {
		f := f
		if !t.Run("UploadImage_"+f.Arch, func(t *testing.T) {
			m := rec.mark()
			if _, err := push(t, c, f, path, []string{"v1"}); err != nil {
				t.Fatalf("UploadImage(%q, arch %s, tags [v1]): %v", path, f.Arch, err)
			}
			exs := rec.since(m)
			t.Logf("requests:%s", formatExchanges(exs, 40))
			checkUploadFlow(t, e, exs, f)
			posted := false
			for _, ex := range exs {
				if ex.Method == "POST" && strings.Contains(ex.Path, "/v2/tags/") {
					posted = true
					if ex.Status != 200 || !strings.Contains(ex.ReqBody, `"Arch":"`+f.Arch+`"`) || !strings.Contains(ex.ReqBody, `"Tag":"v1"`) {
						t.Errorf("tag POST for %s: %s", f.Arch, ex)
					}
				}
			}
			if !posted {
				t.Errorf("no POST v2/tags/{containerID} for arch %s (apiVersion must be >= %s)", f.Arch, client.APIVersionV2ArchTags)
			}
		}) {
			t.FailNow()
		}
	}

	t.Run("GetImage_PerArch", func(t *testing.T) {
		for _, f := range []*sifFixture{amd, arm} {
			got, err := c.GetImage(opCtx(t), f.Arch, ref)
			if err != nil {
				t.Fatalf("GetImage(%s, arch %s): %v", ref, f.Arch, err)
			}
			checkImage(t, "GetImage(:v1, arch "+f.Arch+")", got, f)
			ids[f.Arch] = got.ID
		}
		if ids["amd64"] == ids["arm64"] {
			t.Errorf(":v1 resolves to the same image %s for amd64 and arm64", ids["amd64"])
		}
	})
	if len(ids) != 2 {
		t.FailNow()
	}

	t.Run("ArchTagMap", func(t *testing.T) {
		// What the library reads back (GET v2/tags/{containerID}) before it
		// sets a tag: both arches carry v1.
		img, err := c.GetImage(opCtx(t), amd.Arch, ref)
		if err != nil {
			t.Fatal(err)
		}
		var tags client.ArchTagMap
		raw(t, e, "GET", "v2/tags/"+img.Container, e.Token, nil, nil).data(t, "GET v2/tags/{containerID}", &tags)
		b, _ := json.Marshal(tags)
		t.Logf("v2/tags/%s: %s", img.Container, b)
		for arch, id := range ids {
			if tags[arch]["v1"] != id {
				t.Errorf("archTags[%s][v1] = %q, want %q", arch, tags[arch]["v1"], id)
			}
		}
	})

	for _, f := range []*sifFixture{amd, arm} {
		f := f
		t.Run("DownloadImage_"+f.Arch, func(t *testing.T) {
			pullAndCompare(t, e, c, f, f.Arch, path, "v1", nil)
		})
		t.Run("ConcurrentDownloadImage_"+f.Arch, func(t *testing.T) {
			pullAndCompare(t, e, c, f, f.Arch, path, "v1", &client.Downloader{Concurrency: 2, PartSize: 1 << 20, BufferSize: 32 << 10})
		})
	}

	t.Run("DeleteImage_v1_arm64_Only", func(t *testing.T) {
		m := rec.mark()
		if err := c.DeleteImage(opCtx(t), ref, "arm64"); err != nil {
			t.Fatalf("DeleteImage(%s, arm64): %v", ref, err)
		}
		t.Logf("requests:%s", formatExchanges(rec.since(m), 5))

		if img, err := c.GetImage(opCtx(t), "arm64", ref); err == nil {
			t.Errorf("GetImage(%s, arm64) after the delete = image %s (%s), want not found", ref, img.ID, img.Hash)
		} else if !errors.Is(err, client.ErrNotFound) {
			t.Errorf("GetImage(%s, arm64) after the delete: %v, want client.ErrNotFound", ref, err)
		}
		fh, err := os.Create(filepath.Join(t.TempDir(), "gone.sif"))
		if err != nil {
			t.Fatal(err)
		}
		derr := c.DownloadImage(opCtx(t), fh, "arm64", path, "v1", nil)
		fh.Close()
		if derr == nil || !strings.Contains(derr.Error(), "not found") {
			t.Errorf("DownloadImage(%s, arm64) after the delete: err = %v, want \"requested image was not found\"", ref, derr)
		}

		got, err := c.GetImage(opCtx(t), "amd64", ref)
		if err != nil {
			t.Fatalf("GetImage(%s, amd64) after deleting the arm64 image: %v", ref, err)
		}
		checkImage(t, "GetImage(:v1, amd64) after deleting arm64", got, amd)
		if got.ID != ids["amd64"] {
			t.Errorf(":v1 amd64 now resolves to %s, want %s", got.ID, ids["amd64"])
		}
		pullAndCompare(t, e, c, amd, "amd64", path, "v1", nil)

		// Informational: whether the arm64 image survives by hash is server
		// policy (the Sylabs library deletes the image the ref resolves to).
		if img, err := c.GetImage(opCtx(t), "arm64", path+":"+arm.Hash); err != nil {
			t.Logf("after the delete, GetImage(:%s) -> %v", arm.Hash, err)
		} else {
			t.Logf("after the delete, the arm64 image is still reachable by hash: id=%s uploaded=%v", img.ID, img.Uploaded)
		}
	})
}
