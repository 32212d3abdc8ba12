package oci

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// freezeTimeout bounds how long a freeze or thaw may take to settle.
const freezeTimeout = 10 * time.Second

// frozen reports whether every process of the box is frozen. A box
// without a freezer cgroup is not frozen.
func (b boxCgroup) frozen() (bool, error) {
	if b.c.v2 {
		v, err := readKey(filepath.Join(b.dir(""), "cgroup.events"), "frozen")
		return v == 1, err
	}
	dir := b.dir("freezer")
	if dir == "" {
		return false, nil
	}
	state, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return strings.TrimSpace(string(state)) == "FROZEN", err
}

// setFrozen freezes or thaws the box's cgroup and waits until the kernel
// reports it done. Freezing a frozen cgroup or thawing a thawed one is a
// no-op. A freeze that does not settle is undone.
func (b boxCgroup) setFrozen(ctx context.Context, freeze bool) error {
	if b.c.v2 {
		return b.setFrozenV2(ctx, freeze)
	}
	return b.setFrozenV1(ctx, freeze)
}

func (b boxCgroup) setFrozenV2(ctx context.Context, freeze bool) error {
	dir := b.dir("")
	want, val := int64(0), "0"
	if freeze {
		want, val = 1, "1"
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte(val), 0); err != nil {
		return err
	}
	err := pollUntil(ctx, func() (bool, error) {
		v, err := readKey(filepath.Join(dir, "cgroup.events"), "frozen")
		return v == want, err
	})
	if err != nil && freeze {
		_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
	}
	return err
}

// setFrozenV1 writes the v1 freezer state. Like runc, it rewrites FROZEN
// while the state reads FREEZING, and thaws and refreezes now and then:
// a v1 freeze can stall on a task that is forking.
func (b boxCgroup) setFrozenV1(ctx context.Context, freeze bool) error {
	dir := b.dir("freezer")
	if dir == "" {
		return errors.New("no freezer cgroup hierarchy")
	}
	file := filepath.Join(dir, "freezer.state")
	want := "THAWED"
	if freeze {
		want = "FROZEN"
	}
	tries := 0
	err := pollUntil(ctx, func() (bool, error) {
		tries++
		if freeze && tries%25 == 0 {
			if err := os.WriteFile(file, []byte("THAWED"), 0); err != nil {
				return false, err
			}
		}
		if err := os.WriteFile(file, []byte(want), 0); err != nil {
			return false, err
		}
		state, err := os.ReadFile(file)
		return strings.TrimSpace(string(state)) == want, err
	})
	if err != nil && freeze {
		_ = os.WriteFile(file, []byte("THAWED"), 0)
	}
	return err
}

// pollUntil calls done, backing off from 50µs to 10ms, until it reports
// true, fails, ctx ends or freezeTimeout passes.
func pollUntil(ctx context.Context, done func() (bool, error)) error {
	deadline := time.Now().Add(freezeTimeout)
	wait := 50 * time.Microsecond
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("freezer did not settle in %v", freezeTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Millisecond)
	}
}
