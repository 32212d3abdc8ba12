package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

// ticker starts, in the background, a process that writes a counter to
// /tmp/tick every 10 ms, renaming a new file over it each time.
const ticker = "(i=0; while :; do i=$((i+1)); echo $i > /tmp/tick.new; mv /tmp/tick.new /tmp/tick; sleep 0.01; done) >/dev/null 2>&1 &"

// snapshot snapshots a box and fails the test unless it answers 201.
func (c *client) snapshot(id string) api.Snapshot {
	c.t.Helper()
	var sn api.Snapshot
	c.must("POST", "/v1/hogboxes/"+id+"/snapshot", nil, &sn, 201)
	return sn
}

// bake makes a "golden" box: a tool, a package-like tree, a file of the
// image deleted (a whiteout) and a directory of the image replaced (an
// opaque directory).
func bake(c *client, req api.CreateBoxRequest) api.Box {
	c.t.Helper()
	b := c.createBox(req)
	c.sh(b.ID, `set -e
		mkdir -p /opt/golden/bin /usr/lib/pkg/mod/sub
		printf '#!/bin/sh\necho golden tool\n' > /opt/golden/bin/tool && chmod 755 /opt/golden/bin/tool
		for i in 1 2 3 4 5; do echo "module $i" > /usr/lib/pkg/mod/m$i.py; done
		echo nested > /usr/lib/pkg/mod/sub/deep.txt
		ln -s /opt/golden/bin/tool /usr/lib/pkg/tool-link
		rm /bin/base64
		rm -rf /var && mkdir -p /var/fresh && echo only > /var/fresh/file`)
	if status, body := c.writeFile(b.ID, "/etc/golden.conf", strings.NewReader("baked=yes\n"), ""); status != 200 {
		c.t.Fatalf("write: %d %s", status, body)
	}
	return b
}

// checkBaked checks a box made from a bake sees what was baked.
func checkBaked(c *client, id string) {
	c.t.Helper()
	out := c.sh(id, `/opt/golden/bin/tool; cat /etc/golden.conf /usr/lib/pkg/mod/m3.py /usr/lib/pkg/mod/sub/deep.txt
		/usr/lib/pkg/tool-link; ls /var; test ! -e /bin/base64 && echo base64-gone; test -e /bin/cat && echo cat-kept`)
	want := "golden tool\nbaked=yes\nmodule 3\nnested\ngolden tool\nfresh\nbase64-gone\ncat-kept\n"
	if out != want {
		c.t.Fatalf("box %s does not see the baked tree:\n got: %q\nwant: %q", id, out, want)
	}
}

func TestSnapshotGolden(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	golden := bake(c, api.CreateBoxRequest{Image: "busybox", CPUs: 1, MemoryMiB: 256, DiskGiB: 2})
	// A process writing all along, which must not notice the snapshot.
	c.sh(golden.ID, ticker)

	sn := c.snapshot(golden.ID)
	t.Logf("golden snapshot: %+v", sn)
	if !strings.HasPrefix(sn.ID, "snap-") || sn.BoxID != golden.ID || sn.Kind != api.SnapshotFilesystem || sn.Image != "busybox" ||
		sn.Spec != (api.Shape{CPUs: 1, MemoryMiB: 256, DiskGiB: 2}) || sn.SizeBytes <= 0 || sn.Depth != 1 ||
		sn.ParentID != "" || !strings.HasPrefix(sn.Digest, "sha256:") || len(sn.Aliases) != 0 {
		t.Fatalf("snapshot record: %+v", sn)
	}
	if sn.PauseMS > 1000 {
		t.Errorf("pause_ms %d: the freeze should be a walk of a small layer", sn.PauseMS)
	}
	t1 := c.sh(golden.ID, "cat /tmp/tick")
	time.Sleep(100 * time.Millisecond)
	if t2 := c.sh(golden.ID, "cat /tmp/tick"); t1 == t2 {
		t.Error("the box's process stopped after the snapshot")
	}
	var gb api.Box
	c.must("GET", "/v1/hogboxes/"+golden.ID, nil, &gb, 200)
	if gb.Status != api.StatusRunning {
		t.Errorf("golden box is %s after its snapshot", gb.Status)
	}

	var alias api.SnapshotAlias
	c.must("PUT", "/v1/snapshots/"+sn.ID+"/aliases/golden", nil, &alias, 200)
	if alias.Name != "golden" || alias.SnapshotID != sn.ID || alias.PreviousSnapshotID != "" {
		t.Errorf("alias: %+v", alias)
	}
	c.problem("PUT", "/v1/snapshots/"+sn.ID+"/aliases/bad%20name", nil, 400)
	var list api.SnapshotList
	c.must("GET", "/v1/snapshots?alias=golden", nil, &list, 200)
	if len(list.Items) != 1 || list.Items[0].ID != sn.ID || strings.Join(list.Items[0].Aliases, ",") != "golden" {
		t.Errorf("list by alias: %+v", list)
	}

	// Ten boxes from the alias, at once: each sees the baked tree, gets
	// the snapshot's shape, and writes privately.
	const n = 10
	boxes := make([]api.Box, n)
	var wg sync.WaitGroup
	for i := range boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.must("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: "alias:golden"}, &boxes[i], 201)
		}()
	}
	wg.Wait()
	for i, b := range boxes {
		if b.SnapshotID != sn.ID || b.Spec.MemoryMiB != 256 || b.Spec.DiskGiB != 2 || b.Spec.Image != "busybox" {
			t.Fatalf("box %d: %+v", i, b)
		}
		checkBaked(c, b.ID)
		c.sh(b.ID, fmt.Sprintf("echo mine-%d > /usr/lib/pkg/mod/m1.py; echo %d > /opt/private", i, i))
	}
	for i, b := range boxes {
		if out := c.sh(b.ID, "cat /usr/lib/pkg/mod/m1.py /opt/private"); out != fmt.Sprintf("mine-%d\n%d\n", i, i) {
			t.Errorf("box %d sees %q: writes are not private", i, out)
		}
	}
	if out := c.sh(golden.ID, "cat /usr/lib/pkg/mod/m1.py; ls /opt"); out != "module 1\ngolden\n" {
		t.Errorf("the golden box sees %q", out)
	}

	// A filesystem snapshot takes another shape; not another image.
	bigger := c.createBox(api.CreateBoxRequest{SnapshotID: sn.ID, MemoryMiB: 512, DiskGiB: 3})
	if bigger.Spec.MemoryMiB != 512 || bigger.Spec.DiskGiB != 3 || bigger.Spec.CPUs != 1 {
		t.Errorf("box with its own shape: %+v", bigger.Spec)
	}
	checkBaked(c, bigger.ID)
	pr := c.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: sn.ID, Image: "debian"}, 400)
	if !strings.Contains(pr.Detail, "busybox") {
		t.Errorf("image mismatch: %s", pr.Detail)
	}
	c.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: "alias:nope"}, 404)
	c.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: "snap-000000000000"}, 404)

	// Another principal sees none of it.
	other := p.newPrincipal("other")
	other.problem("GET", "/v1/snapshots/"+sn.ID, nil, 404)
	other.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: "alias:golden"}, 404)
	other.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: sn.ID}, 404)

	// In use: boxes and the alias stand on it.
	pr = c.problem("DELETE", "/v1/snapshots/"+sn.ID, nil, 409)
	if !strings.Contains(pr.Detail, boxes[0].ID) || !strings.Contains(pr.Detail, "golden") {
		t.Errorf("409 does not name what stands on the snapshot: %s", pr.Detail)
	}
	c.must("DELETE", "/v1/snapshots/"+sn.ID+"/aliases/golden", nil, nil, 204)
	c.problem("DELETE", "/v1/snapshots/"+sn.ID+"/aliases/golden", nil, 404)
	for _, b := range append(boxes, bigger) {
		c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	}
	c.must("DELETE", "/v1/snapshots/"+sn.ID, nil, nil, 204)
	c.problem("GET", "/v1/snapshots/"+sn.ID, nil, 404)
	hx := strings.TrimPrefix(sn.Digest, "sha256:")
	for _, rel := range []string{"blobs/layers/sha256/" + hx + ".tar", "layers/sha256/" + hx} {
		if _, err := os.Stat(filepath.Join(p.DataDir, rel)); err == nil {
			t.Errorf("%s is still stored after the snapshot was deleted", rel)
		}
	}

	// A paused box is snapshotted without a freeze of ours, and stays
	// paused.
	c.must("POST", "/v1/hogboxes/"+golden.ID+"/pause", nil, nil, 200)
	psn := c.snapshot(golden.ID)
	if psn.PauseMS != 0 {
		t.Errorf("snapshot of a paused box: pause_ms %d", psn.PauseMS)
	}
	c.must("GET", "/v1/hogboxes/"+golden.ID, nil, &gb, 200)
	if gb.Status != api.StatusPaused {
		t.Errorf("paused box is %s after a snapshot", gb.Status)
	}
	var evs api.BoxEventList
	c.must("GET", "/v1/hogboxes/"+golden.ID+"/events", nil, &evs, 200)
	if n := countEvents(evs, "snapshot"); n != 2 {
		t.Errorf("box events hold %d snapshots, want 2", n)
	}
}

func countEvents(evs api.BoxEventList, typ string) int {
	n := 0
	for _, e := range evs.Items {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestSnapshotChains makes a box from a snapshot of a box from a snapshot
// of a box from a snapshot, on a plane that stacks at most 3 layers: the
// fourth snapshot merges its chain into one layer. Deletions (whiteouts)
// and replaced directories (opaque) carry through every level.
func TestSnapshotChains(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{"--snapshot-max-depth", "3"}})
	c := p.client(p.Token)
	b0 := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b0.ID, "echo 1 > /l1; rm /bin/arch; mkdir -p /d/x && echo x > /d/x/f")
	s1 := c.snapshot(b0.ID)

	b1 := c.createBox(api.CreateBoxRequest{SnapshotID: s1.ID})
	c.sh(b1.ID, "echo 2 > /l2; rm /l1; rm -rf /d && mkdir -p /d/y && echo y > /d/y/f")
	s2 := c.snapshot(b1.ID)

	b2 := c.createBox(api.CreateBoxRequest{SnapshotID: s2.ID})
	c.sh(b2.ID, "echo 3 > /l3; echo 1-again > /l1; echo 2b >> /l2")
	s3 := c.snapshot(b2.ID)

	b3 := c.createBox(api.CreateBoxRequest{SnapshotID: s3.ID})
	c.sh(b3.ID, "echo 4 > /l4; rm /l3")
	s4 := c.snapshot(b3.ID)

	for _, x := range []struct {
		sn            api.Snapshot
		parent        string
		depth         int
		want          string
		standsOnOwner bool
	}{
		{s1, "", 1, "1|ENOENT|ENOENT|ENOENT|arch-gone|x|ENOENT", false},
		{s2, s1.ID, 2, "ENOENT|2|ENOENT|ENOENT|arch-gone|ENOENT|y", true},
		{s3, s2.ID, 3, "1-again|2 2b|3|ENOENT|arch-gone|ENOENT|y", true},
		{s4, s3.ID, 1, "1-again|2 2b|ENOENT|4|arch-gone|ENOENT|y", false}, // merged
	} {
		if x.sn.ParentID != x.parent || x.sn.Depth != x.depth {
			t.Errorf("snapshot %s: parent %q depth %d, want %q %d", x.sn.ID, x.sn.ParentID, x.sn.Depth, x.parent, x.depth)
		}
		b := c.createBox(api.CreateBoxRequest{SnapshotID: x.sn.ID})
		got := strings.TrimSpace(c.sh(b.ID, `for f in /l1 /l2 /l3 /l4; do if [ -e $f ]; then tr '\n' ' ' < $f | sed 's/ $//'; else printf ENOENT; fi; printf '|'; done
			test ! -e /bin/arch && printf 'arch-gone|'; cat /d/x/f 2>/dev/null || printf 'ENOENT|'; cat /d/y/f 2>/dev/null || printf 'ENOENT'`))
		got = strings.ReplaceAll(got, "\n", "|")
		if got != x.want {
			t.Errorf("box from %s (depth %d) sees %q, want %q", x.sn.ID, x.depth, got, x.want)
		}
		c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	}
	// s2 stands on s1: refused while it does, allowed once it does not.
	for _, b := range []api.Box{b0, b1, b2, b3} {
		c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	}
	pr := c.problem("DELETE", "/v1/snapshots/"+s1.ID, nil, 409)
	if !strings.Contains(pr.Detail, s2.ID) {
		t.Errorf("409 does not name the snapshot standing on it: %s", pr.Detail)
	}
	// s4 merged its chain, so it stands on nothing: the chain can go.
	c.problem("DELETE", "/v1/snapshots/"+s2.ID, nil, 409) // s3 stands on it
	for _, sn := range []api.Snapshot{s3, s2, s1} {
		c.must("DELETE", "/v1/snapshots/"+sn.ID, nil, nil, 204)
	}
	b := c.createBox(api.CreateBoxRequest{SnapshotID: s4.ID})
	if out := c.sh(b.ID, "cat /l1 /l4"); out != "1-again\n4\n" {
		t.Errorf("box from the merged snapshot after its ancestors went: %q", out)
	}
}

// TestSnapshotAliasMovesAtomically moves an alias back and forth between
// two snapshots while boxes are created from it: each box starts from one
// snapshot or the other, whole, and says which.
func TestSnapshotAliasMovesAtomically(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	snaps := map[string]string{}
	var ids []string
	for _, v := range []string{"A", "B"} {
		b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
		c.sh(b.ID, fmt.Sprintf("mkdir -p /w && for i in 1 2 3 4 5 6 7 8; do echo %s > /w/$i; done; echo %s > /which", v, v))
		sn := c.snapshot(b.ID)
		snaps[sn.ID] = v
		ids = append(ids, sn.ID)
	}
	c.must("PUT", "/v1/snapshots/"+ids[0]+"/aliases/flip", nil, nil, 200)
	stop := make(chan struct{})
	moved := make(chan int)
	go func() {
		n := 0
		defer func() { moved <- n }()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var a api.SnapshotAlias
			c.must("PUT", "/v1/snapshots/"+ids[i%2]+"/aliases/flip", nil, &a, 200)
			if a.PreviousSnapshotID != ids[(i+1)%2] {
				t.Errorf("move %d: previous %q, want %q", i, a.PreviousSnapshotID, ids[(i+1)%2])
			}
			n++
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	seen := make([]string, 8)
	for i := range seen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 15 * time.Millisecond) // spread over the moves
			var b api.Box
			c.must("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: "alias:flip"}, &b, 201)
			out := c.sh(b.ID, "cat /which /w/*")
			want := strings.Repeat(snaps[b.SnapshotID]+"\n", 9)
			if snaps[b.SnapshotID] == "" || out != want {
				t.Errorf("box %s from %s sees %q", b.ID, b.SnapshotID, out)
			}
			seen[i] = snaps[b.SnapshotID]
		}()
	}
	wg.Wait()
	close(stop)
	t.Logf("alias moved %d times; boxes started from %v", <-moved, seen)
	var al api.SnapshotAliasList
	c.must("GET", "/v1/snapshot-aliases", nil, &al, 200)
	if len(al.Items) != 1 || al.Items[0].Name != "flip" || snaps[al.Items[0].SnapshotID] == "" {
		t.Errorf("aliases: %+v", al)
	}
}

// TestSnapshotCorruptLayer corrupts a stored layer archive: a box from
// the snapshot is refused with a problem that says so, and the layer is
// never unpacked; with the archive whole again, it works.
func TestSnapshotCorruptLayer(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b.ID, "echo precious > /data.txt")
	sn := c.snapshot(b.ID)
	c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
	hx := strings.TrimPrefix(sn.Digest, "sha256:")
	archive := filepath.Join(p.DataDir, "blobs", "layers", "sha256", hx+".tar")
	cached := filepath.Join(p.DataDir, "layers", "sha256", hx)
	good, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	// Stop, flip one byte of the file's data, drop the unpacked cache.
	p.stop(syscall.SIGTERM)
	bad := append([]byte(nil), good...)
	i := strings.Index(string(bad), "precious")
	bad[i] = 'P'
	if err := os.WriteFile(archive, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(cached); err != nil {
		t.Fatal(err)
	}
	p2 := startPlaneAt(t, p.DataDir)
	c2 := p2.client(p2.Token)
	pr := c2.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{SnapshotID: sn.ID}, 500)
	if !strings.Contains(pr.Detail, "corrupt") || !strings.Contains(pr.Detail, sn.Digest) {
		t.Errorf("corrupt layer problem: %s", pr.Detail)
	}
	if _, err := os.Stat(cached); err == nil {
		t.Fatal("the corrupt layer was unpacked into the cache")
	}
	var list api.BoxList
	c2.must("GET", "/v1/hogboxes?status=creating,running", nil, &list, 200)
	if len(list.Items) != 0 {
		t.Errorf("live boxes after a refused create: %+v", list.Items)
	}
	status, metrics := c2.raw("GET", "/metrics", nil)
	if status != 200 || !strings.Contains(string(metrics), "hogland_snapshot_layers_corrupt_total 1") {
		t.Errorf("corrupt layers metric not counted")
	}
	if err := os.WriteFile(archive, good, 0o600); err != nil {
		t.Fatal(err)
	}
	b2 := c2.createBox(api.CreateBoxRequest{SnapshotID: sn.ID})
	if out := c2.sh(b2.ID, "cat /data.txt"); out != "precious\n" {
		t.Errorf("box from the repaired layer: %q", out)
	}
}

// TestSnapshotKilledMidway kills hogplane while it archives a snapshot:
// after a restart there is no record of it, no half-written blob or work
// file, and the box runs, thawed even if it was left frozen.
func TestSnapshotKilledMidway(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b.ID, "dd if=/dev/urandom of=/big bs=1M count=96 2>/dev/null; echo kept > /small")
	c.sh(b.ID, ticker)
	done := make(chan int, 1)
	go func() {
		// The connection dies with the plane; any answer but 201 will do.
		req, err := http.NewRequest("POST", c.base+"/v1/hogboxes/"+b.ID+"/snapshot", nil)
		if err != nil {
			done <- 0
			return
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.http.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	work := filepath.Join(p.DataDir, "layers", ".work")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(work, "archive-*.tar")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the snapshot never started archiving")
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.stop(syscall.SIGKILL)
	if code := <-done; code == 201 {
		t.Skip("the snapshot finished before the plane was killed")
	}
	// Left frozen too, as if killed during the freeze.
	setFrozen(t, b.ID, true)

	p2 := startPlaneAt(t, p.DataDir)
	c2 := p2.client(p2.Token)
	var list api.SnapshotList
	c2.must("GET", "/v1/snapshots", nil, &list, 200)
	if len(list.Items) != 0 {
		t.Errorf("snapshot records after the kill: %+v", list.Items)
	}
	if frozen(t, b.ID) {
		t.Error("the box is still frozen after the restart")
	}
	var got api.Box
	c2.must("GET", "/v1/hogboxes/"+b.ID, nil, &got, 200)
	if got.Status != api.StatusRunning {
		t.Errorf("box is %s after the restart", got.Status)
	}
	t1 := c2.sh(b.ID, "cat /small /tmp/tick")
	time.Sleep(100 * time.Millisecond)
	if t2 := c2.sh(b.ID, "cat /small /tmp/tick"); t1 == t2 {
		t.Error("the box's process does not run after the restart")
	}
	for _, dir := range []string{work, filepath.Join(p.DataDir, "blobs", ".tmp")} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s holds leftovers: %v", dir, entries)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(p.DataDir, "blobs", "layers", "sha256", "*")); len(m) != 0 {
		t.Errorf("unreferenced blobs after the restart: %v", m)
	}
	// And the next snapshot works.
	sn := c2.snapshot(b.ID)
	b2 := c2.createBox(api.CreateBoxRequest{SnapshotID: sn.ID})
	if out := c2.sh(b2.ID, "cat /small; wc -c < /big"); out != "kept\n100663296\n" {
		t.Errorf("box from the snapshot after the restart: %q", out)
	}
}

// freezerFile is a box's cgroup freezer control, v1 or v2.
func freezerFile(t *testing.T, id string) (string, bool) {
	t.Helper()
	if m, _ := filepath.Glob("/sys/fs/cgroup/freezer/hogland/" + id + "/freezer.state"); len(m) == 1 {
		return m[0], false
	}
	if m, _ := filepath.Glob("/sys/fs/cgroup/hogland/" + id + "/cgroup.freeze"); len(m) == 1 {
		return m[0], true
	}
	t.Fatalf("no freezer for box %s", id)
	return "", false
}

func setFrozen(t *testing.T, id string, freeze bool) {
	t.Helper()
	f, v2 := freezerFile(t, id)
	val := map[bool]string{true: "FROZEN", false: "THAWED"}[freeze]
	if v2 {
		val = map[bool]string{true: "1", false: "0"}[freeze]
	}
	if err := os.WriteFile(f, []byte(val), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for frozen(t, id) != freeze {
		if time.Now().After(deadline) {
			t.Fatalf("box %s did not settle frozen=%v", id, freeze)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func frozen(t *testing.T, id string) bool {
	t.Helper()
	f, v2 := freezerFile(t, id)
	if v2 {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "cgroup.events"))
		return strings.Contains(string(b), "frozen 1")
	}
	b, _ := os.ReadFile(f)
	return strings.TrimSpace(string(b)) == "FROZEN"
}

// TestSnapshotsOfUnchangedBoxes chains snapshots that capture nothing new:
// they share one content-addressed layer, which must still stack.
func TestSnapshotsOfUnchangedBoxes(t *testing.T) {
	p := startPlane(t)
	c := p.client(p.Token)
	b := c.createBox(api.CreateBoxRequest{Image: "busybox"})
	c.sh(b.ID, "echo base > /base.txt")
	snap := c.snapshot(b.ID)
	for i := 0; i < 3; i++ {
		next := c.createBox(api.CreateBoxRequest{SnapshotID: snap.ID})
		snap = c.snapshot(next.ID) // nothing written: an empty layer each time
	}
	last := c.createBox(api.CreateBoxRequest{SnapshotID: snap.ID})
	if out := c.sh(last.ID, "cat /base.txt"); out != "base\n" {
		t.Errorf("file from the first snapshot: %q", out)
	}
}
