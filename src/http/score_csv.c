/* CSV answers of the scoring endpoints (Accept: text/csv): betas and expected returns
 * (id then one column per value), deciles (id,er,portfolio,weight) and inline scores
 * (id,beta_1..beta_K,er). Numbers as every writer prints them (fd_textbuf_num); a missing
 * value is an empty field. Provenance travels in the X-Factord-* headers (serving.h). */
#include <math.h>
#include <stdio.h>

#include "factord/textbuf.h"
#include "serving.h"

static void respond_csv(fd_response *resp, fd_textbuf *b) {
    if (b->oom) {
        fd_textbuf_free(b);
        fd_response_error(resp, 500, "out_of_memory", "CSV body");
        return;
    }
    fd_response_text(resp, 200, "text/csv", b->data, b->len);
}

/* CSV: id,<name>_1..K (or a single column) from a (n, cols) matrix. */
void respond_matrix_csv(fd_response *resp, const fd_panel *p, const selection *sel,
                        const double *m, size_t cols, const char *name) {
    fd_textbuf b;
    char col[64];
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "id");
    for (size_t k = 0; k < cols; k++) {
        if (cols == 1)
            snprintf(col, sizeof col, ",%s", name);
        else
            snprintf(col, sizeof col, ",%s_%zu", name, k + 1);
        fd_textbuf_puts(&b, col);
    }
    fd_textbuf_putc(&b, '\n');
    for (size_t r = 0; r < sel->n; r++) {
        size_t i = sel->rows[r];
        fd_textbuf_csv_field(&b, p->ids[i]);
        for (size_t k = 0; k < cols; k++) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, m[i * cols + k], "");
        }
        fd_textbuf_putc(&b, '\n');
    }
    respond_csv(resp, &b);
}

/* Deciles as CSV: id,er,portfolio,weight for every security of the month (the per-portfolio
 * returns are in the JSON answer). doc is fd_scoring_deciles_json's. */
void respond_deciles_csv(fd_response *resp, const json_t *doc) {
    fd_textbuf b;
    size_t i;
    json_t *sec;
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "id,er,portfolio,weight\n");
    json_array_foreach(json_object_get(doc, "securities"), i, sec) {
        json_t *er = json_object_get(sec, "er"), *w = json_object_get(sec, "weight");
        json_t *port = json_object_get(sec, "portfolio");
        char n[16] = "";
        if (json_is_integer(port)) snprintf(n, sizeof n, "%lld", (long long)json_integer_value(port));
        fd_textbuf_csv_field(&b, json_string_value(json_object_get(sec, "id")));
        fd_textbuf_putc(&b, ',');
        fd_textbuf_num(&b, json_is_number(er) ? json_number_value(er) : NAN, "");
        fd_textbuf_putc(&b, ',');
        fd_textbuf_puts(&b, n);
        fd_textbuf_putc(&b, ',');
        fd_textbuf_num(&b, json_is_number(w) ? json_number_value(w) : NAN, "");
        fd_textbuf_putc(&b, '\n');
    }
    respond_csv(resp, &b);
}

/* Inline scores as CSV: id,beta_1..beta_K,er in the order of the body. beta (n, K). */
void respond_score_csv(fd_response *resp, const fd_panel *p, const double *beta,
                       size_t K, const double *er) {
    fd_textbuf b;
    char col[32];
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "id");
    for (size_t k = 0; k < K; k++) {
        snprintf(col, sizeof col, ",beta_%zu", k + 1);
        fd_textbuf_puts(&b, col);
    }
    fd_textbuf_puts(&b, ",er\n");
    for (size_t i = 0; i < p->n_rows; i++) {
        fd_textbuf_csv_field(&b, p->ids[i]);
        for (size_t k = 0; k < K; k++) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, beta[i * K + k], "");
        }
        fd_textbuf_putc(&b, ',');
        fd_textbuf_num(&b, er[i], "");
        fd_textbuf_putc(&b, '\n');
    }
    respond_csv(resp, &b);
}

