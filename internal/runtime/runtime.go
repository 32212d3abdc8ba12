// Package runtime is the interface between hogplane and the things that
// actually run boxes: the OCI driver (runc, crun, runsc) and the
// Firecracker driver. A box, to a driver, is an isolated machine whose init
// is hogpanion, reached over one byte stream (Dial).
package runtime

import (
	"context"
	"net"
	"time"
)

// State is what a driver knows of one box.
type State int

const (
	// StateCreated: prepared (root filesystem, limits) but not started.
	StateCreated State = iota + 1
	// StateRunning: init is alive and not frozen.
	StateRunning
	// StatePaused: every process of the box is frozen.
	StatePaused
	// StateStopped: init has exited; resources may still be held until Destroy.
	StateStopped
)

func (s State) String() string {
	switch s {
	case StateCreated:
		return "created"
	case StateRunning:
		return "running"
	case StatePaused:
		return "paused"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// Spec is everything a driver needs to make a box.
type Spec struct {
	// ID is the box id (box-xxxxxxxxxxxx); it is also the hostname.
	ID string
	// Layers are read-only root filesystem directories, uppermost first.
	// The lowest is the image; snapshot layers stack above it.
	Layers []string
	// CPUs is the CPU quota in whole CPUs.
	CPUs int64
	// MemoryMiB caps the box's memory (no swap beyond it).
	MemoryMiB int64
	// DiskGiB caps the box's writable layer.
	DiskGiB int64
	// Pids caps the number of tasks in the box.
	Pids int64
	// AgentPath is the host path of the hogpanion binary to run as init.
	AgentPath string
	// Env is the default environment of processes in the box.
	Env []string
}

// Info is one box as the driver finds it, for recovery.
type Info struct {
	ID    string
	State State
	// Pid of the box's init on the host, when it has one.
	Pid int
}

// Stats is a box's resource use.
type Stats struct {
	CPUUsage    time.Duration
	MemoryBytes int64
	MemoryLimit int64
	// OOMKills counts processes the kernel killed for the memory limit.
	OOMKills int64
	Pids     int64
	// DiskBytes is the space the writable layer uses.
	DiskBytes int64
}

// Driver makes and runs boxes. Every method is safe for concurrent use on
// different boxes; hogplane never calls two methods on one box at once.
// A method given an id the driver does not know returns an error of kind
// errs.NotFound, except Destroy, for which a missing box is success.
// A cancelled context abandons the wait, not the box: a box half made by
// a cancelled Create is cleaned up by the driver before Create returns.
type Driver interface {
	// Name is the driver's name as configured ("oci", "firecracker").
	Name() string
	// Create prepares a box and starts its init, returning once the init
	// runs (the agent may still be starting: use Dial to wait for it).
	// A box with the same id already existing is an errs.Conflict. On any
	// error, nothing of the box is left behind.
	Create(ctx context.Context, spec Spec) error
	// Pause freezes every process of a running box. Pausing a paused box
	// is harmless.
	Pause(ctx context.Context, id string) error
	// Resume thaws a paused box. Resuming a running box is harmless.
	Resume(ctx context.Context, id string) error
	// Destroy kills every process of the box and removes every mount,
	// cgroup, device and file it had. Destroying a missing box is success,
	// so a second call is harmless.
	Destroy(ctx context.Context, id string) error
	// Dial opens a new byte stream to the box's agent. It fails with
	// errs.Unavailable while the agent is not (yet) listening.
	Dial(ctx context.Context, id string) (net.Conn, error)
	// State reports the box's state as the host sees it now.
	State(ctx context.Context, id string) (State, error)
	// Stats reports the box's resource use.
	Stats(ctx context.Context, id string) (Stats, error)
	// List returns every box this driver holds on this host, including
	// ones left over from a previous run of hogplane.
	List(ctx context.Context) ([]Info, error)
}

// Snapshot kinds: what a Snapshotter captures.
const (
	// SnapshotFilesystem is the box's writable layer; a box made from it
	// may have any shape.
	SnapshotFilesystem = "filesystem"
	// SnapshotMemory is the whole machine (memory, devices, disk); a box
	// restored from it must have the same shape.
	SnapshotMemory = "memory"
)

// Capture describes one CaptureLayer.
type Capture struct {
	// Paused is how long the box's processes were frozen for the capture
	// (zero for a box that was paused already).
	Paused time.Duration
	// Entries and Bytes are what the captured layer holds: entries, and
	// the data bytes copied to make it (in all passes).
	Entries int
	Bytes   int64
	// FrozenBytes is what was copied while the box was frozen.
	FrozenBytes int64
}

// Snapshotter is implemented by drivers that can capture a box's state.
// hogplane calls it only on a running or paused box, never alongside
// another method on the same box but State, Stats and Dial.
type Snapshotter interface {
	// SnapshotKind is what CaptureLayer captures (SnapshotFilesystem).
	SnapshotKind() string
	// CaptureLayer copies box id's writable layer, as it is at one
	// instant, into the new directory dir (in the format of package
	// layer), freezing the box only as long as it must and never leaving
	// it frozen: a running box is running again when CaptureLayer
	// returns, whatever the outcome; a paused box stays paused. A
	// cancelled ctx abandons the copy. On error, dir may hold part of a
	// copy for the caller to remove.
	CaptureLayer(ctx context.Context, id, dir string) (Capture, error)
}

// Resources are the limits of a box that can change while it runs.
type Resources struct {
	// CPUs is the CPU quota in whole CPUs (0: none).
	CPUs int64
	// MemoryMiB caps memory, with no swap beyond it (0: none).
	MemoryMiB int64
	// Pids caps the number of tasks (0: the driver's default).
	Pids int64
}

// Updater is implemented by drivers that can change a running box's
// limits in place. hogplane uses it to hand a box started ahead of demand
// (a warm box) the shape a create asked for.
type Updater interface {
	// Update sets box id's limits to r, as Create sets them from a Spec
	// with the same values. Lowering memory below what the box uses fails
	// and leaves the old limit.
	Update(ctx context.Context, id string, r Resources) error
}
