-- Schema version 6: macro series (PUT /v1/macro), named monthly values such as the
-- Welch-Goyal equity-premium predictors, which models read lagged (the value of month t-1
-- prices month t). Same shape as `factors`: one row per (month, name), values as given.
CREATE TABLE macro_series (
    month      TEXT NOT NULL CHECK (length(month) = 7),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    value      REAL NOT NULL,
    source     TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (month, name)
) STRICT;
