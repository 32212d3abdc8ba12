package store

// identitySchema adds what identity needs beyond principals and tokens:
// trust mappings (which external identities map to which principal),
// principal links (principals provisioned for an external identity),
// per-principal quota overrides, and the audit log.
const identitySchema = `CREATE TABLE trust_mappings (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	issuer TEXT NOT NULL DEFAULT '',
	match TEXT NOT NULL DEFAULT '{}',
	principal_id TEXT REFERENCES principals(id),
	provision INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX trust_mappings_issuer ON trust_mappings(issuer, kind);
CREATE TABLE principal_links (
	kind TEXT NOT NULL,
	subject TEXT NOT NULL,
	principal_id TEXT NOT NULL REFERENCES principals(id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (kind, subject)
);
CREATE TABLE principal_quotas (
	principal_id TEXT PRIMARY KEY REFERENCES principals(id),
	max_boxes INTEGER,
	max_cpus INTEGER,
	max_memory_mib INTEGER,
	max_snapshot_bytes INTEGER
);
CREATE TABLE audit_log (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	at INTEGER NOT NULL,
	principal_id TEXT NOT NULL,
	auth_path TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	method TEXT NOT NULL,
	route TEXT NOT NULL,
	box_id TEXT NOT NULL DEFAULT '',
	snapshot_id TEXT NOT NULL DEFAULT '',
	target_id TEXT NOT NULL DEFAULT '',
	status INTEGER NOT NULL,
	request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_principal ON audit_log(principal_id, seq);
CREATE INDEX audit_log_box ON audit_log(box_id, seq);
CREATE INDEX audit_log_snapshot ON audit_log(snapshot_id, seq)`
