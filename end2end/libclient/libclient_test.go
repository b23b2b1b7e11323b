package libclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apptainer/container-library-client/client"
	"github.com/blang/semver/v4"
	"github.com/sylabs/sif/v2/pkg/sif"
)

// TestSIFFixture checks the SIF under test the way Apptainer would see it
// before a push: a valid SIF whose header (primary system partition) says
// amd64, and the library's own ImageHash of it.
func TestSIFFixture(t *testing.T) {
	e := loadEnv(t)
	f := loadSIF(t, e.SIF)
	if f.Arch != wantArch {
		t.Errorf("sif PrimaryArch() = %q, want %q (add the rootfs with siftool add --datatype 4 --parttype 2 --partarch 2)", f.Arch, wantArch)
	}
	fi, err := sif.LoadContainerFromPath(f.Path, sif.OptLoadWithFlag(os.O_RDONLY))
	if err != nil {
		t.Fatal(err)
	}
	defer fi.UnloadContainer()
	ds, err := fi.GetDescriptors(sif.WithPartitionType(sif.PartPrimSys))
	if err != nil || len(ds) != 1 {
		t.Fatalf("want exactly one primary system partition, got %d (err %v)", len(ds), err)
	}
	_, _, arch, err := ds[0].PartitionMetadata()
	if err != nil || arch != wantArch {
		t.Errorf("primary partition arch = %q (err %v), want %q", arch, err, wantArch)
	}
	h, err := client.ImageHash(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if h != f.Hash {
		t.Errorf("client.ImageHash = %q, want %q", h, f.Hash)
	}
	t.Logf("SIF %s: %d bytes, %s, arch %s, id %s", f.Path, f.Size, f.Hash, f.Arch, fi.ID())
}

// TestServerVersion checks GET /version through the library: apiVersion must
// be semver >= 2.0.0-alpha.2, otherwise the client silently falls back to the
// legacy v1 upload and non-arch tags.
func TestServerVersion(t *testing.T) {
	e := loadEnv(t)
	c, _ := newClient(t, e.URL, e.Token)
	vi, err := c.GetVersion(opCtx(t))
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	t.Logf("version=%q apiVersion=%q", vi.Version, vi.APIVersion)
	v, err := semver.Make(vi.APIVersion)
	if err != nil {
		t.Fatalf("apiVersion %q is not bare semver: %v", vi.APIVersion, err)
	}
	for _, min := range []string{client.APIVersionV2Upload, client.APIVersionV2ArchTags} {
		if v.LT(semver.MustParse(min)) {
			t.Errorf("apiVersion %s < %s: the client will not use that feature", v, min)
		}
	}
}

// TestLibraryClientRoundTrip pushes, inspects, re-pushes, pulls, searches,
// retags and deletes one image, in that order, with the library's exported
// functions only.
func TestLibraryClientRoundTrip(t *testing.T) {
	e := loadEnv(t)
	f := loadSIF(t, e.SIF)
	if f.Arch != wantArch {
		t.Fatalf("SIF arch %q, want %q (see TestSIFFixture)", f.Arch, wantArch)
	}
	name := uniqueName("libclient")
	path := e.User + "/" + e.Collection + "/" + name // push/pull path, no tag
	refV1 := path + ":v1"
	refV2 := path + ":v2"
	t.Logf("image under test: library://%s (%d bytes, %s)", refV1, f.Size, f.Hash)

	var img *client.Image // as returned by GetImage(:v1) after the first push
	uploadURLs := map[string]bool{}

	mustStep := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.Fatalf("step %s failed; the remaining steps depend on it", name)
		}
	}

	mustStep("UploadImage_FirstPush", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		m := rec.mark()
		res, err := push(t, c, f, path, []string{"v1"})
		exs := rec.since(m)
		t.Logf("requests of the first push:%s", formatExchanges(exs, 60))
		if err != nil {
			t.Fatalf("UploadImage(%q, arch %s, tags [v1]): %v", path, f.Arch, err)
		}
		if res != nil {
			t.Logf("upload complete: containerUrl=%q quotaTotal=%d quotaUsage=%d", res.ContainerURL, res.Quota.QuotaTotalBytes, res.Quota.QuotaUsageBytes)
		}
		if n := bytesSent(exs); n < f.Size {
			t.Errorf("first push sent %d request-body bytes, less than the %d-byte SIF: the image was never uploaded", n, f.Size)
		}
		flow := checkUploadFlow(t, e, exs, f)
		if flow.Multipart {
			t.Logf("multipart upload: %d parts of %d bytes, %d part PUTs", flow.TotalParts, flow.PartSize, flow.PartPUTs)
		}
		for _, ex := range exs {
			if ex.Method == "PUT" && ex.Auth == "" {
				uploadURLs[ex.URL] = true // the (presigned-style) upload URL(s)
			}
		}
	})

	t.Run("GetImage_v1", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		got, err := c.GetImage(opCtx(t), f.Arch, refV1)
		if err != nil {
			t.Fatalf("GetImage(%q): %v", refV1, err)
		}
		img = got
		checkImage(t, "GetImage(:v1)", got, f)
	})
	if img == nil {
		t.Fatalf("GetImage(%q) failed; the remaining steps need the image id", refV1)
	}

	t.Run("GetImage_ByHash", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		ref := path + ":" + f.Hash
		got, err := c.GetImage(opCtx(t), f.Arch, ref)
		if err != nil {
			t.Fatalf("GetImage(%q): %v", ref, err)
		}
		checkImage(t, "GetImage(:sha256.<hex>)", got, f)
		if got.ID != img.ID {
			t.Errorf("hash lookup gave image id %q, tag lookup gave %q", got.ID, img.ID)
		}
	})

	t.Run("UploadImage_SecondPush_SendsNoBytes", func(t *testing.T) {
		c, lg := newClient(t, e.URL, e.Token)
		lm := lg.mark()
		m := rec.mark()
		_, err := push(t, c, f, path, []string{"v1"})
		exs := rec.since(m)
		t.Logf("requests of the second push:%s", formatExchanges(exs, 60))
		if err != nil {
			t.Fatalf("second UploadImage: %v", err)
		}
		for _, ex := range exs {
			if why := uploadRequest(ex, uploadURLs); why != "" {
				t.Errorf("second push of identical content uploaded again: %s: %s", why, ex)
			}
		}
		if n := bytesSent(exs); n >= 64*1024 {
			t.Errorf("second push sent %d request-body bytes", n)
		}
		if !lg.saidSince(lm, "Image is already present in the library - not uploading.") {
			t.Errorf("library did not report \"Image is already present in the library\": GET %s:%s must return uploaded=true", path, f.Hash)
		}
		got, err := c.GetImage(opCtx(t), f.Arch, refV1)
		if err != nil {
			t.Fatalf("GetImage(%q) after re-push: %v", refV1, err)
		}
		if got.ID != img.ID {
			t.Errorf("re-push changed :v1 from image %q to %q", img.ID, got.ID)
		}
	})

	t.Run("DownloadImage_v1", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		pullAndCompare(t, e, c, f, f.Arch, path, "v1", nil)
	})

	t.Run("ConcurrentDownloadImage_v1", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		spec := &client.Downloader{Concurrency: 3, PartSize: 1 << 20, BufferSize: 32 << 10}
		if f.Size > 16<<20 {
			spec = &apptainerDownloader
		}
		pullAndCompare(t, e, c, f, f.Arch, path, "v1", spec)
	})

	t.Run("Search_ByNameAndArch", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		// `apptainer search` always sends arch.
		res, err := c.Search(opCtx(t), map[string]string{"value": name, "arch": f.Arch})
		if err != nil {
			t.Fatalf("Search(value=%q, arch=%s): %v", name, f.Arch, err)
		}
		var found *client.Image
		for i := range res.Images {
			if res.Images[i].ID == img.ID {
				found = &res.Images[i]
			}
		}
		if found == nil {
			t.Fatalf("image %s not among %d image results: %+v", img.ID, len(res.Images), res.Images)
		}
		if found.EntityName != e.User || found.CollectionName != e.Collection || found.ContainerName != name {
			t.Errorf("search image names = %q/%q/%q, want %q/%q/%q",
				found.EntityName, found.CollectionName, found.ContainerName, e.User, e.Collection, name)
		}
		if found.Hash != f.Hash {
			t.Errorf("search image hash = %q, want %q", found.Hash, f.Hash)
		}
		if !contains(found.Tags, "v1") {
			t.Errorf("search image tags = %v, want them to include v1 (apptainer prints them)", found.Tags)
		}
		t.Logf("found library://%s/%s/%s:%s", found.EntityName, found.CollectionName, found.ContainerName, strings.Join(found.Tags, ","))
	})

	t.Run("Search_ByNameOnly", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		res, err := c.Search(opCtx(t), map[string]string{"value": name})
		if err != nil {
			t.Fatalf("Search(value=%q): %v", name, err)
		}
		ok := false
		for _, ct := range res.Containers {
			if ct.Name == name {
				ok = true
				t.Logf("container result: %s entity=%q collection=%q", ct.Name, ct.EntityName, ct.CollectionName)
			}
		}
		for _, im := range res.Images {
			if im.ID == img.ID {
				ok = true
			}
		}
		if !ok {
			t.Errorf("neither container %q nor image %s found: %d entities, %d collections, %d containers, %d images",
				name, img.ID, len(res.Entities), len(res.Collections), len(res.Containers), len(res.Images))
		}
	})

	t.Run("AnonymousPull", func(t *testing.T) {
		// `apptainer pull library://host/e/c/n` sends no token at all.
		c, _ := newClient(t, e.URL, "")
		got, err := c.GetImage(opCtx(t), f.Arch, refV1)
		if e.AnonPull {
			if err != nil {
				t.Fatalf("anonymous GetImage(%q): %v (set SILO_ANON_PULL=0 if Silo is private by design)", refV1, err)
			}
			checkImage(t, "anonymous GetImage", got, f)
			pullAndCompare(t, e, c, f, f.Arch, path, "v1", nil)
			return
		}
		out := filepath.Join(t.TempDir(), "anon.sif")
		fh, ferr := os.Create(out)
		if ferr != nil {
			t.Fatal(ferr)
		}
		derr := c.DownloadImage(opCtx(t), fh, f.Arch, path, "v1", nil)
		fh.Close()
		if err == nil {
			t.Errorf("anonymous GetImage succeeded, but SILO_ANON_PULL=0 says it must be refused")
		}
		if derr == nil {
			t.Errorf("anonymous DownloadImage succeeded, but SILO_ANON_PULL=0 says it must be refused")
		}
	})

	// container-library-client 1.2.2 exports no SetTags: tags are set by
	// UploadImage (unexported setTagsV2: GET v2/tags/{id}, POST v2/tags/{id}
	// {"Arch","Tag","ImageID"}). A push of an already uploaded image is how
	// Apptainer adds a tag, so that is the retag.
	mustStep("SetTags_v2_ViaUploadImage", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		m := rec.mark()
		_, err := push(t, c, f, path, []string{"v2"})
		exs := rec.since(m)
		t.Logf("requests of the retag:%s", formatExchanges(exs, 60))
		if err != nil {
			t.Fatalf("UploadImage(%q, tags [v2]): %v", path, err)
		}
		tagged := false
		for _, ex := range exs {
			if why := uploadRequest(ex, uploadURLs); why != "" {
				t.Errorf("retag uploaded image bytes: %s: %s", why, ex)
			}
			if ex.Method == "POST" && strings.Contains(ex.Path, "/tags/") && ex.Status == 200 {
				tagged = true
				if strings.Contains(ex.Path, "/v2/tags/") && !strings.Contains(ex.ReqBody, `"Arch":"`+f.Arch+`"`) {
					t.Errorf("v2 tag body without arch %s: %s", f.Arch, ex.ReqBody)
				}
			}
		}
		if !tagged {
			t.Errorf("no successful POST .../tags/{containerID} during the retag")
		}
	})

	t.Run("GetImage_v2_SameImage", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		got, err := c.GetImage(opCtx(t), f.Arch, refV2)
		if err != nil {
			t.Fatalf("GetImage(%q): %v", refV2, err)
		}
		checkImage(t, "GetImage(:v2)", got, f)
		if got.ID != img.ID {
			t.Errorf(":v2 resolves to image %q, want %q (the :v1 image)", got.ID, img.ID)
		}
		again, err := c.GetImage(opCtx(t), f.Arch, refV1)
		if err != nil {
			t.Fatalf("GetImage(%q) after adding v2: %v", refV1, err)
		}
		if again.ID != img.ID {
			t.Errorf("adding v2 moved :v1 to image %q", again.ID)
		}
	})

	t.Run("DeleteImage_WithoutToken_Rejected", func(t *testing.T) {
		c, _ := newClient(t, e.URL, "")
		if err := c.DeleteImage(opCtx(t), refV1, f.Arch); err == nil {
			t.Errorf("anonymous DeleteImage(%q) succeeded", refV1)
		} else {
			t.Logf("refused as expected: %v", err)
		}
		stillThere(t, e, f, refV1, img.ID)
	})

	t.Run("DeleteImage_OtherUser_Rejected", func(t *testing.T) {
		if e.OtherToken == "" {
			t.Skip("SILO_OTHER_TOKEN not set")
		}
		c, _ := newClient(t, e.URL, e.OtherToken)
		if err := c.DeleteImage(opCtx(t), refV1, f.Arch); err == nil {
			t.Errorf("DeleteImage(%q) with another user's token succeeded", refV1)
		} else {
			t.Logf("refused as expected: %v", err)
		}
		stillThere(t, e, f, refV1, img.ID)
	})

	t.Run("DeleteImage_v1", func(t *testing.T) {
		c, _ := newClient(t, e.URL, e.Token)
		m := rec.mark()
		err := c.DeleteImage(opCtx(t), refV1, f.Arch)
		t.Logf("requests:%s", formatExchanges(rec.since(m), 10))
		if err != nil {
			t.Fatalf("DeleteImage(%q, %s): %v", refV1, f.Arch, err)
		}
		requireNotFound(t, c, refV1)

		fh, err := os.Create(filepath.Join(t.TempDir(), "gone.sif"))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if err := c.DownloadImage(opCtx(t), fh, f.Arch, path, "v1", nil); err == nil {
			t.Errorf("DownloadImage(%q, v1) succeeded after DeleteImage", path)
		}
		// Informational: whether :v2 survives is server policy (the Sylabs
		// library deletes the image that the ref resolves to).
		if got, err := c.GetImage(opCtx(t), f.Arch, refV2); err != nil {
			t.Logf("after deleting :v1, GetImage(:v2) -> %v", err)
		} else {
			t.Logf("after deleting :v1, :v2 still resolves to image %s", got.ID)
		}
	})
}

func stillThere(t *testing.T, e env, f *sifFixture, ref, id string) {
	t.Helper()
	c, _ := newClient(t, e.URL, e.Token)
	got, err := c.GetImage(opCtx(t), f.Arch, ref)
	if err != nil {
		t.Fatalf("GetImage(%q) after the refused delete: %v", ref, err)
	}
	if got.ID != id {
		t.Errorf("%s now resolves to %q, want %q", ref, got.ID, id)
	}
}

// TestPushSameFileToSecondContainer pushes the same bytes under a second
// name. The server may deduplicate storage (then it answers uploaded=true and
// nothing is sent) or take the bytes again; either way the pull must match.
func TestPushSameFileToSecondContainer(t *testing.T) {
	e := loadEnv(t)
	f := loadSIF(t, e.SIF)
	path := e.User + "/" + e.Collection + "/" + uniqueName("libclient-dup")
	c, _ := newClient(t, e.URL, e.Token)
	m := rec.mark()
	if _, err := push(t, c, f, path, []string{"v1"}); err != nil {
		t.Fatalf("UploadImage(%q): %v", path, err)
	}
	t.Logf("push sent %d request-body bytes (SIF is %d)", bytesSent(rec.since(m)), f.Size)
	got, err := c.GetImage(opCtx(t), f.Arch, path+":v1")
	if err != nil {
		t.Fatalf("GetImage: %v", err)
	}
	checkImage(t, "GetImage(second container :v1)", got, f)
	pullAndCompare(t, e, c, f, f.Arch, path, "v1", nil)
}

// TestGetImageNotFound: unknown entity, container or tag all give
// client.ErrNotFound (i.e. HTTP 404), and the download says "not found".
func TestGetImageNotFound(t *testing.T) {
	e := loadEnv(t)
	c, _ := newClient(t, e.URL, e.Token)
	missing := uniqueName("nosuch")
	for _, ref := range []string{
		missing + "/" + e.Collection + "/" + missing + ":latest",
		e.User + "/" + e.Collection + "/" + missing + ":latest",
		e.User + "/" + e.Collection + "/" + missing + ":sha256." + strings.Repeat("0", 64),
	} {
		ref := ref
		t.Run(ref, func(t *testing.T) { requireNotFound(t, c, ref) })
	}
	t.Run("DownloadImage", func(t *testing.T) {
		fh, err := os.Create(filepath.Join(t.TempDir(), "x.sif"))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		err = c.DownloadImage(opCtx(t), fh, wantArch, e.User+"/"+e.Collection+"/"+missing, "latest", nil)
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("DownloadImage of a missing image: err = %v, want \"requested image was not found in the library\" (HTTP 404)", err)
		}
	})
}

func TestUploadRejectedWithoutToken(t *testing.T) {
	e := loadEnv(t)
	uploadRejected(t, e, "")
}

func TestUploadRejectedWithWrongToken(t *testing.T) {
	e := loadEnv(t)
	// Long enough to pass `apptainer remote login` (>= 200 chars).
	uploadRejected(t, e, "silo-e2e-wrong-"+strings.Repeat("0123456789abcdef", 16))
}

func TestUploadRejectedForOtherUsersToken(t *testing.T) {
	e := loadEnv(t)
	if e.OtherToken == "" {
		t.Skip("SILO_OTHER_TOKEN not set")
	}
	uploadRejected(t, e, e.OtherToken)
}

// TestOtherUserCanPushOwnEntity is the positive control for
// TestUploadRejectedForOtherUsersToken: the second token is valid.
func TestOtherUserCanPushOwnEntity(t *testing.T) {
	e := loadEnv(t)
	if e.OtherToken == "" || e.OtherUser == "" {
		t.Skip("SILO_OTHER_TOKEN / SILO_OTHER_USER not set")
	}
	f := loadSIF(t, e.SIF)
	c, _ := newClient(t, e.URL, e.OtherToken)
	path := e.OtherUser + "/" + e.Collection + "/" + uniqueName("libclient-own")
	if _, err := push(t, c, f, path, []string{"v1"}); err != nil {
		t.Fatalf("%s pushing into own entity: %v", e.OtherUser, err)
	}
	got, err := c.GetImage(opCtx(t), f.Arch, path+":v1")
	if err != nil {
		t.Fatalf("GetImage: %v", err)
	}
	checkImage(t, "GetImage(other user's own image)", got, f)
}

// uploadRejected pushes into SILO_USER's entity with badToken and expects
// every variant to fail without leaving a tag or image behind.
func uploadRejected(t *testing.T, e env, badToken string) {
	f := loadSIF(t, e.SIF)
	good, _ := newClient(t, e.URL, e.Token)
	bad, _ := newClient(t, e.URL, badToken)

	// An existing container owned by SILO_USER, pushed with the right token.
	base := e.User + "/" + e.Collection + "/" + uniqueName("libclient-neg")
	if _, err := push(t, good, f, base, []string{"base"}); err != nil {
		t.Fatalf("setup: UploadImage(%q) with SILO_TOKEN: %v", base, err)
	}

	t.Run("NewContainer", func(t *testing.T) {
		p := e.User + "/" + e.Collection + "/" + uniqueName("libclient-neg")
		m := rec.mark()
		_, err := push(t, bad, f, p, []string{"evil"})
		t.Logf("requests:%s", formatExchanges(rec.since(m), 20))
		if err == nil {
			t.Fatalf("UploadImage(%q) succeeded", p)
		}
		t.Logf("refused as expected: %v", err)
		requireNotFound(t, good, p+":evil")
		requireNotFound(t, good, p+":"+f.Hash)
	})

	t.Run("NewCollection", func(t *testing.T) {
		p := e.User + "/" + uniqueName("coll") + "/" + uniqueName("libclient-neg")
		_, err := push(t, bad, f, p, []string{"evil"})
		if err == nil {
			t.Fatalf("UploadImage(%q) succeeded", p)
		}
		t.Logf("refused as expected: %v", err)
		requireNotFound(t, good, p+":evil")
	})

	t.Run("ExistingContainer_NewTag", func(t *testing.T) {
		// The image is already uploaded: only the tag POST is left to refuse.
		m := rec.mark()
		_, err := push(t, bad, f, base, []string{"evil"})
		t.Logf("requests:%s", formatExchanges(rec.since(m), 20))
		if err == nil {
			t.Fatalf("UploadImage(%q, tags [evil]) succeeded", base)
		}
		t.Logf("refused as expected: %v", err)
		requireNotFound(t, good, base+":evil")
		if _, err := good.GetImage(opCtx(t), f.Arch, base+":base"); err != nil {
			t.Errorf("GetImage(%s:base) after the refused push: %v", base, err)
		}
	})

	t.Run("ExistingContainer_NewImage", func(t *testing.T) {
		v := makeVariantSIF(t, 256)
		m := rec.mark()
		_, err := push(t, bad, v, base, []string{"evil2"})
		t.Logf("requests:%s", formatExchanges(rec.since(m), 20))
		if err == nil {
			t.Fatalf("UploadImage(%q) of new content succeeded", base)
		}
		t.Logf("refused as expected: %v", err)
		requireNotFound(t, good, base+":evil2")
		requireNotFound(t, good, base+":"+v.Hash)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func toString(v interface{}) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "panic"
}
