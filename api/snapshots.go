package api

import "time"

// Snapshot kinds.
const (
	// SnapshotFilesystem: the box's writable filesystem layer (OCI
	// boxes). A box made from it may have any shape within limits.
	SnapshotFilesystem = "filesystem"
	// SnapshotMemory: the whole machine, memory included (microVMs). A
	// box restored from it must have the same shape.
	SnapshotMemory = "memory"
)

// ReasonDevboxStopped ends the box of a devbox that was stopped (its disk
// lives on in the devbox's snapshot).
const ReasonDevboxStopped = "devbox_stopped"

// Shape is the size of a machine.
type Shape struct {
	CPUs      int64 `json:"cpus"`
	MemoryMiB int64 `json:"memory_mib"`
	DiskGiB   int64 `json:"disk_gib"`
}

// Snapshot is the record of a snapshot of a box.
type Snapshot struct {
	ID string `json:"id"`
	// BoxID is the box it was taken from.
	BoxID string `json:"box_id"`
	// ParentID is the snapshot that box was made from, if any.
	ParentID string `json:"parent_id,omitempty"`
	Kind     string `json:"kind"`
	Image    string `json:"image"`
	// Spec is the shape of the box it was taken from; a box made from
	// the snapshot with no shape given gets it.
	Spec Shape `json:"spec"`
	// SizeBytes is what this snapshot's own layer takes in storage.
	SizeBytes int64 `json:"size_bytes"`
	// PauseMS is how long the box's processes were frozen for it.
	PauseMS int64 `json:"pause_ms"`
	// DurationMS is the time the whole snapshot took.
	DurationMS int64 `json:"duration_ms"`
	// Depth is the number of snapshot layers a box made from it stacks
	// (1 for a snapshot of a box made from an image).
	Depth int `json:"depth"`
	// Digest identifies this snapshot's own layer archive.
	Digest  string   `json:"digest"`
	Aliases []string `json:"aliases"`
	// DevboxID is the devbox whose stop took it, if any.
	DevboxID  string    `json:"devbox_id,omitempty"`
	OwnerID   string    `json:"owner_id"`
	CreatedAt time.Time `json:"created_at"`
}

// SnapshotList is one page of snapshots. NextCursor is empty on the last
// page.
type SnapshotList struct {
	Items      []Snapshot `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// SnapshotAlias is a name for a snapshot, per principal.
type SnapshotAlias struct {
	Name       string    `json:"name"`
	SnapshotID string    `json:"snapshot_id"`
	UpdatedAt  time.Time `json:"updated_at"`
	// PreviousSnapshotID is, in the answer to a PUT that moved the alias,
	// the snapshot it pointed at before.
	PreviousSnapshotID string `json:"previous_snapshot_id,omitempty"`
}

// SnapshotAliasList answers GET /v1/snapshot-aliases.
type SnapshotAliasList struct {
	Items []SnapshotAlias `json:"items"`
}

// Devbox statuses. Starting and stopping are transitions in progress.
const (
	DevboxRunning  = "running"
	DevboxStopped  = "stopped"
	DevboxStarting = "starting"
	DevboxStopping = "stopping"
	DevboxFailed   = "failed"
)

// Devbox is a named, long-lived box that sleeps when idle.
type Devbox struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// BoxID is the box it runs in while running.
	BoxID string `json:"box_id,omitempty"`
	// SnapshotID holds its disk as it was last stopped.
	SnapshotID string `json:"snapshot_id,omitempty"`
	// SourceSnapshotID is the snapshot it was first made from, if any.
	SourceSnapshotID string            `json:"source_snapshot_id,omitempty"`
	Image            string            `json:"image"`
	Spec             Shape             `json:"spec"`
	Env              map[string]string `json:"env"`
	// AutoStopSeconds stops the devbox after this long without exec,
	// file or proxy calls (0: never).
	AutoStopSeconds int64 `json:"auto_stop_seconds"`
	// AutoStart lets an exec or a proxied request start a stopped devbox.
	AutoStart bool      `json:"auto_start"`
	OwnerID   string    `json:"owner_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateDevboxRequest is the body of POST /v1/devboxes. Zero values mean
// "use the default" (of the snapshot, the image or the server).
type CreateDevboxRequest struct {
	Name            string            `json:"name"`
	Image           string            `json:"image,omitempty"`
	SnapshotID      string            `json:"snapshot_id,omitempty"`
	CPUs            int64             `json:"cpus,omitempty"`
	MemoryMiB       int64             `json:"memory_mib,omitempty"`
	DiskGiB         int64             `json:"disk_gib,omitempty"`
	Env             map[string]string `json:"env,omitempty"`
	AutoStopSeconds *int64            `json:"auto_stop_seconds,omitempty"`
	AutoStart       *bool             `json:"auto_start,omitempty"`
}

// UpdateDevboxRequest is the body of PATCH /v1/devboxes/{devbox}.
type UpdateDevboxRequest struct {
	AutoStopSeconds *int64 `json:"auto_stop_seconds,omitempty"`
	AutoStart       *bool  `json:"auto_start,omitempty"`
}

// DevboxList is one page of devboxes. NextCursor is empty on the last
// page.
type DevboxList struct {
	Items      []Devbox `json:"items"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// DevboxEvent is one entry of a devbox's history.
type DevboxEvent struct {
	Seq      int64     `json:"seq"`
	DevboxID string    `json:"devbox_id"`
	At       time.Time `json:"at"`
	// Type is created, started, stopped, auto_started, auto_stopped,
	// box_lost or failed.
	Type       string `json:"type"`
	Status     string `json:"status,omitempty"`
	BoxID      string `json:"box_id,omitempty"`
	SnapshotID string `json:"snapshot_id,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

// DevboxEventList answers GET /v1/devboxes/{devbox}/events.
type DevboxEventList struct {
	Items []DevboxEvent `json:"items"`
}
