package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

// metric returns the value of one sample line of /metrics (name with its
// labels, as printed), or -1 when it is missing.
func (p *plane) metric(sample string) float64 {
	p.t.Helper()
	_, raw := p.client("").raw("GET", "/metrics", nil)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				p.t.Fatalf("metric %s: %q", sample, line)
			}
			return f
		}
	}
	return -1
}

// waitMetric waits until a sample of /metrics has value want.
func (p *plane) waitMetric(sample string, want float64, within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := p.metric(sample)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s is %v after %s, want %v", sample, got, within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// boxDirs lists the box directories the plane's driver holds (live boxes
// and warm ones).
func boxDirs(t *testing.T, p *plane) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(p.DataDir, "oci", "boxes"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWarmBoxes(t *testing.T) {
	p := startPlaneWith(t, planeOptions{Args: []string{"--warm-pool=busybox=2,busybox:3=1"}})
	c := p.client(p.Token)
	ready := `hogland_warm_boxes{disk_gib="5",image="busybox"}`
	ready3 := `hogland_warm_boxes{disk_gib="3",image="busybox"}`
	p.waitMetric(ready, 2, 60*time.Second)
	p.waitMetric(ready3, 1, 60*time.Second)
	if n := len(boxDirs(t, p)); n != 3 {
		t.Fatalf("%d box dirs with 3 warm boxes and no box created", n)
	}
	var list api.BoxList
	c.must("GET", "/v1/hogboxes", nil, &list, 200)
	if len(list.Items) != 0 {
		t.Fatalf("warm boxes are listed: %+v", list.Items)
	}

	// A create of another shape takes a warm box and gets its shape,
	// hostname and environment.
	b := c.createBox(api.CreateBoxRequest{Image: "busybox", CPUs: 2, MemoryMiB: 64, Env: map[string]string{"FOO": "bar", "KEEP": "1"}})
	if got := p.metric(`hogland_warm_claims_total{result="hit"}`); got != 1 {
		t.Fatalf("warm claims hit = %v, want 1", got)
	}
	if b.StartedAt == nil || b.ExpiresAt == nil {
		t.Errorf("warm box view lacks started_at or expires_at: %+v", b)
	}
	var evs api.BoxEventList
	c.must("GET", "/v1/hogboxes/"+b.ID+"/events", nil, &evs, 200)
	if len(evs.Items) != 2 || evs.Items[0].Type != "created" || evs.Items[1].Type != "running" {
		t.Errorf("warm box history: %+v", evs.Items)
	}
	if got := strings.TrimSpace(c.sh(b.ID, "hostname")); got != b.ID {
		t.Errorf("hostname %q, want %q", got, b.ID)
	}
	if got := c.sh(b.ID, `echo "$FOO $KEEP"`); got != "bar 1\n" {
		t.Errorf("box env: %q", got)
	}
	res := c.exec(b.ID, api.ExecRequest{Argv: []string{"sh", "-c", `echo "$FOO $KEEP"`}, Env: map[string]string{"FOO": "baz"}})
	if res.Stdout != "baz 1\n" {
		t.Errorf("request env over box env: %q", res.Stdout)
	}
	if _, err := os.Stat("/sys/fs/cgroup/cpu/hogland/" + b.ID); err == nil {
		if got := hostCgroup(t, "cpu", b.ID, "cpu.cfs_quota_us"); got != "200000" {
			t.Errorf("cpu.cfs_quota_us %s, want 200000 (2 CPUs)", got)
		}
		if got := hostCgroup(t, "memory", b.ID, "memory.limit_in_bytes"); got != strconv.Itoa(64<<20) {
			t.Errorf("memory.limit_in_bytes %s, want %d", got, 64<<20)
		}
		if got := hostCgroup(t, "pids", b.ID, "pids.max"); got != "2048" {
			t.Errorf("pids.max %s, want 2048", got)
		}
	} else {
		if got := hostCgroup(t, "", b.ID, "cpu.max"); got != "200000 100000" {
			t.Errorf("cpu.max %q", got)
		}
		if got := hostCgroup(t, "", b.ID, "memory.max"); got != strconv.Itoa(64<<20) {
			t.Errorf("memory.max %s", got)
		}
	}
	// The new memory limit holds: a 256 MiB buffer is an OOM kill.
	res = c.exec(b.ID, api.ExecRequest{Argv: []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"}})
	if res.ExitCode == 0 {
		t.Errorf("memory hog in a 64 MiB warm box exited 0: %+v", res)
	}
	if got := c.waitStatus(b.ID, api.StatusFailed, 15*time.Second); got.TerminationReason != api.ReasonOOM {
		t.Errorf("reason %q, want oom", got.TerminationReason)
	}
	assertNothingLeft(t, p, b.ID)
	p.waitMetric(ready, 2, 60*time.Second)

	// Another disk size cannot use a warm box; the create starts its own.
	misses := p.metric(`hogland_warm_claims_total{result="miss"}`)
	d := c.createBox(api.CreateBoxRequest{Image: "busybox", DiskGiB: 2})
	if got := p.metric(`hogland_warm_claims_total{result="miss"}`); got != misses {
		t.Errorf("miss counter moved for a create that does not fit: %v -> %v", misses, got)
	}
	if got := p.metric(ready); got != 2 {
		t.Errorf("a 2 GiB create took a warm box: %v ready", got)
	}
	c.must("DELETE", "/v1/hogboxes/"+d.ID, nil, nil, 204)
	// A 3 GiB create takes the 3 GiB warm box.
	hits := p.metric(`hogland_warm_claims_total{result="hit"}`)
	b3 := c.createBox(api.CreateBoxRequest{Image: "busybox", DiskGiB: 3})
	if got := p.metric(`hogland_warm_claims_total{result="hit"}`); got != hits+1 {
		t.Errorf("a 3 GiB create did not take the 3 GiB warm box: hits %v -> %v", hits, got)
	}
	if kib, _ := strconv.Atoi(strings.Fields(strings.Split(c.sh(b3.ID, "df -k / | tail -1"), "\n")[0])[1]); kib < 2<<20 || kib > 3<<20 {
		t.Errorf("3 GiB box's / is %d KiB", kib)
	}
	c.must("DELETE", "/v1/hogboxes/"+b3.ID, nil, nil, 204)
	p.waitMetric(ready3, 1, 60*time.Second)

	// A create refused after it took a warm box (a name clash) hands the
	// box back: no box is started or lost for it.
	named := c.createBox(api.CreateBoxRequest{Image: "busybox", Name: "taken"})
	p.waitMetric(ready, 2, 60*time.Second)
	before := boxDirs(t, p)
	c.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", Name: "taken"}, 409)
	if got := p.metric(ready); got != 2 {
		t.Errorf("%v warm boxes ready after a refused create, want 2", got)
	}
	if after := boxDirs(t, p); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("box dirs changed across a refused create: %v -> %v", before, after)
	}
	// The same after the box was given another shape: it goes back with
	// the default one.
	c.problem("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", Name: "taken", CPUs: 3, MemoryMiB: 96}, 409)
	if got := p.metric(ready); got != 2 {
		t.Errorf("%v warm boxes ready after a refused reshaped create, want 2", got)
	}
	for range 2 {
		w := c.createBox(api.CreateBoxRequest{Image: "busybox"})
		if _, err := os.Stat("/sys/fs/cgroup/cpu/hogland/" + w.ID); err == nil {
			if q, m := hostCgroup(t, "cpu", w.ID, "cpu.cfs_quota_us"), hostCgroup(t, "memory", w.ID, "memory.limit_in_bytes"); q != "100000" || m != strconv.Itoa(1024<<20) {
				t.Errorf("default box %s from the warm pool: cpu quota %s, memory limit %s", w.ID, q, m)
			}
		}
		c.must("DELETE", "/v1/hogboxes/"+w.ID, nil, nil, 204)
	}
	c.must("DELETE", "/v1/hogboxes/"+named.ID, nil, nil, 204)
	p.waitMetric(ready, 2, 60*time.Second)

	// More creates at once than warm boxes: every one gets a box of its
	// own, warm or started, and each is itself.
	const n = 5
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var got api.Box
			if st := c.do("POST", "/v1/hogboxes", api.CreateBoxRequest{Image: "busybox", Env: map[string]string{"I": strconv.Itoa(i)}}, &got); st != 201 {
				t.Errorf("parallel create %d: status %d", i, st)
				return
			}
			ids[i] = got.ID
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if seen[id] {
			t.Errorf("box %s handed out twice", id)
		}
		seen[id] = true
		if got := c.sh(id, `echo "$(hostname) $I"`); got != fmt.Sprintf("%s %d\n", id, i) {
			t.Errorf("box %d: %q", i, got)
		}
	}
	for _, id := range ids {
		c.must("DELETE", "/v1/hogboxes/"+id, nil, nil, 204)
	}
	p.waitMetric(ready, 2, 60*time.Second)
	if dirs := boxDirs(t, p); len(dirs) != 3 {
		t.Errorf("box dirs %v: want only the 3 warm boxes", dirs)
	}

	// A graceful stop removes the warm boxes (they hold nothing of anyone's).
	p.stop(syscall.SIGTERM)
	if dirs := boxDirs(t, p); len(dirs) != 0 {
		t.Errorf("box dirs %v after SIGTERM, want none", dirs)
	}
	// After SIGKILL they are leftovers that the next start removes.
	p2 := restartWith(t, p, syscall.SIGTERM, planeOptions{Args: []string{"--warm-pool=busybox=1"}})
	p2.waitMetric(ready, 1, 60*time.Second)
	p3 := restart(t, p2, syscall.SIGKILL)
	if dirs := boxDirs(t, p3); len(dirs) != 0 {
		t.Errorf("box dirs %v after a restart without warm boxes, want none", dirs)
	}
}
