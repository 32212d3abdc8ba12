package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PostHog/hogland/internal/errs"
)

func open(t testing.TB) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db", "hogland.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func principal(t testing.TB, s *Store, name string) Principal {
	t.Helper()
	p := Principal{ID: "prn-" + name, Name: name, Kind: "user", CreatedAt: time.Now()}
	if err := s.CreatePrincipal(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func box(owner, id, name string, at time.Time, tags ...string) Box {
	return Box{ID: id, OwnerID: owner, Name: name, Kind: "default", Image: "busybox", CPUs: 1, MemoryMiB: 256, DiskGiB: 1,
		Env: map[string]string{"A": "1"}, Tags: tags, AccessType: "none", TTLSeconds: 60, Status: "running", CreatedAt: at, UpdatedAt: at}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hogland.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := principal(t, s, "alice")
	if err := s.CreateBox(ctx, box(p.ID, "box-1", "one", time.Now()), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(ctx, path) // migrations are not run twice
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Box(ctx, "box-1")
	if err != nil || b.Env["A"] != "1" || b.Name != "one" {
		t.Fatalf("after reopen: %+v, %v", b, err)
	}
}

func TestBoxNamesAndIdempotency(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	alice, bob := principal(t, s, "alice"), principal(t, s, "bob")
	now := time.Now()
	if err := s.CreateBox(ctx, box(alice.ID, "box-1", "web", now), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBox(ctx, box(alice.ID, "box-2", "web", now), nil); !errs.Is(err, errs.Conflict) {
		t.Errorf("same live name: %v, want Conflict", err)
	}
	if err := s.CreateBox(ctx, box(bob.ID, "box-3", "web", now), nil); err != nil {
		t.Errorf("another owner may use the name: %v", err)
	}
	if err := s.SetStatus(ctx, "box-1", "stopped", "destroyed", "destroyed", "", now); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBox(ctx, box(alice.ID, "box-4", "web", now), nil); err != nil {
		t.Errorf("name of a stopped box is free again: %v", err)
	}
	idem := &Idempotency{PrincipalID: alice.ID, Key: "k1", RequestHash: "h"}
	if err := s.CreateBox(ctx, box(alice.ID, "box-5", "", now), idem); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBox(ctx, box(alice.ID, "box-6", "", now), idem); !errs.Is(err, errs.Busy) {
		t.Errorf("same idempotency key: %v, want Busy", err)
	}
	if _, err := s.Box(ctx, "box-6"); !errs.Is(err, errs.NotFound) {
		t.Errorf("a refused create left a box: %v", err)
	}
	got, err := s.Idempotent(ctx, alice.ID, "k1")
	if err != nil || got.BoxID != "box-5" {
		t.Errorf("idempotency record %+v %v", got, err)
	}
}

func TestListPagesAndFilters(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := principal(t, s, "alice")
	base := time.Now()
	for i := 0; i < 7; i++ {
		// Two boxes share each timestamp, so the cursor must break ties.
		at := base.Add(time.Duration(i/2) * time.Second)
		if err := s.CreateBox(ctx, box(p.ID, fmt.Sprintf("box-%d", i), "", at, fmt.Sprintf("parity=%d", i%2), "all=yes"), nil); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	cursor := ""
	for {
		page, next, err := s.ListBoxes(ctx, BoxFilter{OwnerID: p.ID, Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page {
			ids = append(ids, b.ID)
			// Each box of the page gets its own tags, in order.
			n, _ := strconv.Atoi(strings.TrimPrefix(b.ID, "box-"))
			if want := fmt.Sprintf("all=yes,parity=%d", n%2); strings.Join(b.Tags, ",") != want {
				t.Errorf("%s tags %v, want %s", b.ID, b.Tags, want)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"box-6", "box-5", "box-4", "box-3", "box-2", "box-1", "box-0"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("pages gave %v, want %v", ids, want)
	}
	odd, _, err := s.ListBoxes(ctx, BoxFilter{OwnerID: p.ID, Limit: 10, Tags: []string{"parity=1", "all=yes"}})
	if err != nil || len(odd) != 3 {
		t.Errorf("tag filter: %d boxes, %v", len(odd), err)
	}
	// A box without tags lists them as empty, not null, beside boxes with.
	if err := s.CreateBox(ctx, box(p.ID, "box-untagged", "", base.Add(time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	all, _, err := s.ListBoxes(ctx, BoxFilter{OwnerID: p.ID, Limit: 2})
	if err != nil || len(all) != 2 || all[0].Tags == nil || len(all[0].Tags) != 0 || len(all[1].Tags) != 2 {
		t.Errorf("untagged beside tagged: %+v %v", all, err)
	}
	if _, _, err := s.ListBoxes(ctx, BoxFilter{Limit: 1, Cursor: "%%%"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad cursor: %v", err)
	}
	boxes, cpus, mem, err := s.OwnerUsage(ctx, p.ID)
	if err != nil || boxes != 8 || cpus != 8 || mem != 8*256 {
		t.Errorf("usage %d %d %d %v", boxes, cpus, mem, err)
	}
}

func TestEventsNotifyWatchers(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := principal(t, s, "alice")
	if err := s.CreateBox(ctx, box(p.ID, "box-1", "", time.Now()), nil); err != nil {
		t.Fatal(err)
	}
	changed := s.EventsChanged()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			t.Error("watcher not woken by a new event")
		}
	}()
	if err := s.SetStatus(ctx, "box-1", "paused", "", "paused", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	evs, err := s.Events(ctx, "box-1", 0, 10)
	// The box was stored as running: created (creating), running, paused.
	if err != nil || len(evs) != 3 || evs[0].Type != "created" || evs[0].Status != "creating" || evs[1].Type != "running" ||
		evs[2].Type != "paused" || evs[2].Seq <= evs[1].Seq || evs[1].Seq <= evs[0].Seq {
		t.Errorf("events %+v %v", evs, err)
	}
	if err := s.SetStatus(ctx, "box-404", "paused", "", "paused", "", time.Now()); !errs.Is(err, errs.NotFound) {
		t.Errorf("status of a missing box: %v", err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := principal(t, s, "alice")
	if err := s.CreateToken(ctx, Token{ID: "tid-1", PrincipalID: p.ID, Hash: "abc", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tok, got, err := s.TokenByHash(ctx, "abc")
	if err != nil || tok.ID != "tid-1" || got.Name != "alice" {
		t.Fatalf("token by hash: %+v %+v %v", tok, got, err)
	}
	if _, _, err := s.TokenByHash(ctx, "nope"); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	if err := s.CreatePrincipal(ctx, Principal{ID: "prn-x", Name: "alice", Kind: "user", CreatedAt: time.Now()}); !errs.Is(err, errs.Conflict) {
		t.Errorf("duplicate principal name: %v", err)
	}
}

// BenchmarkListBoxesPage lists one page of 100 boxes with two tags each.
func BenchmarkListBoxesPage(b *testing.B) {
	ctx := context.Background()
	s := open(b)
	p := principal(b, s, "bench")
	base := time.Now()
	for i := 0; i < 100; i++ {
		if err := s.CreateBox(ctx, box(p.ID, fmt.Sprintf("box-%d", i), "", base.Add(time.Duration(i)), "team=a", "env=dev"), nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if page, _, err := s.ListBoxes(ctx, BoxFilter{OwnerID: p.ID, Limit: 100}); err != nil || len(page) != 100 {
			b.Fatal(len(page), err)
		}
	}
}
