-- Schema version 8: a panel built from daily bars that end before its month does (the last
-- month of a file that stops mid-month) is partial: partial_through holds the date of the
-- last bar in it ("YYYY-MM-DD"), NULL for a complete month. Whatever uses the month's
-- returns as realised (decile returns, evaluations, backtests) says so (docs/characteristics.md).
ALTER TABLE panels ADD COLUMN partial_through TEXT
    CHECK (partial_through IS NULL OR length(partial_through) = 10);
