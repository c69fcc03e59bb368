-- Schema version 1: every resource factord stores.
--
-- Rules for this and later migrations: each file runs inside one BEGIN IMMEDIATE transaction
-- together with its PRAGMA user_version bump, with foreign_keys OFF and a foreign_key_check
-- before commit (so a later migration may rebuild a table the SQLite way: create new, copy,
-- drop old, rename). Never edit a migration that has shipped; add the next number instead.
-- Tables are STRICT so a wrongly typed bind fails loudly instead of being stored as text.
-- Timestamps are UTC ISO-8601 text ("2024-01-31T12:00:00Z"); JSON columns hold text that
-- json_valid() accepts.

-- Dense matrices as BLOBs: row-major, little-endian IEEE-754 exactly as in memory on x86_64
-- (8 bytes per cell for f64, 4 for f32). checksum is FNV-1a 64 of the blob bytes, stored as
-- a signed 64-bit integer (same bits). Readers verify dtype, shape and checksum.
-- AUTOINCREMENT: an id is never reused, so the matrix ids a row references change with every
-- write of it (panels.values_id is a change stamp no clock can collide).
CREATE TABLE matrices (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    dtype     TEXT    NOT NULL CHECK (dtype IN ('f64', 'f32')),
    rows      INTEGER NOT NULL CHECK (rows >= 0),
    cols      INTEGER NOT NULL CHECK (cols >= 0),
    checksum  INTEGER NOT NULL,
    data      BLOB    NOT NULL
) STRICT;

-- Every security ever seen in a panel, with the first and last month it appeared in. The
-- range only widens: replacing or deleting a month does not narrow it.
CREATE TABLE securities (
    id          TEXT PRIMARY KEY,
    first_month TEXT NOT NULL,
    last_month  TEXT NOT NULL
) STRICT;

-- One month of the cross-section, raw (not normalised). values is (n_rows, n_cols) f64, row
-- i of every matrix belongs to ids[i]; ret and mktcap are (n_rows, 1) or NULL when the month
-- has no such column. n_missing counts NaN cells of values, ret and mktcap together
-- (fd_panel_missing_cells, the count the PUT answer reports).
CREATE TABLE panels (
    month      TEXT    PRIMARY KEY CHECK (length(month) = 7),
    n_rows     INTEGER NOT NULL,
    n_cols     INTEGER NOT NULL,
    n_missing  INTEGER NOT NULL,
    columns    TEXT    NOT NULL CHECK (json_valid(columns)),
    ids        TEXT    NOT NULL CHECK (json_valid(ids)),
    values_id  INTEGER NOT NULL REFERENCES matrices (id),
    ret_id     INTEGER REFERENCES matrices (id),
    mktcap_id  INTEGER REFERENCES matrices (id),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- A panel's matrices belong to it alone: deleting the row (a DELETE, or a replace done as
-- delete + insert) removes them, whoever deletes it.
CREATE TRIGGER panels_free_matrices AFTER DELETE ON panels
BEGIN
    DELETE FROM matrices WHERE id IN (OLD.values_id, OLD.ret_id, OLD.mktcap_id);
END;
-- Child-key indexes: without them every matrix DELETE scans the table for references.
CREATE INDEX panels_values_id ON panels (values_id);
CREATE INDEX panels_ret_id ON panels (ret_id);
CREATE INDEX panels_mktcap_id ON panels (mktcap_id);

-- Benchmark factor returns in decimals (0.0289, not 2.89); source says where they came from
-- ("ken-french", "json", ...).
CREATE TABLE factors (
    month      TEXT NOT NULL CHECK (length(month) = 7),
    name       TEXT NOT NULL,
    value      REAL NOT NULL,
    source     TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (month, name)
) STRICT;

-- A named model: its kind ("ipca", "ca2", ...), number of factors and the spec it was created
-- with (hyper-parameters, windows) as JSON.
CREATE TABLE models (
    name       TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    k          INTEGER NOT NULL CHECK (k >= 0),
    spec       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(spec)),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- One trained version of a model; immutable once 'ready' except for its state. weights is
-- the model's single contiguous parameter block; factors the in-sample factor series
-- (T, K) whose rows are the months in `months` (JSON array of keys).
CREATE TABLE model_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model       TEXT    NOT NULL REFERENCES models (name) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 1),
    state       TEXT    NOT NULL DEFAULT 'training'
                CHECK (state IN ('training', 'loading', 'ready', 'failed', 'retired')),
    spec        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(spec)),
    train_from  TEXT,
    train_to    TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    fit_stats   TEXT    CHECK (fit_stats IS NULL OR json_valid(fit_stats)),
    weights_id  INTEGER REFERENCES matrices (id),
    factors_id  INTEGER REFERENCES matrices (id),
    months      TEXT    CHECK (months IS NULL OR json_valid(months)),
    job_id      INTEGER,
    error       TEXT,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (model, version)
) STRICT;

CREATE TRIGGER model_versions_free_matrices AFTER DELETE ON model_versions
BEGIN
    DELETE FROM matrices WHERE id IN (OLD.weights_id, OLD.factors_id);
END;
CREATE INDEX model_versions_weights_id ON model_versions (weights_id);
CREATE INDEX model_versions_factors_id ON model_versions (factors_id);

-- Named pointers ("stable", "canary", ...) at versions of a model; moved by one UPDATE. A
-- version a label points at cannot be deleted (the label must move first); deleting the model
-- removes both.
CREATE TABLE labels (
    model      TEXT    NOT NULL REFERENCES models (name) ON DELETE CASCADE,
    label      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (model, label),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
) STRICT;

-- Background work (training, backtests, imports). Jobs outlive their model (history), so
-- model is a plain name, not a foreign key. heartbeat_at lets a restarted daemon tell a
-- running job from one orphaned by a crash.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    model        TEXT,
    state        TEXT    NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    params       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
    progress     REAL    NOT NULL DEFAULT 0,
    losses       TEXT    CHECK (losses IS NULL OR json_valid(losses)),
    result       TEXT    CHECK (result IS NULL OR json_valid(result)),
    error        TEXT,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    started_at   TEXT,
    finished_at  TEXT,
    heartbeat_at TEXT
) STRICT;
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_model ON jobs (model);
