// Package api holds the Go types of hogland's public /v1 HTTP API and the
// OpenAPI document that describes it. The server, the Go client and the
// in-box agent all speak these types; openapi.yaml is the contract and a
// test keeps the two in step.
package api

import (
	"encoding/json"
	"time"
)

// Box statuses.
const (
	StatusCreating = "creating"
	StatusRunning  = "running"
	StatusPaused   = "paused"
	StatusStopped  = "stopped"
	StatusFailed   = "failed"
)

// Termination reasons.
const (
	ReasonOOM        = "oom"
	ReasonTTLExpired = "ttl_expired"
	ReasonDestroyed  = "destroyed"
	ReasonHostLost   = "host_lost"
	ReasonInitExited = "init_exited"
	ReasonCreateFail = "create_failed"
)

// Access types: who may use a box's proxy.
const (
	AccessNone   = "none"
	AccessPublic = "public"
)

// Problem is an RFC 9457 problem-details body, with the request id.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Extra members beyond the standard ones (for example "quota").
	Extra map[string]any `json:"-"`
}

// MarshalJSON flattens Extra into the object.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON keeps unknown members in Extra.
func (p *Problem) UnmarshalJSON(b []byte) error {
	type plain Problem
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, k := range []string{"type", "title", "status", "detail", "instance", "request_id"} {
		delete(m, k)
	}
	*p = Problem(q)
	if len(m) > 0 {
		p.Extra = m
	}
	return nil
}

// Principal is who a credential belongs to.
type Principal struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"` // user or service
	Admin     bool      `json:"admin"`
	CreatedAt time.Time `json:"created_at"`
}

// Me answers GET /v1/me.
type Me struct {
	Principal Principal `json:"principal"`
	// AuthPath names how this call was authenticated: api_token, k8s_sa,
	// github_oidc or tailscale.
	AuthPath string `json:"auth_path"`
	// TokenID is the id of the API token used, when one was.
	TokenID string `json:"token_id,omitempty"`
	// TrustMappingID is the trust mapping that admitted the caller, and
	// Subject the external identity it matched (the OIDC sub claim or the
	// tailnet login), on the k8s_sa, github_oidc and tailscale paths.
	TrustMappingID string `json:"trust_mapping_id,omitempty"`
	Subject        string `json:"subject,omitempty"`
	// DisplayName is the tailnet user's name (tailscale path).
	DisplayName string `json:"display_name,omitempty"`
}

// Range is a valid range of an integer setting and its default.
type Range struct {
	Min     int64 `json:"min"`
	Max     int64 `json:"max"`
	Default int64 `json:"default"`
}

// Quota is what a principal may hold at once.
type Quota struct {
	MaxBoxes         int64 `json:"max_boxes"`
	MaxCPUs          int64 `json:"max_cpus"`
	MaxMemoryMiB     int64 `json:"max_memory_mib"`
	MaxSnapshotBytes int64 `json:"max_snapshot_bytes"`
}

// Usage is what a principal holds now (boxes not stopped or failed, and
// stored snapshots).
type Usage struct {
	Boxes         int64 `json:"boxes"`
	CPUs          int64 `json:"cpus"`
	MemoryMiB     int64 `json:"memory_mib"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
}

// KindInfo describes a registered box kind and its server-side defaults.
type KindInfo struct {
	Name              string `json:"name"`
	DefaultTTLSeconds int64  `json:"default_ttl_seconds"`
	Description       string `json:"description,omitempty"`
}

// Limits answers GET /v1/limits.
type Limits struct {
	CPUs               Range      `json:"cpus"`
	MemoryMiB          Range      `json:"memory_mib"`
	DiskGiB            Range      `json:"disk_gib"`
	TTLSeconds         Range      `json:"ttl_seconds"`
	ExecTimeoutSeconds Range      `json:"exec_timeout_seconds"`
	FileSizeBytes      Range      `json:"file_size_bytes"`
	ExecOutputBytes    int64      `json:"exec_output_bytes"`
	Images             []string   `json:"images"`
	Kinds              []KindInfo `json:"kinds"`
	Quota              Quota      `json:"quota"`
	Usage              Usage      `json:"usage"`
	RateLimit          RateLimit  `json:"rate_limit"`
}

// BoxSpec is the shape of a box.
type BoxSpec struct {
	Name      string `json:"name"`
	Image     string `json:"image"`
	CPUs      int64  `json:"cpus"`
	MemoryMiB int64  `json:"memory_mib"`
	DiskGiB   int64  `json:"disk_gib"`
}

// Box is the view of a hogbox.
type Box struct {
	ID                string     `json:"id"`
	Status            string     `json:"status"`
	TerminationReason string     `json:"termination_reason,omitempty"`
	Kind              string     `json:"kind"`
	Spec              BoxSpec    `json:"spec"`
	Tags              []string   `json:"tags"`
	AccessType        string     `json:"access_type"`
	TTLSeconds        int64      `json:"ttl_seconds"`
	ExpiresAt         *time.Time `json:"expires_at,omitempty"`
	SnapshotID        string     `json:"snapshot_id,omitempty"`
	OwnerID           string     `json:"owner_id"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	StartedAt         *time.Time `json:"started_at,omitempty"`
	EndedAt           *time.Time `json:"ended_at,omitempty"`
}

// CreateBoxRequest is the body of POST /v1/hogboxes. Zero values mean
// "use the default" (of the kind, the image or the server).
type CreateBoxRequest struct {
	Name       string            `json:"name,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	Image      string            `json:"image,omitempty"`
	SnapshotID string            `json:"snapshot_id,omitempty"`
	CPUs       int64             `json:"cpus,omitempty"`
	MemoryMiB  int64             `json:"memory_mib,omitempty"`
	DiskGiB    int64             `json:"disk_gib,omitempty"`
	TTLSeconds *int64            `json:"ttl_seconds,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	AccessType string            `json:"access_type,omitempty"`
}

// UpdateBoxRequest is the body of PATCH /v1/hogboxes/{id}; absent fields
// are left as they are.
type UpdateBoxRequest struct {
	Name       *string   `json:"name,omitempty"`
	Tags       *[]string `json:"tags,omitempty"`
	TTLSeconds *int64    `json:"ttl_seconds,omitempty"`
}

// BoxList is one page of boxes. NextCursor is empty on the last page.
type BoxList struct {
	Items      []Box  `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ExecRequest runs a command in a box.
type ExecRequest struct {
	Argv           []string          `json:"argv"`
	Env            map[string]string `json:"env,omitempty"`
	Workdir        string            `json:"workdir,omitempty"`
	Stdin          string            `json:"stdin,omitempty"`
	TimeoutSeconds float64           `json:"timeout_seconds,omitempty"`
	// StdinOpen (streaming exec only) keeps stdin open after Stdin, for
	// more input sent to .../execs/{exec_id}/stdin.
	StdinOpen bool `json:"stdin_open,omitempty"`
}

// ExecResult is the outcome of a batch exec. ExitCode is -1 when the
// process was killed by a signal (including a timeout) before it could
// report an exit status.
type ExecResult struct {
	ExitCode        int    `json:"exit_code"`
	Stdout          string `json:"stdout"`
	Stderr          string `json:"stderr"`
	StdoutTruncated bool   `json:"stdout_truncated"`
	StderrTruncated bool   `json:"stderr_truncated"`
	TimedOut        bool   `json:"timed_out"`
	DurationMS      int64  `json:"duration_ms"`
}

// Exec event kinds of a streaming exec.
const (
	EventStdout = "stdout"
	EventStderr = "stderr"
	EventExit   = "exit"
)

// ExecEvent is the data of one server-sent event of a streaming exec. The
// SSE event name equals Kind and the SSE id is Seq.
type ExecEvent struct {
	Kind       string `json:"kind"`
	Seq        int64  `json:"seq"`
	Data       string `json:"data,omitempty"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
}

// FileInfo answers a file write.
type FileInfo struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   string `json:"mode"`
}

// CreatePrincipalRequest is the body of POST /v1/principals (admins only).
type CreatePrincipalRequest struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"` // user (default) or service
	Admin bool   `json:"admin,omitempty"`
}

// CreateTokenRequest is the body of POST /v1/principals/{id}/tokens.
type CreateTokenRequest struct {
	Name             string `json:"name,omitempty"`
	ExpiresInSeconds int64  `json:"expires_in_seconds,omitempty"`
}

// Token is an API token's record. Token (the secret) is shown only once,
// in the answer to its creation.
type Token struct {
	ID          string     `json:"id"`
	PrincipalID string     `json:"principal_id"`
	Name        string     `json:"name,omitempty"`
	Token       string     `json:"token,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// BoxEvent is one entry of a box's lifecycle history.
type BoxEvent struct {
	Seq    int64     `json:"seq"`
	BoxID  string    `json:"box_id"`
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Status string    `json:"status,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// BoxEventList answers GET /v1/hogboxes/{id}/events.
type BoxEventList struct {
	Items []BoxEvent `json:"items"`
}

// CreatePreviewTokenRequest is the body of POST
// /v1/hogboxes/{id}/proxy-tokens.
type CreatePreviewTokenRequest struct {
	Port             int   `json:"port"`
	ExpiresInSeconds int64 `json:"expires_in_seconds,omitempty"`
}

// PreviewToken opens one port of one box until it expires or is revoked.
// Token (the secret) and URL are only in the answer to its creation.
type PreviewToken struct {
	ID        string     `json:"id"`
	BoxID     string     `json:"box_id"`
	Port      int        `json:"port"`
	Token     string     `json:"token,omitempty"`
	URL       string     `json:"url,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// PreviewTokenList answers GET /v1/hogboxes/{id}/proxy-tokens.
type PreviewTokenList struct {
	Items []PreviewToken `json:"items"`
}

// SignalRequest is the body of POST .../execs/{exec_id}/signal: a signal
// name with or without SIG ("TERM", "SIGKILL"), or its number.
type SignalRequest struct {
	Signal string `json:"signal"`
}
