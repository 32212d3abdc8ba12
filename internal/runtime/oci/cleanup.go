package oci

import (
	"context"
	"errors"
	"fmt"
)

// Cleanup destroys every box this driver holds (as List finds them) that
// keep does not claim. hogplane calls it at startup with the ids it knows,
// to remove boxes orphaned by a crash or a lost record; keep == nil
// claims nothing. It returns the first errors but tries every box.
func (d *Driver) Cleanup(ctx context.Context, keep func(id string) bool) error {
	boxes, err := d.List(ctx)
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	var errs []error
	for _, b := range boxes {
		if keep != nil && keep(b.ID) {
			continue
		}
		d.log.Info("destroying orphan box", "box", b.ID, "state", b.State.String())
		if err := d.Destroy(ctx, b.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}
