package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

var boxIDRE = regexp.MustCompile(`^box-[0-9a-f]{12}$`)

func TestBoxLifecycle(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)

	b := c.createBox(api.CreateBoxRequest{Image: "busybox", Name: "life", Kind: "agent", CPUs: 2, MemoryMiB: 256, DiskGiB: 2,
		Env: map[string]string{"GREETING": "hi"}, Tags: []string{"team=core", "env=test"}})
	if !boxIDRE.MatchString(b.ID) {
		t.Errorf("id %q does not look like box-<12 hex>", b.ID)
	}
	if b.Spec != (api.BoxSpec{Name: "life", Image: "busybox", CPUs: 2, MemoryMiB: 256, DiskGiB: 2}) {
		t.Errorf("spec = %+v", b.Spec)
	}
	if b.Kind != "agent" || b.TTLSeconds != 3600 || b.ExpiresAt == nil {
		t.Errorf("kind agent should default to a 1 h idle TTL: kind=%s ttl=%d expires=%v", b.Kind, b.TTLSeconds, b.ExpiresAt)
	}
	if got := c.sh(b.ID, "hostname"); strings.TrimSpace(got) != b.ID {
		t.Errorf("hostname = %q, want %s", got, b.ID)
	}
	if got := c.sh(b.ID, "echo $GREETING"); got != "hi\n" {
		t.Errorf("box env: %q", got)
	}

	var got api.Box
	c.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200)
	if got.ID != b.ID || got.Status != api.StatusRunning || len(got.Tags) != 2 {
		t.Errorf("get = %+v", got)
	}

	// PATCH name, tags and TTL.
	name, tags, ttl := "life2", []string{"team=infra"}, int64(120)
	c.must("PATCH", "/v1/hogboxes/"+b.ID, api.UpdateBoxRequest{Name: &name, Tags: &tags, TTLSeconds: &ttl}, &got, 200)
	if got.Spec.Name != "life2" || len(got.Tags) != 1 || got.Tags[0] != "team=infra" || got.TTLSeconds != 120 {
		t.Errorf("patched = %+v", got)
	}
	if got.ExpiresAt == nil || time.Until(*got.ExpiresAt) > 121*time.Second || time.Until(*got.ExpiresAt) < 100*time.Second {
		t.Errorf("expires_at after TTL 120: %v", got.ExpiresAt)
	}

	c.must("POST", "/v1/hogboxes/"+b.ID+"/pause", nil, &got, 200)
	if got.Status != api.StatusPaused {
		t.Errorf("after pause: %s", got.Status)
	}
	c.must("POST", "/v1/hogboxes/"+b.ID+"/pause", nil, &got, 200) // harmless twice
	pr := c.problem("POST", "/v1/hogboxes/"+b.ID+"/exec", api.ExecRequest{Argv: []string{"true"}}, 409)
	if !strings.Contains(pr.Detail, "paused") {
		t.Errorf("exec on paused box: %s", pr.Detail)
	}
	c.must("POST", "/v1/hogboxes/"+b.ID+"/resume", nil, &got, 200)
	if got.Status != api.StatusRunning {
		t.Errorf("after resume: %s", got.Status)
	}
	c.sh(b.ID, "true")

	c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204) // harmless twice
	c.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200)
	if got.Status != api.StatusStopped || got.TerminationReason != api.ReasonDestroyed || got.EndedAt == nil {
		t.Errorf("after delete: status=%s reason=%s ended=%v", got.Status, got.TerminationReason, got.EndedAt)
	}
	c.problem("POST", "/v1/hogboxes/"+b.ID+"/exec", api.ExecRequest{Argv: []string{"true"}}, 409)
	assertNothingLeft(t, p, b.ID)

	// The name is free again once the box is gone.
	b2 := c.createBox(api.CreateBoxRequest{Image: "busybox", Name: "life2"})
	c.must("DELETE", "/v1/hogboxes/"+b2.ID, nil, nil, 204)
}

// assertNothingLeft checks that a destroyed box left no mount, cgroup,
// runtime state or directory on the host.
func assertNothingLeft(t *testing.T, p *plane, id string) {
	t.Helper()
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, id) {
			t.Errorf("mount left behind: %s", line)
		}
	}
	cg, _ := filepath.Glob("/sys/fs/cgroup/*/hogland/" + id)
	cg2, _ := filepath.Glob("/sys/fs/cgroup/hogland/" + id)
	if len(cg)+len(cg2) > 0 {
		t.Errorf("cgroups left behind: %v %v", cg, cg2)
	}
	for _, root := range []string{p.DataDir, "/run/hogland"} {
		_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err == nil && strings.Contains(filepath.Base(path), id) {
				t.Errorf("file left behind: %s", path)
			}
			return nil
		})
	}
	// The kernel frees an autoclear loop device once its last user lets
	// go, which may come a little after the unmount.
	var left []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		left = left[:0]
		loops, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
		for _, f := range loops {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), id) {
				left = append(left, f+" -> "+strings.TrimSpace(string(b)))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("loop devices left behind: %v", left)
	}
}

func TestNameClashAndIdempotency(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	c.createBox(api.CreateBoxRequest{Image: "busybox", Name: "dup"})
	pr := c.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", Name: "dup"}, 409)
	if !strings.Contains(pr.Detail, "dup") {
		t.Errorf("clash detail: %s", pr.Detail)
	}

	// The same Idempotency-Key and body return the same box, even when
	// the retries race.
	hdr := map[string]string{"Idempotency-Key": "key-123", "Content-Type": "application/json"}
	body := `{"image":"busybox","tags":["idem=1"]}`
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := c.request("POST", "/v1/hogboxes", strings.NewReader(body), hdr)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 200, 409: // replayed, or still being created by the first
		default:
			t.Errorf("idempotent create answered %d", s)
		}
	}
	if created != 1 {
		t.Errorf("%d creates made a box, want exactly 1 (statuses %v)", created, statuses)
	}
	var list api.BoxList
	c.must("GET", "/v1/hogboxes?tag=idem=1", nil, &list, 200)
	if len(list.Items) != 1 {
		t.Fatalf("boxes with tag idem=1: %d, want 1", len(list.Items))
	}
	resp := c.request("POST", "/v1/hogboxes", strings.NewReader(body), hdr)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %v", resp.StatusCode, resp.Header)
	}
	// The same key with another body is refused.
	resp = c.request("POST", "/v1/hogboxes", strings.NewReader(`{"image":"busybox"}`), hdr)
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Errorf("key reused with another body: %d, want 409", resp.StatusCode)
	}
}

func TestListPaginationAndFilters(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	var ids []string
	for i := 0; i < 5; i++ {
		b := c.createBox(api.CreateBoxRequest{Image: "busybox", Tags: []string{fmt.Sprintf("n=%d", i%2)}})
		ids = append(ids, b.ID)
	}
	c.must("DELETE", "/v1/hogboxes/"+ids[0], nil, nil, 204)

	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		var page api.BoxList
		c.must("GET", "/v1/hogboxes?limit=2&cursor="+cursor, nil, &page, 200)
		pages++
		for _, b := range page.Items {
			if seen[b.ID] {
				t.Errorf("box %s on two pages", b.ID)
			}
			seen[b.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 5 || pages != 3 {
		t.Errorf("paged through %d boxes in %d pages, want 5 in 3", len(seen), pages)
	}
	var running api.BoxList
	c.must("GET", "/v1/hogboxes?status=running&tag=n=0", nil, &running, 200)
	if len(running.Items) != 2 { // ids 2 and 4; 0 is stopped
		t.Errorf("running with n=0: %d, want 2", len(running.Items))
	}
	c.problem("GET", "/v1/hogboxes?cursor=garbage!", nil, 400)
	c.problem("GET", "/v1/hogboxes?status=sleeping", nil, 400)
	c.problem("GET", "/v1/hogboxes?limit=0", nil, 400)
}

func TestTenancy(t *testing.T) {
	p := startPlane(t)
	alice := p.client(p.Token)
	bob := p.newPrincipal("bob")
	b := alice.createBox(api.CreateBoxRequest{Image: "busybox"})
	for _, call := range []struct{ method, path string }{
		{"GET", "/v1/hogboxes/" + b.ID},
		{"DELETE", "/v1/hogboxes/" + b.ID},
		{"POST", "/v1/hogboxes/" + b.ID + "/pause"},
		{"GET", "/v1/hogboxes/" + b.ID + "/files?path=/etc/passwd"},
	} {
		bob.problem(call.method, call.path, nil, 404)
	}
	bob.problem("POST", "/v1/hogboxes/"+b.ID+"/exec", api.ExecRequest{Argv: []string{"true"}}, 404)
	var list api.BoxList
	bob.must("GET", "/v1/hogboxes", nil, &list, 200)
	if len(list.Items) != 0 {
		t.Errorf("bob sees %d boxes", len(list.Items))
	}
	var me api.Me
	bob.must("GET", "/v1/me", nil, &me, 200)
	if me.Principal.Name != "bob" || me.AuthPath != "api_token" || me.Principal.Admin {
		t.Errorf("me = %+v", me)
	}
	bob.problem("POST", "/v1/principals", api.CreatePrincipalRequest{Name: "eve"}, 403)
	// Alice's box still runs.
	alice.sh(b.ID, "true")

	nobody := p.client("tok_0000")
	nobody.problem("GET", "/v1/me", nil, 401)
	anon := p.client("")
	anon.problem("GET", "/v1/hogboxes", nil, 401)
}

func TestLimitsEndpoint(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	var l api.Limits
	c.must("GET", "/v1/limits", nil, &l, 200)
	if l.CPUs.Max < 4 || l.MemoryMiB.Max < 8192 || l.DiskGiB.Max < 50 || l.ExecOutputBytes != 1<<20 {
		t.Errorf("limits too small for the documented consumer: %+v", l)
	}
	if l.Usage.Boxes != 0 || l.Quota.MaxBoxes == 0 || len(l.Kinds) < 2 {
		t.Errorf("usage/quota/kinds: %+v", l)
	}
	c.createBox(api.CreateBoxRequest{Image: "busybox", CPUs: 2, MemoryMiB: 128})
	c.must("GET", "/v1/limits", nil, &l, 200)
	if l.Usage != (api.Usage{Boxes: 1, CPUs: 2, MemoryMiB: 128}) {
		t.Errorf("usage after one box: %+v", l.Usage)
	}
}

// TestBusyWhileCreating checks that a call on a box in transition answers
// 409 with Retry-After. A create lasts long enough (runc start, agent
// start) that polling sees the box creating; a few attempts make it sure.
func TestBusyWhileCreating(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	for attempt := 0; attempt < 5; attempt++ {
		if busyOnce(t, c, attempt) {
			return
		}
	}
	t.Fatal("no create was ever seen in the creating state by a concurrent call")
}

func busyOnce(t *testing.T, c *client, attempt int) bool {
	tag := fmt.Sprintf("busy=%d", attempt)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.do("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", Tags: []string{tag}}, nil)
	}()
	defer func() { <-done }()
	for {
		select {
		case <-done:
			return false
		default:
		}
		var list api.BoxList
		c.must("GET", "/v1/hogboxes?status=creating&tag="+tag, nil, &list, 200)
		if len(list.Items) == 0 {
			continue
		}
		resp := c.request("POST", "/v1/hogboxes/"+list.Items[0].ID+"/pause", nil, nil)
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict {
			if resp.Header.Get("Retry-After") == "" {
				t.Errorf("409 on a creating box has no Retry-After")
			}
			return true
		}
		return false // it finished in between: try again
	}
}

func TestDefaultImagePython(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{})
	if b.Spec.Image != "debian" {
		t.Errorf("default image = %s", b.Spec.Image)
	}
	for _, py := range []string{"python3", "python"} { // the SDK quickstart calls "python"
		res := c.exec(b.ID, api.ExecRequest{Argv: []string{py, "-c", "import json, ssl; print(1)"}})
		if res.ExitCode != 0 || res.Stdout != "1\n" {
			t.Fatalf("%s -c 'print(1)': %+v", py, res)
		}
	}
}

// TestBoxByName reaches a live box by its name wherever an id goes.
func TestBoxByName(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", Name: "web"})
	var got api.Box
	c.must("GET", "/v1/hogboxes/web", nil, &got, 200)
	if got.ID != b.ID {
		t.Errorf("GET by name gave %s, want %s", got.ID, b.ID)
	}
	if out := c.sh("web", "hostname"); strings.TrimSpace(out) != b.ID {
		t.Errorf("exec by name ran in %q", out)
	}
	other := p.newPrincipal("other")
	other.problem("GET", "/v1/hogboxes/web", nil, 404)
	c.must("DELETE", "/v1/hogboxes/web", nil, nil, 204)
	if pr := c.problem("GET", "/v1/hogboxes/web", nil, 404); !strings.Contains(pr.Detail, "web") {
		t.Errorf("a destroyed box's name: %s", pr.Detail)
	}
	c.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200) // the record stays, by id
}
