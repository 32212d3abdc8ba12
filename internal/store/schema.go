package store

// migrations[i] brings the schema from version i to i+1. Statements are
// separated by ";\n". Never edit a released migration: append a new one.
var migrations = []string{
	`CREATE TABLE principals (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	admin INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE TABLE tokens (
	id TEXT PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES principals(id),
	hash TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	last_used_at INTEGER,
	revoked_at INTEGER
);
CREATE TABLE boxes (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL REFERENCES principals(id),
	name TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	image TEXT NOT NULL,
	snapshot_id TEXT NOT NULL DEFAULT '',
	cpus INTEGER NOT NULL,
	memory_mib INTEGER NOT NULL,
	disk_gib INTEGER NOT NULL,
	env TEXT NOT NULL DEFAULT '{}',
	access_type TEXT NOT NULL,
	ttl_seconds INTEGER NOT NULL,
	status TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	started_at INTEGER,
	ended_at INTEGER,
	expires_at INTEGER
);
CREATE UNIQUE INDEX boxes_live_name ON boxes(owner_id, name)
	WHERE name <> '' AND status IN ('creating', 'running', 'paused');
CREATE INDEX boxes_owner_created ON boxes(owner_id, created_at, id);
CREATE INDEX boxes_status ON boxes(status);
CREATE TABLE box_tags (
	box_id TEXT NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
	tag TEXT NOT NULL,
	PRIMARY KEY (box_id, tag)
);
CREATE INDEX box_tags_tag ON box_tags(tag);
CREATE TABLE box_events (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	box_id TEXT NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	type TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX box_events_box ON box_events(box_id, seq);
CREATE TABLE idempotency_keys (
	principal_id TEXT NOT NULL,
	key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	box_id TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (principal_id, key)
)`,
	`CREATE TABLE proxy_tokens (
	id TEXT PRIMARY KEY,
	box_id TEXT NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
	owner_id TEXT NOT NULL,
	port INTEGER NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX proxy_tokens_box ON proxy_tokens(box_id)`,
	identitySchema, // trust mappings, principal links, quota overrides, audit log (identity.go)
	snapshotSchema, // snapshots, snapshot aliases, devboxes and their history (snapshots.go)
}
