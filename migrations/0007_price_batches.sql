-- Schema version 7: daily bars are written in batches, so a large import commits (and the
-- WAL is checkpointed) every few hundred thousand bars and still becomes visible at once.
--
-- An import creates a price_batches row in state 'writing', inserts its bars tagged with the
-- batch id in many short transactions (invisible: readers only see bars of 'committed'
-- batches), then flips the row to 'committed' in one small transaction. Where batches hold
-- the same (ticker, date), the highest committed batch is the bar; the import then deletes the
-- bars it superseded, also in short transactions. price_batch_tickers lists the tickers a
-- batch wrote, so removing an abandoned batch (its process died before committing) or what a
-- batch superseded touches only those tickers' ranges of the key. pid is the writing
-- process: a 'writing' batch whose process is gone is abandoned (one host: SQLite's file
-- locking already assumes it). Only one batch writes at a time.
CREATE TABLE price_batches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    state      TEXT    NOT NULL CHECK (state IN ('writing', 'committed')),
    pid        INTEGER NOT NULL,
    rows       INTEGER NOT NULL DEFAULT 0,
    started_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

CREATE TABLE price_batch_tickers (
    batch      INTEGER NOT NULL REFERENCES price_batches (id) ON DELETE CASCADE,
    ticker     TEXT    NOT NULL,
    superseded INTEGER NOT NULL DEFAULT 0, -- the ticker had bars before: clean up after commit
    PRIMARY KEY (batch, ticker)
) STRICT, WITHOUT ROWID;

-- The bars stored so far become batch 1, committed.
INSERT INTO price_batches (id, state, pid, rows)
    SELECT 1, 'committed', 0, count(*) FROM prices;

CREATE TABLE prices_batched (
    ticker TEXT    NOT NULL CHECK (length(ticker) BETWEEN 1 AND 32),
    date   TEXT    NOT NULL CHECK (length(date) = 10),
    batch  INTEGER NOT NULL,
    open   REAL,
    high   REAL,
    low    REAL,
    close  REAL    NOT NULL CHECK (close > 0),
    volume REAL    NOT NULL CHECK (volume >= 0),
    PRIMARY KEY (ticker, date, batch)
) STRICT, WITHOUT ROWID;
INSERT INTO prices_batched (ticker, date, batch, open, high, low, close, volume)
    SELECT ticker, date, 1, open, high, low, close, volume FROM prices;
INSERT INTO price_batch_tickers (batch, ticker) SELECT DISTINCT 1, ticker FROM prices;
DROP TABLE prices;
ALTER TABLE prices_batched RENAME TO prices;
