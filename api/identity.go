package api

import "time"

// Auth paths, as /v1/me and the audit log name them.
const (
	AuthPathAPIToken   = "api_token"
	AuthPathK8sSA      = "k8s_sa"
	AuthPathGitHubOIDC = "github_oidc"
	AuthPathTailscale  = "tailscale"
)

// Trust mapping kinds.
const (
	TrustK8sSA     = "k8s_sa"
	TrustGitHub    = "github"
	TrustTailscale = "tailscale"
)

// RateLimit is the per-principal request rate limit (token buckets). A
// rate of 0 means no limit.
type RateLimit struct {
	RequestsPerSecond float64 `json:"requests_per_second"`
	RequestsBurst     int     `json:"requests_burst"`
	CreatesPerSecond  float64 `json:"creates_per_second"`
	CreatesBurst      int     `json:"creates_burst"`
}

// QuotaOverrides are a principal's own quota; an absent member follows
// the server default.
type QuotaOverrides struct {
	MaxBoxes         *int64 `json:"max_boxes,omitempty"`
	MaxCPUs          *int64 `json:"max_cpus,omitempty"`
	MaxMemoryMiB     *int64 `json:"max_memory_mib,omitempty"`
	MaxSnapshotBytes *int64 `json:"max_snapshot_bytes,omitempty"`
}

// PrincipalDetail is a principal with its effective quota, its overrides
// and its usage (admin views).
type PrincipalDetail struct {
	Principal      Principal      `json:"principal"`
	Quota          Quota          `json:"quota"`
	QuotaOverrides QuotaOverrides `json:"quota_overrides"`
	Usage          Usage          `json:"usage"`
}

// PrincipalList answers GET /v1/principals.
type PrincipalList struct {
	Items []Principal `json:"items"`
}

// UpdatePrincipalRequest is the body of PATCH /v1/principals/{id}. Quota,
// when present, replaces the principal's overrides: members it leaves out
// follow the server default ({} clears every override).
type UpdatePrincipalRequest struct {
	Quota *QuotaOverrides `json:"quota,omitempty"`
}

// TokenList answers GET /v1/principals/{id}/tokens; secrets are never in it.
type TokenList struct {
	Items []Token `json:"items"`
}

// TrustMapping admits external identities as a principal: Kubernetes
// service accounts of one cluster (k8s_sa), GitHub Actions jobs (github),
// or tailnet users behind a Tailscale ingress (tailscale). Match maps a
// claim to an exact value or a glob ('*' does not cross '/').
type TrustMapping struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	Issuer      string            `json:"issuer,omitempty"`
	Match       map[string]string `json:"match"`
	PrincipalID string            `json:"principal_id,omitempty"`
	Provision   bool              `json:"provision"`
	CreatedAt   time.Time         `json:"created_at"`
}

// CreateTrustMappingRequest is the body of POST /v1/trust-mappings.
type CreateTrustMappingRequest struct {
	Kind        string            `json:"kind"`
	Issuer      string            `json:"issuer,omitempty"`
	Match       map[string]string `json:"match"`
	PrincipalID string            `json:"principal_id,omitempty"`
	Provision   bool              `json:"provision,omitempty"`
}

// TrustMappingList answers GET /v1/trust-mappings.
type TrustMappingList struct {
	Items []TrustMapping `json:"items"`
}

// AuditEntry is one call that changed something.
type AuditEntry struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	PrincipalID string    `json:"principal_id"`
	AuthPath    string    `json:"auth_path"`
	Subject     string    `json:"subject,omitempty"`
	Method      string    `json:"method"`
	Route       string    `json:"route"`
	BoxID       string    `json:"box_id,omitempty"`
	SnapshotID  string    `json:"snapshot_id,omitempty"`
	TargetID    string    `json:"target_id,omitempty"`
	Status      int       `json:"status"`
	RequestID   string    `json:"request_id"`
}

// AuditList answers GET /v1/audit, oldest first. NextAfter, when present,
// is the after= of the next page.
type AuditList struct {
	Items     []AuditEntry `json:"items"`
	NextAfter int64        `json:"next_after,omitempty"`
}
