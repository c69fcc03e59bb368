-- Schema version 4: rolling out-of-sample backtests (issue 5; docs/backtests.md).
--
-- A backtest is run by one job and shares its id (backtests.id = jobs.id), so its state is
-- the job's state and there is no second copy of it to drift. Its refits are versions of the
-- model named like the backtest. Each completed window is one row of backtest_windows,
-- written in the same transaction as the window's model version, so a restarted job skips
-- exactly the windows that finished. The stitched result (report and monthly series) is
-- written in the transaction that marks the job succeeded.
CREATE TABLE backtests (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    model       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    k           INTEGER NOT NULL CHECK (k >= 1),
    spec        TEXT    NOT NULL CHECK (json_valid(spec)),
    n_windows   INTEGER NOT NULL CHECK (n_windows >= 1),
    report      TEXT    CHECK (report IS NULL OR json_valid(report)),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at TEXT
) STRICT;

-- One completed window: its months, the version fitted on it, and what its test months
-- produced: the realised factors f_t and lambda_{t-1} (both (months, K) f64 matrices whose
-- rows are the months listed in `months`) and the window's own out-of-sample metrics.
CREATE TABLE backtest_windows (
    backtest_id  INTEGER NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL CHECK (idx >= 0),
    train_from   TEXT    NOT NULL,
    train_to     TEXT    NOT NULL,
    valid_from   TEXT,
    valid_to     TEXT,
    test_from    TEXT    NOT NULL,
    test_to      TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    months       TEXT    NOT NULL CHECK (json_valid(months)),
    factors_id   INTEGER NOT NULL REFERENCES matrices (id),
    lambda_id    INTEGER NOT NULL REFERENCES matrices (id),
    metrics      TEXT    NOT NULL CHECK (json_valid(metrics)),
    completed_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (backtest_id, idx)
) STRICT;

CREATE TRIGGER backtest_windows_free_matrices AFTER DELETE ON backtest_windows
BEGIN
    DELETE FROM matrices WHERE id IN (OLD.factors_id, OLD.lambda_id);
END;
CREATE INDEX backtest_windows_factors_id ON backtest_windows (factors_id);
CREATE INDEX backtest_windows_lambda_id ON backtest_windows (lambda_id);

-- The stitched monthly series, one row per test month: gross and net returns of the four
-- decile strategies, and the IC and rank IC of expected against realised returns. NULL where
-- the value is missing (a month too small to sort, an undefined correlation).
CREATE TABLE backtest_returns (
    backtest_id INTEGER NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
    month       TEXT    NOT NULL CHECK (length(month) = 7),
    window_idx  INTEGER NOT NULL,
    ew_ls REAL, ew_ls_net REAL, ew_lo REAL, ew_lo_net REAL,
    vw_ls REAL, vw_ls_net REAL, vw_lo REAL, vw_lo_net REAL,
    ic REAL, rank_ic REAL,
    PRIMARY KEY (backtest_id, month)
) STRICT, WITHOUT ROWID;
