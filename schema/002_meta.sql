-- pressmon schema, version 2: a small key/value table for the store's own
-- bookkeeping.  `catalog` holds a fingerprint of the metric catalog the
-- `metrics` rows and the `sample_rates` view were written from, so that a
-- recorder rewrites them (a schema change every other connection must
-- notice) only when the catalog really changed.
CREATE TABLE pressmon_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
