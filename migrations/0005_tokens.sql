-- Schema version 5: API tokens (issue 15) and where an imported version came from.
--
-- A token is "fdt_<id>_<secret>" (src/store/tokens.c). Only its id and a keyed hash of its
-- secret are stored: BLAKE2b-256 (libsodium crypto_generichash) keyed with this database's
-- own random key, so the table alone neither reveals a token nor lets one be tested offline.
CREATE TABLE auth_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB    NOT NULL CHECK (length(key) = 32)
) STRICT;

-- scopes: comma-separated subset of read, ingest, train, admin (admin implies the others).
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY CHECK (length(id) = 16),
    name       TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revoked_at TEXT
) STRICT;

-- Bumped by every change to tokens, so a running daemon notices a token created or revoked
-- by `factord token` in another process with one cheap read.
CREATE TABLE token_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO token_changes (id, n) VALUES (1, 0);
CREATE TRIGGER tokens_changed_insert AFTER INSERT ON tokens
BEGIN
    UPDATE token_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER tokens_changed_update AFTER UPDATE ON tokens
BEGIN
    UPDATE token_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER tokens_changed_delete AFTER DELETE ON tokens
BEGIN
    UPDATE token_changes SET n = n + 1 WHERE id = 1;
END;

-- An imported version (POST /v1/models/{m}/versions, `factord artifact import`) records the
-- artifact it came from: {"sha256", "source_model", "source_version", "imported_at"}. NULL for
-- versions trained here.
ALTER TABLE model_versions ADD COLUMN origin TEXT CHECK (origin IS NULL OR json_valid(origin));
