-- Schema version 2: daily OHLCV bars, as PUT /v1/prices and `factord prices import` store
-- them (issue 6); the monthly panels are built from this table (POST /v1/panels/build).
--
-- One row per ticker and trading day ("YYYY-MM-DD"). open/high/low may be NULL (the CSV
-- allows empty cells); close is positive and volume non-negative, as the importer enforces.
-- Keyed (ticker, date) WITHOUT ROWID, so a ticker's history is contiguous on disk and an
-- upsert of an existing bar is one B-tree lookup. Range loads filter on date with a scan:
-- a build reads a large share of the table anyway (its months plus 37 months of history).
CREATE TABLE prices (
    ticker TEXT NOT NULL CHECK (length(ticker) BETWEEN 1 AND 32),
    date   TEXT NOT NULL CHECK (length(date) = 10),
    open   REAL,
    high   REAL,
    low    REAL,
    close  REAL NOT NULL CHECK (close > 0),
    volume REAL NOT NULL CHECK (volume >= 0),
    PRIMARY KEY (ticker, date)
) STRICT, WITHOUT ROWID;
