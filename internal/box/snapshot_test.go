package box

import (
	"reflect"
	"strings"
	"testing"

	"github.com/PostHog/hogland/api"
	"github.com/PostHog/hogland/internal/errs"
	"github.com/PostHog/hogland/internal/store"
)

func TestApplySnapshotShapes(t *testing.T) {
	fs := store.Snapshot{ID: "snap-000000000001", Kind: api.SnapshotFilesystem, Image: "busybox", CPUs: 2, MemoryMiB: 512, DiskGiB: 3}
	mem := fs
	mem.ID, mem.Kind = "snap-000000000002", api.SnapshotMemory
	cases := []struct {
		name    string
		sn      store.Snapshot
		req     api.CreateBoxRequest
		want    api.CreateBoxRequest
		invalid string // a word the 400 must hold
	}{
		{"no shape takes the snapshot's", fs, api.CreateBoxRequest{},
			api.CreateBoxRequest{Image: "busybox", CPUs: 2, MemoryMiB: 512, DiskGiB: 3}, ""},
		{"filesystem takes any shape", fs, api.CreateBoxRequest{MemoryMiB: 2048},
			api.CreateBoxRequest{Image: "busybox", CPUs: 2, MemoryMiB: 2048, DiskGiB: 3}, ""},
		{"same image is fine", fs, api.CreateBoxRequest{Image: "busybox", CPUs: 1},
			api.CreateBoxRequest{Image: "busybox", CPUs: 1, MemoryMiB: 512, DiskGiB: 3}, ""},
		{"other image", fs, api.CreateBoxRequest{Image: "debian"}, api.CreateBoxRequest{}, "busybox"},
		{"memory takes its own shape", mem, api.CreateBoxRequest{CPUs: 2},
			api.CreateBoxRequest{Image: "busybox", CPUs: 2, MemoryMiB: 512, DiskGiB: 3}, ""},
		{"memory refuses another", mem, api.CreateBoxRequest{MemoryMiB: 1024}, api.CreateBoxRequest{}, "same shape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			err := applySnapshot(&req, c.sn)
			if c.invalid != "" {
				if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), c.invalid) {
					t.Fatalf("err = %v, want a 400 that says %q", err, c.invalid)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(req, c.want) {
				t.Fatalf("got %+v, %v; want %+v", req, err, c.want)
			}
		})
	}
}

func TestValidateAlias(t *testing.T) {
	for _, ok := range []string{"golden", "py3.12-base", "A_1"} {
		if err := ValidateAlias(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "a b", "a/b", "alias:x", strings.Repeat("a", 64)} {
		if err := ValidateAlias(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("%q accepted", bad)
		}
	}
}
