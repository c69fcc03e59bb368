/* JSON renderings of what an import or a build saw, shared by PUT /v1/prices,
 * POST /v1/panels/build and `factord prices`, so every interface reports the same counts
 * under the same names. */
#include "factord/daily.h"

json_t *fd_bars_summary_json(const fd_bars_summary *s) {
    return json_pack("{s:I,s:I,s:s?,s:s?,s:I}", "rows", (json_int_t)s->rows, "tickers",
                     (json_int_t)s->tickers, "first_date", s->first_date[0] ? s->first_date : NULL,
                     "last_date", s->last_date[0] ? s->last_date : NULL, "zero_volume_days",
                     (json_int_t)s->zero_volume_days);
}

/* [{"month","through"}] of the partial months listed. */
static json_t *partial_json(const fd_daily_stats *st) {
    json_t *arr = json_array();
    size_t n = st->partial_months < FD_DAILY_PARTIAL_LISTED ? st->partial_months
                                                             : FD_DAILY_PARTIAL_LISTED;
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s}", "month", st->partial[i].month,
                                             "through", st->partial[i].through));
    return arr;
}

json_t *fd_daily_stats_json(const fd_daily_stats *st) {
    json_t *columns = json_array();
    if (!columns) return NULL;
    for (int c = 0; c < FD_DAILY_N_CHARS; c++)
        json_array_append_new(columns, json_string(fd_daily_char_names[c]));
    return json_pack(
        "{s:I,s:s?,s:s?,s:I,s:o,s:s,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o?,s:o?}",
        "months", (json_int_t)st->months, "first_month",
        st->first_month[0] ? st->first_month : NULL, "last_month",
        st->last_month[0] ? st->last_month : NULL, "panel_rows", (json_int_t)st->panel_rows,
        "columns", columns, "returns", "total (not excess): RF is subtracted when models read "
        "the panels", "bars_read", (json_int_t)st->rows, "tickers", (json_int_t)st->tickers,
        "counts", "missing_ret", (json_int_t)st->missing_ret, "ret_over_100pct",
        (json_int_t)st->ret_over_100pct, "daily_ret_over_100pct",
        (json_int_t)st->daily_ret_over_100pct, "zero_volume_days",
        (json_int_t)st->zero_volume_days, "gap_days", (json_int_t)st->gap_days, "long_gaps",
        (json_int_t)st->long_gaps, "single_day_months", (json_int_t)st->single_day_months,
        "late_tickers", (json_int_t)st->late_tickers, "ended_tickers",
        (json_int_t)st->ended_tickers, "partial_months", (json_int_t)st->partial_months,
        "outliers", fd_outlier_log_json(&st->outliers), "partial", partial_json(st));
}
