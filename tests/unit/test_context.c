/* The period context builder (factord/context.h): history steps and their masks, the
 * forecast context, observed factor and macro series with their timing, checked against
 * independent recomputations from the panels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/context.h"
#include "factord/dataset.h"
#include "factord/preprocess.h"
#include "factord/simulate.h"
#include "testlib.h"

enum { N = 30, T = 9, P = 3, L = 3 };

/* Simulated panels (T + 1 months from 2001-01), security "drop_id" removed from month
 * `drop_month`. */
static int panels(fd_sim_data *d, size_t drop_month, const char *drop_id) {
    fd_sim_opts o;
    fd_error err;
    fd_sim_opts_default(&o);
    o.N = N;
    o.T = T;
    o.P = P;
    o.K = 2;
    o.seed = 11;
    snprintf(o.start, sizeof o.start, "2001-01");
    if (fd_simulate(&o, d, &err)) return -1;
    fd_panel *p = &d->panels[drop_month];
    for (size_t i = 0; i < p->n_rows; i++) {
        if (strcmp(p->ids[i], drop_id) != 0) continue;
        free(p->ids[i]);
        size_t rest = p->n_rows - i - 1;
        memmove(p->ids + i, p->ids + i + 1, rest * sizeof *p->ids);
        memmove(p->values + i * p->n_cols, p->values + (i + 1) * p->n_cols,
                rest * p->n_cols * sizeof *p->values);
        if (p->ret) memmove(p->ret + i, p->ret + i + 1, rest * sizeof *p->ret);
        if (p->mktcap) memmove(p->mktcap + i, p->mktcap + i + 1, rest * sizeof *p->mktcap);
        p->n_rows--;
        return 0;
    }
    return -1;
}

/* Row of id in panel p, or -1. */
static long row_of(const fd_panel *p, const char *id) {
    for (size_t i = 0; i < p->n_rows; i++)
        if (strcmp(p->ids[i], id) == 0) return (long)i;
    return -1;
}

/* The rank-normalised characteristics of panel p plus a constant, (n_rows, P + 1). */
static double *design(const fd_panel *p) {
    double *z = malloc(p->n_rows * P * sizeof *z), *out = malloc(p->n_rows * (P + 1) * sizeof *out);
    memcpy(z, p->values, p->n_rows * P * sizeof *z);
    fd_preprocess_rank_normalize(z, p->n_rows, P, NULL);
    for (size_t i = 0; i < p->n_rows; i++) {
        memcpy(out + i * (P + 1), z + i * P, P * sizeof *z);
        out[i * (P + 1) + P] = 1.0;
    }
    free(z);
    return out;
}

static const fd_period *period_of(const fd_dataset *ds, const char *month) {
    for (size_t t = 0; t < ds->T; t++)
        if (strcmp(ds->periods[t].month, month) == 0) return &ds->periods[t];
    return NULL;
}

TEST(history_steps_hold_earlier_months_of_the_same_securities_with_a_mask) {
    fd_sim_data d;
    fd_dataset one, hist;
    fd_error err;
    const char *gone = "S0007";
    ASSERT(panels(&d, 4, gone) == 0);
    fd_dataset_opts o1 = {.add_constant = 1}, oh = {.add_constant = 1, .history = L};
    ASSERT_INT_EQ(fd_dataset_from_panels(d.panels, d.n_panels, &o1, &one, &err), 0);
    ASSERT_INT_EQ(fd_dataset_from_panels(d.panels, d.n_panels, &oh, &hist, &err), 0);
    /* The same periods, z and x as without history. */
    ASSERT_INT_EQ(hist.T, one.T);
    ASSERT_INT_EQ(hist.L, L);
    for (size_t t = 0; t < hist.T; t++) {
        const fd_period *a = &one.periods[t], *b = &hist.periods[t];
        ASSERT_STR_EQ(a->month, b->month);
        ASSERT_INT_EQ(a->n, b->n);
        ASSERT(memcmp(a->z, b->z, a->n * (P + 1) * sizeof *a->z) == 0);
        ASSERT(memcmp(a->x, b->x, (P + 1) * sizeof *a->x) == 0);
        ASSERT_INT_EQ(fd_period_history(b), L);
        ASSERT(fd_period_z_at(b, L - 1, 0) == b->z);
        ASSERT(fd_period_x_at(b, L - 1) == b->x);
    }
    /* Steps l < L-1: month t-L+l's design rows, matched by id; NULL where absent. */
    for (size_t t = 0; t < hist.T; t++) {
        const fd_period *b = &hist.periods[t];
        size_t ti = (size_t)fd_month_diff(d.panels[0].month, b->month); /* panel index of t */
        for (size_t l = 0; l + 1 < L; l++) {
            long mi = (long)ti - L + (long)l;
            double *zm = mi >= 0 ? design(&d.panels[mi]) : NULL;
            for (size_t i = 0; i < b->n; i++) {
                const double *got = fd_period_z_at(b, l, i);
                long r = mi >= 0 ? row_of(&d.panels[mi], b->ids[i]) : -1;
                if (r < 0) {
                    ASSERT(got == NULL);
                    continue;
                }
                ASSERT(got != NULL);
                for (size_t j = 0; j <= P; j++) ASSERT_NEAR(got[j], zm[r * (P + 1) + j], 0);
            }
            free(zm);
            /* x at step l is month t-L+1+l's managed portfolio (a period of `one`, or
             * unknown before the first return month). */
            char xm[FD_MONTH_LEN];
            fd_month_add(b->month, (int)l - (L - 1), xm);
            const fd_period *src = period_of(&one, xm);
            const double *x = fd_period_x_at(b, l);
            if (!src) {
                ASSERT(x == NULL);
            } else {
                ASSERT(x != NULL);
                for (size_t j = 0; j <= P; j++) ASSERT_NEAR(x[j], src->x[j], 1e-15);
            }
        }
    }
    /* The security missing from month 4 is masked at every step that reads month 4. */
    const fd_period *p6 = period_of(&hist, d.panels[6].month); /* z steps: months 3, 4, 5 */
    ASSERT(p6 != NULL);
    int found = 0;
    for (size_t i = 0; i < p6->n; i++)
        if (strcmp(p6->ids[i], gone) == 0) {
            found = 1;
            ASSERT(fd_period_z_at(p6, 0, i) != NULL);
            ASSERT(fd_period_z_at(p6, 1, i) == NULL);
        }
    ASSERT(found);
    fd_dataset_free(&one);
    fd_dataset_free(&hist);
    fd_sim_data_free(&d);
}

TEST(observed_factors_are_of_month_t_and_macro_series_of_t_minus_1) {
    fd_sim_data d;
    fd_dataset ds;
    fd_error err;
    fd_factor_table ft, mt;
    static const char *const obs[] = {"Mkt-RF"}, *const mac[] = {"dp"};
    ASSERT(panels(&d, 2, "S0001") == 0);
    fd_factor_table_init(&ft);
    fd_factor_table_init(&mt);
    ft.n_months = mt.n_months = d.n_panels;
    ft.n_factors = mt.n_factors = 1;
    ft.months = calloc(d.n_panels, sizeof *ft.months);
    mt.months = calloc(d.n_panels, sizeof *mt.months);
    ft.names = calloc(1, sizeof *ft.names);
    mt.names = calloc(1, sizeof *mt.names);
    ft.names[0] = strdup("Mkt-RF");
    mt.names[0] = strdup("dp");
    ft.values = malloc(d.n_panels * sizeof *ft.values);
    mt.values = malloc(d.n_panels * sizeof *mt.values);
    for (size_t i = 0; i < d.n_panels; i++) {
        memcpy(ft.months[i], d.panels[i].month, FD_MONTH_LEN);
        memcpy(mt.months[i], d.panels[i].month, FD_MONTH_LEN);
        ft.values[i] = 0.01 * (double)i;
        mt.values[i] = i == 3 ? NAN : 100.0 + (double)i;
    }
    fd_dataset_opts o = {.observed = obs, .n_observed = 1, .factors = &ft,
                         .macro = mac, .n_macro = 1, .macro_table = &mt};
    ASSERT_INT_EQ(fd_dataset_from_panels(d.panels, d.n_panels, &o, &ds, &err), 0);
    ASSERT_INT_EQ(ds.n_observed, 1);
    ASSERT_STR_EQ(ds.observed[0], "Mkt-RF");
    ASSERT_STR_EQ(ds.macro[0], "dp");
    for (size_t t = 0; t < ds.T; t++) {
        const fd_period *p = &ds.periods[t];
        size_t ti = (size_t)fd_month_diff(d.panels[0].month, p->month);
        ASSERT_NEAR(p->observed[0], 0.01 * (double)ti, 0);
        ASSERT_NEAR(p->macro[0], ti - 1 == 3 ? NAN : 100.0 + (double)(ti - 1), 0);
    }
    fd_dataset_free(&ds);
    fd_factor_table_free(&ft);
    fd_factor_table_free(&mt);
    fd_sim_data_free(&d);
}

/* A source over the simulated panels, for the forecast context. */
typedef struct sim_source {
    const fd_sim_data *d;
} sim_source;

static int sim_month(void *ctx, const char *key, fd_month **out, fd_error *err) {
    const sim_source *s = ctx;
    for (size_t i = 0; i < s->d->n_panels; i++)
        if (strcmp(s->d->panels[i].month, key) == 0)
            return fd_month_borrow(&s->d->panels[i], "", out, err);
    return fd_error_set(err, 404, "no_panel", "no panel for %s", key);
}

TEST(the_forecast_context_holds_every_security_of_month_t_and_no_returns) {
    fd_sim_data d;
    fd_dataset fc, one;
    fd_error err;
    sim_source state;
    ASSERT(panels(&d, 5, "S0004") == 0);
    state.d = &d;
    fd_month_source src = {sim_month, NULL, &state, 0};
    fd_context_spec cs = {.add_constant = 1, .history = L};
    fd_dataset_opts o1 = {.add_constant = 1};
    const fd_panel *pt = &d.panels[6];
    ASSERT_INT_EQ(fd_dataset_from_panels(d.panels, d.n_panels, &o1, &one, &err), 0);
    ASSERT_INT_EQ(fd_context_forecast(&cs, &src, pt->month, &fc, &err), 0);
    ASSERT_INT_EQ(fc.T, 1);
    const fd_period *p = &fc.periods[0];
    char next[FD_MONTH_LEN];
    fd_month_add(pt->month, 1, next);
    ASSERT_STR_EQ(p->month, next);
    ASSERT_INT_EQ(p->n, pt->n_rows);
    ASSERT(p->r == NULL && p->x == NULL);
    double *zt = design(pt);
    ASSERT(memcmp(p->z, zt, pt->n_rows * (P + 1) * sizeof *zt) == 0);
    free(zt);
    for (size_t i = 0; i < p->n; i++) ASSERT_STR_EQ(p->ids[i], pt->ids[i]);
    ASSERT(fd_period_x_at(p, L - 1) == NULL);
    /* x steps 0 .. L-2 are months t-L+2 .. t. */
    for (size_t l = 0; l + 1 < L; l++) {
        char xm[FD_MONTH_LEN];
        fd_month_add(p->month, (int)l - (L - 1), xm);
        const fd_period *srcp = period_of(&one, xm);
        ASSERT(srcp != NULL);
        const double *x = fd_period_x_at(p, l);
        ASSERT(x != NULL);
        for (size_t j = 0; j <= P; j++) ASSERT_NEAR(x[j], srcp->x[j], 1e-15);
    }
    /* z step L-2 is month t-1 = the panel with a security removed: masked there. */
    for (size_t i = 0; i < p->n; i++)
        ASSERT((fd_period_z_at(p, L - 2, i) == NULL) == (row_of(&d.panels[5], p->ids[i]) < 0));
    fd_dataset_free(&fc);
    fd_dataset_free(&one);
    fd_sim_data_free(&d);
}

TEST(a_strict_forecast_names_the_missing_characteristic) {
    fd_sim_data d;
    fd_dataset fc;
    fd_error err;
    sim_source state;
    char *const cols[] = {"c1", "no_such"};
    ASSERT(panels(&d, 1, "S0001") == 0);
    state.d = &d;
    fd_month_source src = {sim_month, NULL, &state, 0};
    fd_context_spec cs = {.columns = cols, .n_columns = 2, .strict_columns = 1};
    ASSERT_INT_EQ(fd_context_forecast(&cs, &src, d.panels[2].month, &fc, &err), -1);
    ASSERT_STR_EQ(err.code, "missing_columns");
    ASSERT(strstr(err.message, "no_such") != NULL);
    fd_sim_data_free(&d);
}

TEST_MAIN(T(history_steps_hold_earlier_months_of_the_same_securities_with_a_mask),
          T(observed_factors_are_of_month_t_and_macro_series_of_t_minus_1),
          T(the_forecast_context_holds_every_security_of_month_t_and_no_returns),
          T(a_strict_forecast_names_the_missing_characteristic))
