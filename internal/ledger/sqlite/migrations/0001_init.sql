-- Consent ledger schema, version 1 (SQLite). The PostgreSQL schema in
-- internal/ledger/postgres/migrations is the same, table for table.
-- Times are Unix nanoseconds; 0 means unset.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- One hash chain per writer (collector replica). kind is record, consent,
-- access, erase, purge or release; ref is the id of the record, consent
-- record or access-log entry; events (tombstones) carry their content in
-- body and are signed (sig).
CREATE TABLE chain (
	writer_id TEXT    NOT NULL,
	seq       INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	ref       TEXT    NOT NULL,
	at        INTEGER NOT NULL,
	digest    BLOB    NOT NULL,
	prev      BLOB    NOT NULL,
	link      BLOB    NOT NULL,
	body      BLOB,
	sig       BLOB,
	PRIMARY KEY (writer_id, seq)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
	writer_id TEXT    NOT NULL,
	seq       INTEGER NOT NULL,
	head      BLOB    NOT NULL,
	at        INTEGER NOT NULL,
	prev_seq  INTEGER NOT NULL,
	key_id    TEXT    NOT NULL,
	sig       BLOB    NOT NULL,
	PRIMARY KEY (writer_id, seq)
) WITHOUT ROWID;

-- Per-subject data keys (subject_key '' is a tenant's key for records
-- without a subject), wrapped by the key-encryption key kek_id. Erasure
-- deletes wrapped and sets erased_at; it finds a subject's keys by
-- subject_hash (8 bytes of SHA-256 of subject_key).
CREATE TABLE data_keys (
	dk_id        TEXT    NOT NULL PRIMARY KEY,
	tenant       TEXT    NOT NULL,
	subject_key  TEXT    NOT NULL,
	kek_id       TEXT    NOT NULL,
	wrapped      BLOB,
	created_at   INTEGER NOT NULL,
	erased_at    INTEGER NOT NULL DEFAULT 0,
	subject_hash INTEGER NOT NULL
);
CREATE INDEX data_keys_subject ON data_keys (subject_hash);

-- Quarantined records: metadata only; the encrypted payload is in payloads.
-- id is time-ordered (ULID), so the id index grows at its right edge.
-- Secondary indexes: id, the de-duplication key, data key, tenant+id
-- (a tenant's records newest first, and by time: ids are time-ordered).
-- The de-duplication index takes random inserts (vendor event ids are
-- random), so it indexes a compact derived key: event_hash = 16 bytes of
-- SHA-256 of (tenant, vendor, event_id). A subject's records are found
-- through its data keys (dk_id, time-ordered), not by an index on the
-- subject, which would take random inserts too.
CREATE TABLE records (
	rid            INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL,
	tenant         TEXT    NOT NULL,
	vendor         TEXT    NOT NULL,
	event_id       TEXT    NOT NULL,
	event_name     TEXT    NOT NULL,
	subject_key    TEXT    NOT NULL,
	interaction_id TEXT    NOT NULL,
	reasons        TEXT    NOT NULL,
	consent_status TEXT    NOT NULL,
	occurred_at    INTEGER NOT NULL,
	received_at    INTEGER NOT NULL,
	dk_id          TEXT    NOT NULL,
	payload_hash   BLOB    NOT NULL,
	writer_id      TEXT    NOT NULL,
	seq            INTEGER NOT NULL,
	released_at    INTEGER NOT NULL DEFAULT 0,
	purged_at      INTEGER NOT NULL DEFAULT 0,
	event_hash     BLOB    NOT NULL
);
CREATE UNIQUE INDEX records_id ON records (id);
CREATE UNIQUE INDEX records_event ON records (event_hash);
CREATE INDEX records_key ON records (dk_id);
CREATE INDEX records_tenant ON records (tenant, id);

-- AES-256-GCM payloads; a retention purge deletes the row.
CREATE TABLE payloads (
	rid        INTEGER PRIMARY KEY,
	nonce      BLOB NOT NULL,
	ciphertext BLOB NOT NULL
);

CREATE TABLE consents (
	rid            INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL,
	tenant         TEXT    NOT NULL,
	subject_key    TEXT    NOT NULL,
	interaction_id TEXT    NOT NULL,
	status         TEXT    NOT NULL,
	purposes       TEXT    NOT NULL,
	source         TEXT    NOT NULL,
	vendor         TEXT    NOT NULL,
	event_id       TEXT    NOT NULL,
	signal         TEXT    NOT NULL,
	caller         TEXT    NOT NULL,
	notice_id      TEXT    NOT NULL,
	details        BLOB,
	at             INTEGER NOT NULL,
	recorded_at    INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	writer_id      TEXT    NOT NULL,
	seq            INTEGER NOT NULL
);
CREATE UNIQUE INDEX consents_id ON consents (id);
CREATE INDEX consents_subject ON consents (tenant, subject_key, at);

CREATE TABLE access_log (
	rid       INTEGER PRIMARY KEY,
	id        TEXT    NOT NULL,
	at        INTEGER NOT NULL,
	identity  TEXT    NOT NULL,
	method    TEXT    NOT NULL,
	target    TEXT    NOT NULL,
	reason    TEXT    NOT NULL,
	result    TEXT    NOT NULL,
	writer_id TEXT    NOT NULL,
	seq       INTEGER NOT NULL
);
CREATE UNIQUE INDEX access_log_id ON access_log (id);
