package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/api"
)

// TestSnapshotLatency measures, for a writable layer of 1 MiB and of
// 200 MiB, the snapshot's pause_ms and duration, and the latency of a
// create from the snapshot (layer cached, and fetched from the blob store
// after the cache is dropped) next to a plain create in the same run. It
// runs only with HOGLAND_SNAPSHOT_BENCH=1:
//
//	HOGLAND_SNAPSHOT_BENCH=1 go test ./internal/e2e -run TestSnapshotLatency -v
func TestSnapshotLatency(t *testing.T) {
	if os.Getenv("HOGLAND_SNAPSHOT_BENCH") == "" {
		t.Skip("a measurement, not a test: set HOGLAND_SNAPSHOT_BENCH=1")
	}
	p := startPlane(t)
	c := p.client(p.Token)
	const reps = 5
	timeCreate := func(req api.CreateBoxRequest) time.Duration {
		start := time.Now()
		var b api.Box
		c.must("POST", "/v1/hogboxes", req, &b, 201)
		d := time.Since(start)
		c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
		return d
	}
	var report []string
	for _, mib := range []int{1, 200} {
		for _, settled := range []bool{true, false} {
			b := c.createBox(api.CreateBoxRequest{Image: "busybox", DiskGiB: 2})
			// A hot process all along, and the layer: mib of random data in
			// one file plus a small package-like tree.
			c.sh(b.ID, ticker)
			script := fmt.Sprintf("mkdir -p /opt/pkg && for i in $(seq 50); do echo $i > /opt/pkg/f$i; done; dd if=/dev/urandom of=/opt/data bs=1M count=%d 2>/dev/null", mib)
			c.sh(b.ID, script)
			if settled {
				time.Sleep(time.Second)
			}
			sn := c.snapshot(b.ID)
			var plain, fromSnap []time.Duration
			for range reps {
				plain = append(plain, timeCreate(api.CreateBoxRequest{Image: "busybox", DiskGiB: 2}))
				fromSnap = append(fromSnap, timeCreate(api.CreateBoxRequest{SnapshotID: sn.ID}))
			}
			// Cold: the unpacked layer dropped, fetched and checked again.
			cached := filepath.Join(p.DataDir, "layers", "sha256", strings.TrimPrefix(sn.Digest, "sha256:"))
			if err := os.RemoveAll(cached); err != nil {
				t.Fatal(err)
			}
			cold := timeCreate(api.CreateBoxRequest{SnapshotID: sn.ID})
			when := "written 1 s before"
			if !settled {
				when = "written just before"
			}
			report = append(report, fmt.Sprintf("%4d MiB (%s): pause_ms %d, snapshot %d ms, size %d MiB | create: plain %v, from snapshot %v (cached), %v (cold: fetch+verify+unpack)",
				mib, when, sn.PauseMS, sn.DurationMS, sn.SizeBytes>>20, median(plain), median(fromSnap), cold.Round(time.Millisecond)))
			c.must("DELETE", "/v1/hogboxes/"+b.ID, nil, nil, 204)
			c.must("DELETE", "/v1/snapshots/"+sn.ID, nil, nil, 204)
		}
	}
	t.Log("snapshot latency (medians of " + fmt.Sprint(reps) + "):\n" + strings.Join(report, "\n"))
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(time.Millisecond)
}
