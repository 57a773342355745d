-- Schema version 2 (SQLite): de-duplication without a random index on the
-- write path. The unique index on records.event_hash took one random page
-- per stored record (vendor event ids are random); it is replaced by the
-- dedup table, which the writer fills asynchronously in sorted runs (see
-- internal/ledger/dedup.go): a record's (bucket, event_hash) lands there
-- within seconds, and until then the writer finds it in memory (rebuilt at
-- open from the records after the meta key dedup_rid). bucket is the
-- record's stored time (the time in its id) divided by the de-duplication
-- window; buckets older than the previous one are deleted.
CREATE TABLE dedup (
	bucket INTEGER NOT NULL,
	h      BLOB    NOT NULL,
	rid    INTEGER NOT NULL,
	PRIMARY KEY (bucket, h)
) WITHOUT ROWID;

DROP INDEX records_event;

-- A data key's subject: the index data_keys_subject took a random page per
-- new data key (subject hashes are random, and a subject new to the key
-- cache gets a new key). subject_keys replaces it, filled like dedup in
-- sorted runs after the commit; the meta key subject_keys_rowid is the
-- highest data_keys rowid it covers, and queries by subject also read the
-- data keys after it (a few seconds' worth).
CREATE TABLE subject_keys (
	subject_hash INTEGER NOT NULL,
	dk_id        TEXT    NOT NULL,
	PRIMARY KEY (subject_hash, dk_id)
) WITHOUT ROWID;
INSERT INTO subject_keys (subject_hash, dk_id) SELECT subject_hash, dk_id FROM data_keys ORDER BY subject_hash, dk_id;
INSERT INTO meta (key, value) SELECT 'subject_keys_rowid', CAST(coalesce(max(rowid), 0) AS TEXT) FROM data_keys;
DROP INDEX data_keys_subject;
