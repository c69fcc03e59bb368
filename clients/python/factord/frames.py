"""pandas conversions for the factord client: daemon JSON to DataFrames and Series with a
monthly PeriodIndex (or an index of security ids), and DataFrames to request bodies.

pandas is imported on first use, so the rest of the package (the transport, the monthly job)
works without it; a call that needs it raises ImportError saying how to get it."""
import math

_pd = None


def pandas():
    """The pandas module, imported on first use."""
    global _pd
    if _pd is None:
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("this call returns pandas objects: install pandas "
                              "(Debian: apt-get install python3-pandas; pip: "
                              "pip install './clients/python[pandas]')") from e
        _pd = pd
    return _pd


def month_index(months, name="month"):
    """A monthly PeriodIndex from 'YYYY-MM' strings."""
    return pandas().PeriodIndex(list(months), freq="M", name=name)


def month_text(m):
    """'YYYY-MM' from a Period, Timestamp, datetime/date or a string (YYYY-MM[-DD], YYYYMM)."""
    if m is None:
        return None
    if hasattr(m, "strftime"):  # Period, Timestamp, datetime, date
        return m.strftime("%Y-%m")
    s = str(m)
    if len(s) == 6 and s.isdigit():
        return f"{s[:4]}-{s[4:]}"
    return s[:7]


def _cell(v):
    """A JSON value for a DataFrame cell: None for NaN/NA, plain Python numbers."""
    if v is None:
        return None
    try:
        if pandas().isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _id_text(v):
    v = _cell(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None if v is None else str(v)


def panel_body(df):
    """The JSON body for PUT /v1/panels/{month} from a DataFrame: pandas' split orient with
    the ids in "index" (the DataFrame's index) unless the frame has an `id` column.
    Floats are written by Python's json module (shortest round trip), NaN as null."""
    pd = pandas()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"put_panel takes a DataFrame, got {type(df).__name__}")
    cols = [str(c) for c in df.columns]
    body = {"columns": cols,
            "data": [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]}
    if "id" in cols:
        body["data"] = [[_id_text(v) if c == "id" else v for c, v in zip(cols, row)]
                        for row in body["data"]]
    else:
        body["index"] = [_id_text(v) for v in df.index]
    return body


def long_csv(df):
    """The CSV body for POST /v1/import from a long DataFrame with `id` and `date` columns
    (or a MultiIndex holding them); dates become YYYY-MM."""
    pd = pandas()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"import_long takes a DataFrame, got {type(df).__name__}")
    out = df.reset_index() if not {"id", "date"} <= set(map(str, df.columns)) else df.copy()
    out.columns = [str(c) for c in out.columns]
    missing = {"id", "date"} - set(out.columns)
    if missing:
        raise ValueError(f"import_long needs columns id and date (missing: {', '.join(sorted(missing))})")
    out = out[[c for c in out.columns if c != "index"]]
    out["date"] = [month_text(d) for d in out["date"]]
    return out.to_csv(index=False, float_format=None, na_rep="")


def factors_body(df, units):
    """JSON body for PUT /v1/factors from a DataFrame indexed by month, one column a factor."""
    rows = []
    for m, row in df.iterrows():
        r = {"month": month_text(m)}
        r.update({str(k): _cell(v) for k, v in row.items()})
        rows.append(r)
    return {"units": units, "factors": rows}


def frame_by_month(rows, month_key="month", drop=()):
    """A DataFrame with a monthly PeriodIndex from a list of flat dicts each holding `month_key`."""
    pd = pandas()
    df = pd.DataFrame([{k: v for k, v in r.items() if k not in drop} for r in rows])
    if df.empty:
        return pd.DataFrame(index=month_index([]))
    df.index = month_index(df.pop(month_key))
    return df


def factors_frame(doc):
    """GET .../factors: one row per month, one column per factor (f_1..f_K), float."""
    pd = pandas()
    rows = doc.get("factors", [])
    k = max((len(r["f"]) for r in rows), default=0)
    data = [[math.nan if x is None else x for x in r["f"]] for r in rows]
    df = pd.DataFrame(data, index=month_index(r["month"] for r in rows),
                      columns=[f"f_{i + 1}" for i in range(k)], dtype=float)
    df.attrs = {k2: doc[k2] for k2 in ("model", "version", "from", "to") if k2 in doc}
    return df


def _nan(x):
    return math.nan if x is None else x


def vectors_frame(doc, key, prefix):
    """{"securities":[{"id","<key>":[..K..]}]}: a DataFrame indexed by id, columns prefix_1..K."""
    pd = pandas()
    secs = doc.get("securities", [])
    k = max((len(s[key]) for s in secs), default=doc.get("k", 0))
    df = pd.DataFrame([[_nan(x) for x in s[key]] for s in secs],
                      index=pd.Index([s["id"] for s in secs], name="id"),
                      columns=[f"{prefix}_{i + 1}" for i in range(k)], dtype=float)
    df.attrs = {k2: v for k2, v in doc.items() if k2 != "securities"}
    return df


def scalar_series(doc, key):
    """{"securities":[{"id","<key>":x}]}: a float Series indexed by id, named key."""
    pd = pandas()
    secs = doc.get("securities", [])
    s = pd.Series([_nan(r[key]) for r in secs], index=pd.Index([r["id"] for r in secs], name="id"),
                  name=key, dtype=float)
    s.attrs = {k: v for k, v in doc.items() if k != "securities"}
    return s


def by_key_frame(items, key):
    """A DataFrame from a list of dicts indexed by item[key]."""
    pd = pandas()
    df = pd.DataFrame(items)
    return df.set_index(key) if not df.empty else df


def strategies_frame(strategies):
    """{"ew_ls": {stat: x}, ...}: one row per strategy, one column per statistic."""
    pd = pandas()
    df = pd.DataFrame.from_dict(strategies, orient="index")
    df.index.name = "strategy"
    return df.astype(float)


def csv_frame(text):
    """A DataFrame from a CSV answer (a `month` column becomes the monthly PeriodIndex)."""
    import io
    pd = pandas()
    df = pd.read_csv(io.StringIO(text))
    if "month" in df.columns:
        df.index = month_index(df.pop("month"))
    return df
