/* A month's panel as CSV or JSON text, and id selection (panel_io.h). Written by hand into
 * one buffer: a jansson tree for 5,000 x 100 cells would cost more than the data. */
#include "factord/panel_io.h"

#include <stdlib.h>
#include <string.h>

#include "factord/textbuf.h"

static int finish(fd_textbuf *b, char **body, size_t *len, fd_error *err) {
    if (b->oom) {
        fd_textbuf_free(b);
        return fd_error_set(err, 500, "out_of_memory", "out of memory writing the panel");
    }
    *body = b->data ? b->data : strdup("");
    *len = b->len;
    return *body ? 0 : fd_error_set(err, 500, "out_of_memory", "out of memory");
}

int fd_panel_write_csv(const fd_panel *p, char **body, size_t *len, fd_error *err) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "id");
    if (p->ret) fd_textbuf_puts(&b, ",ret");
    if (p->mktcap) fd_textbuf_puts(&b, ",mktcap");
    for (size_t j = 0; j < p->n_cols; j++) {
        fd_textbuf_putc(&b, ',');
        fd_textbuf_csv_field(&b, p->col_names[j]);
    }
    fd_textbuf_putc(&b, '\n');
    for (size_t i = 0; i < p->n_rows && !b.oom; i++) {
        fd_textbuf_csv_field(&b, p->ids[i]);
        if (p->ret) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, p->ret[i], "");
        }
        if (p->mktcap) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, p->mktcap[i], "");
        }
        for (size_t j = 0; j < p->n_cols; j++) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, p->values[i * p->n_cols + j], "");
        }
        fd_textbuf_putc(&b, '\n');
    }
    return finish(&b, body, len, err);
}

int fd_panel_write_json(const fd_panel *p, char **body, size_t *len, fd_error *err) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "{\"month\":");
    fd_textbuf_json_string(&b, p->month);
    fd_textbuf_puts(&b, ",\"columns\":[\"id\"");
    if (p->ret) fd_textbuf_puts(&b, ",\"ret\"");
    if (p->mktcap) fd_textbuf_puts(&b, ",\"mktcap\"");
    for (size_t j = 0; j < p->n_cols; j++) {
        fd_textbuf_putc(&b, ',');
        fd_textbuf_json_string(&b, p->col_names[j]);
    }
    fd_textbuf_puts(&b, "],\"rows\":[");
    for (size_t i = 0; i < p->n_rows && !b.oom; i++) {
        fd_textbuf_puts(&b, i ? ",[" : "[");
        fd_textbuf_json_string(&b, p->ids[i]);
        if (p->ret) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, p->ret[i], "null");
        }
        if (p->mktcap) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, p->mktcap[i], "null");
        }
        for (size_t j = 0; j < p->n_cols; j++) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, p->values[i * p->n_cols + j], "null");
        }
        fd_textbuf_putc(&b, ']');
    }
    fd_textbuf_puts(&b, "]}");
    return finish(&b, body, len, err);
}

/* 1 if `id` is one of the comma-separated entries of `list`. */
static int listed(const char *list, const char *id) {
    size_t n = strlen(id);
    for (const char *s = list; *s;) {
        size_t k = strcspn(s, ",");
        if (k == n && memcmp(s, id, n) == 0) return 1;
        s += k + (s[k] == ',');
    }
    return 0;
}

int fd_panel_select_ids(const fd_panel *p, const char *ids, fd_panel *out, fd_error *err) {
    fd_panel_init(out);
    memcpy(out->month, p->month, sizeof out->month);
    size_t keep = 0;
    for (size_t i = 0; i < p->n_rows; i++) keep += listed(ids, p->ids[i]);
    out->n_cols = p->n_cols;
    out->ids = calloc(keep ? keep : 1, sizeof *out->ids);
    out->col_names = calloc(p->n_cols ? p->n_cols : 1, sizeof *out->col_names);
    size_t cells = keep * p->n_cols;
    out->values = malloc((cells ? cells : 1) * sizeof *out->values);
    if (p->ret) out->ret = malloc((keep ? keep : 1) * sizeof *out->ret);
    if (p->mktcap) out->mktcap = malloc((keep ? keep : 1) * sizeof *out->mktcap);
    int ok = out->ids && out->col_names && out->values && (!p->ret || out->ret) &&
             (!p->mktcap || out->mktcap);
    for (size_t j = 0; ok && j < p->n_cols; j++)
        ok = (out->col_names[j] = strdup(p->col_names[j])) != NULL;
    for (size_t i = 0; ok && i < p->n_rows; i++) {
        if (!listed(ids, p->ids[i])) continue;
        size_t r = out->n_rows;
        if (!(out->ids[r] = strdup(p->ids[i]))) {
            ok = 0;
            break;
        }
        if (p->n_cols)
            memcpy(out->values + r * p->n_cols, p->values + i * p->n_cols,
                   p->n_cols * sizeof(double));
        if (p->ret) out->ret[r] = p->ret[i];
        if (p->mktcap) out->mktcap[r] = p->mktcap[i];
        out->n_rows++;
    }
    if (ok) return 0;
    fd_panel_free(out);
    return fd_error_set(err, 500, "out_of_memory", "out of memory");
}
