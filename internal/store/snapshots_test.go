package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

func snap(owner, id, base string, at time.Time, layers ...string) Snapshot {
	return Snapshot{ID: id, OwnerID: owner, BoxID: "box-" + id, BaseID: base, ParentID: base, Kind: "filesystem", Image: "busybox",
		CPUs: 1, MemoryMiB: 256, DiskGiB: 1, Digest: layers[0], Layers: layers, SizeBytes: 100, CreatedAt: at}
}

func TestSnapshotsDependents(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := principal(t, s, "ann")
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateSnapshot(ctx, snap(p.ID, "snap-a", "", now, "sha256:a")))
	must(s.CreateSnapshot(ctx, snap(p.ID, "snap-b", "snap-a", now.Add(time.Second), "sha256:b", "sha256:a")))
	if err := s.CreateSnapshot(ctx, snap(p.ID, "snap-x", "snap-gone", now, "sha256:x")); !errs.Is(err, errs.Conflict) {
		t.Fatalf("snapshot on a missing base: %v", err)
	}
	b := box(p.ID, "box-1", "", now)
	b.SnapshotID = "snap-b"
	must(s.CreateBox(ctx, b, nil))
	b2 := box(p.ID, "box-2", "", now)
	b2.SnapshotID = "snap-gone"
	if err := s.CreateBox(ctx, b2, nil); !errs.Is(err, errs.NotFound) {
		t.Fatalf("box from a missing snapshot: %v", err)
	}
	if _, err := s.SetAlias(ctx, Alias{OwnerID: p.ID, Name: "golden", SnapshotID: "snap-b", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}

	_, err := s.DeleteSnapshot(ctx, "snap-a")
	var e *errs.Error
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "snap-b") {
		t.Fatalf("delete of a base: %v", err)
	}
	_, err = s.DeleteSnapshot(ctx, "snap-b")
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "box-1") || !strings.Contains(err.Error(), "golden") {
		t.Fatalf("delete of a used snapshot: %v", err)
	}
	if !errors.As(err, &e) || !reflect.DeepEqual(e.Extra["dependents"], SnapshotDependents{Boxes: []string{"box-1"}, Aliases: []string{"golden"}}) {
		t.Fatalf("dependents: %#v", e)
	}
	must(s.SetStatus(ctx, "box-1", "stopped", "destroyed", "destroyed", "", now))
	must(s.DeleteAlias(ctx, p.ID, "golden", "snap-b"))
	free, err := s.DeleteSnapshot(ctx, "snap-b")
	if err != nil || !free {
		t.Fatalf("delete of a free snapshot: %v free=%v", err, free)
	}
	if used, _ := s.LayerUsed(ctx, "sha256:a"); !used {
		t.Error("layer a is still snap-a's")
	}
	free, err = s.DeleteSnapshot(ctx, "snap-a")
	if err != nil || !free {
		t.Fatalf("delete of the base once free: %v free=%v", err, free)
	}
	if n, _ := s.SnapshotBytes(ctx, p.ID); n != 0 {
		t.Errorf("snapshot bytes after deletes: %d", n)
	}
}

func TestAliasesMoveAndList(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := principal(t, s, "bob")
	q := principal(t, s, "cat")
	now := time.Now()
	for i, id := range []string{"snap-1", "snap-2"} {
		if err := s.CreateSnapshot(ctx, snap(p.ID, id, "", now.Add(time.Duration(i)*time.Second), "sha256:"+id)); err != nil {
			t.Fatal(err)
		}
	}
	if prev, err := s.SetAlias(ctx, Alias{OwnerID: p.ID, Name: "g", SnapshotID: "snap-1", UpdatedAt: now}); err != nil || prev != "" {
		t.Fatalf("new alias: %q %v", prev, err)
	}
	if prev, err := s.SetAlias(ctx, Alias{OwnerID: p.ID, Name: "g", SnapshotID: "snap-2", UpdatedAt: now}); err != nil || prev != "snap-1" {
		t.Fatalf("moved alias: %q %v", prev, err)
	}
	if _, err := s.SetAlias(ctx, Alias{OwnerID: q.ID, Name: "g", SnapshotID: "snap-2", UpdatedAt: now}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("alias to another's snapshot: %v", err)
	}
	a, err := s.GetAlias(ctx, p.ID, "g")
	if err != nil || a.SnapshotID != "snap-2" {
		t.Fatalf("alias: %+v %v", a, err)
	}
	if _, err := s.GetAlias(ctx, q.ID, "g"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("aliases are per principal: %v", err)
	}
	list, next, err := s.ListSnapshots(ctx, SnapshotFilter{OwnerID: p.ID, Limit: 1})
	if err != nil || len(list) != 1 || list[0].ID != "snap-2" || next == "" || strings.Join(list[0].Aliases, ",") != "g" {
		t.Fatalf("page 1: %+v %q %v", list, next, err)
	}
	list, next, err = s.ListSnapshots(ctx, SnapshotFilter{OwnerID: p.ID, Limit: 1, Cursor: next})
	if err != nil || len(list) != 1 || list[0].ID != "snap-1" || next != "" || len(list[0].Aliases) != 0 {
		t.Fatalf("page 2: %+v %q %v", list, next, err)
	}
	list, _, _ = s.ListSnapshots(ctx, SnapshotFilter{OwnerID: p.ID, Alias: "g", Limit: 10})
	if len(list) != 1 || list[0].ID != "snap-2" {
		t.Fatalf("by alias: %+v", list)
	}
	// One page of several snapshots: each gets its own aliases, in order.
	for _, a := range []Alias{{Name: "b", SnapshotID: "snap-2"}, {Name: "a", SnapshotID: "snap-1"}, {Name: "c", SnapshotID: "snap-1"}} {
		a.OwnerID, a.UpdatedAt = p.ID, now
		if _, err := s.SetAlias(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	list, _, err = s.ListSnapshots(ctx, SnapshotFilter{OwnerID: p.ID, Limit: 10})
	if err != nil || len(list) != 2 || strings.Join(list[0].Aliases, ",") != "b,g" || strings.Join(list[1].Aliases, ",") != "a,c" {
		t.Fatalf("aliases of a page: %+v %v", list, err)
	}
}

func TestDevboxRecords(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := principal(t, s, "dee")
	now := time.Now()
	d := Devbox{ID: "dbx-1", OwnerID: p.ID, Name: "dev", Status: "stopped", Image: "busybox", CPUs: 1, MemoryMiB: 256, DiskGiB: 1,
		AutoStopSeconds: 60, AutoStart: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateDevbox(ctx, d); err != nil {
		t.Fatal(err)
	}
	d2 := d
	d2.ID = "dbx-2"
	if err := s.CreateDevbox(ctx, d2); !errs.Is(err, errs.Conflict) {
		t.Fatalf("same name: %v", err)
	}
	running, boxID := "running", "box-9"
	if err := s.UpdateDevbox(ctx, "dbx-1", DevboxState{Status: &running, BoxID: &boxID}, DevboxEvent{At: now, Type: "started", Status: running, BoxID: boxID}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DevboxByName(ctx, p.ID, "dev")
	if err != nil || got.Status != "running" || got.BoxID != "box-9" || !got.AutoStart || got.AutoStopSeconds != 60 {
		t.Fatalf("devbox: %+v %v", got, err)
	}
	if got, err := s.DevboxByBox(ctx, "box-9"); err != nil || got.ID != "dbx-1" {
		t.Fatalf("by box: %+v %v", got, err)
	}
	evs, err := s.DevboxEvents(ctx, "dbx-1", 0, 10)
	if err != nil || len(evs) != 2 || evs[0].Type != "created" || evs[1].Type != "started" {
		t.Fatalf("events: %+v %v", evs, err)
	}
	if err := s.DeleteDevbox(ctx, "dbx-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Devbox(ctx, "dbx-1"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted devbox: %v", err)
	}
	if evs, _ := s.DevboxEvents(ctx, "dbx-1", 0, 10); len(evs) != 0 {
		t.Fatalf("deleted devbox's history: %+v", evs)
	}
}
