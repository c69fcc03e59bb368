/* Export of a fitted CA model's weights for the identical-weights check (see ca_weights.h).
 *
 * The weights come from the model's saved form (the documented "FDCA" blob of
 * src/models/ca.c: a 48-byte header, then member blocks laid out as factord/ca_net.h says),
 * so the check exercises exactly what the daemon stores. The losses written beside them are
 * computed by factord's own network code on those weights:
 *   loss_eval        inference mode (batch norm with running statistics), every stock-month;
 *   loss_train_mode  training-mode forward pass (batch statistics), one batch per period,
 *                    on a copy of the parameters so the running statistics stay put;
 *   grad_period0     the gradient of the first period's training-mode MSE, per tensor.
 * ca_ref.py --check-weights recomputes all three with PyTorch. */
#include "ca_weights.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/ca_net.h"
#include "factord/json_write.h"
#include "factord/nn.h"

#define CA_BLOB_HEADER 48

/* Rows x cols doubles as a JSON array of rows (cols 0: a flat vector). */
static json_t *mat_json(const double *a, size_t rows, size_t cols) {
    json_t *out = json_array();
    if (cols == 0) {
        for (size_t i = 0; i < rows; i++) json_array_append_new(out, json_real(a[i]));
        return out;
    }
    for (size_t i = 0; i < rows; i++)
        json_array_append_new(out, mat_json(a + i * cols, cols, 0));
    return out;
}

/* The tensors of one parameter-layout block (weights or their gradients) in PyTorch's
 * shapes: beta_linear [{W (out, in)[, b on the output layer]}],
 * beta_bn [{gamma, beta[, run_mean, run_var]}], factor {W (K, P), b}. */
static json_t *tensors_json(const fd_ca_net *net, const double *p, int with_running) {
    json_t *lin = json_array(), *bn = json_array();
    for (size_t l = 0; l <= net->n_hidden; l++) {
        /* Hidden layers have no bias (batch norm's beta takes its place); the output has. */
        json_t *o = json_pack("{s:o}", "W", mat_json(p + net->w[l], net->width[l + 1],
                                                     net->width[l]));
        if (l == net->n_hidden) json_object_set_new(o, "b", mat_json(p + net->b_out, net->K, 0));
        json_array_append_new(lin, o);
    }
    for (size_t l = 0; l < net->n_hidden; l++) {
        size_t h = net->width[l + 1];
        json_t *o = json_pack("{s:o,s:o}", "gamma", mat_json(p + net->gamma[l], h, 0), "beta",
                              mat_json(p + net->beta[l], h, 0));
        if (with_running) {
            json_object_set_new(o, "run_mean", mat_json(p + net->run_mean[l], h, 0));
            json_object_set_new(o, "run_var", mat_json(p + net->run_var[l], h, 0));
        }
        json_array_append_new(bn, o);
    }
    return json_pack("{s:o,s:o,s:{s:o,s:o}}", "beta_linear", lin, "beta_bn", bn, "factor", "W",
                     mat_json(p + net->fw, net->K, net->P), "b", mat_json(p + net->fb, net->K, 0));
}

/* Training-mode MSE summed over periods (one batch each) and the gradient of period 0's. */
static int train_mode(const fd_ca_net *net, const double *params, const fd_dataset *ds,
                      double *loss, double *grad0, fd_error *err) {
    size_t maxn = 0, rows = 0;
    double sse = 0.0, *copy = malloc(net->n_total * sizeof *copy);
    fd_ca_work w;
    for (size_t t = 0; t < ds->T; t++)
        if (ds->periods[t].n > maxn) maxn = ds->periods[t].n;
    if (!copy || fd_ca_work_alloc(&w, net, maxn, 1, 0) != 0) {
        free(copy);
        return fd_error_set(err, 500, "out_of_memory", "training-mode check buffers");
    }
    memset(grad0, 0, net->n_train * sizeof *grad0);
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        if (p->n < 2) continue;
        memcpy(copy, params, net->n_total * sizeof *copy);
        fd_ca_work_clear(&w);
        fd_ca_work_add_period(&w, net, p->z, p->r, p->x, p->n);
        fd_ca_net_forward_train(net, copy, &w, 0.0, NULL);
        sse += fd_loss_mse(w.dpred, w.pred, w.r, p->n) * (double)p->n;
        rows += p->n;
        if (t == 0) fd_ca_net_backward(net, copy, grad0, &w, 0.0);
    }
    *loss = sse / (double)rows;
    fd_ca_work_free(&w);
    free(copy);
    return 0;
}

int bench_ca_export_weights(const fd_model *m, const char *kind, const fd_dataset *ds,
                            double loss_eval, const char *path, fd_error *err) {
    void *blob = NULL;
    size_t len = 0, hidden[FD_CA_MAX_HIDDEN];
    uint32_t hdr[11];
    uint64_t n_params;
    fd_ca_net net;
    double loss_train = 0.0, *grad = NULL;
    json_t *out = NULL;
    int rc = -1;
    if (m->ops->save(m, &blob, &len, err) < 0) return -1;
    if (len < CA_BLOB_HEADER || memcmp(blob, "FDCA", 4) != 0) {
        fd_error_set(err, 422, "not_ca", "%s: the saved form is not an FDCA blob", kind);
        goto done;
    }
    memcpy(hdr, (const char *)blob + 4, sizeof hdr);  /* version .. reserved */
    memcpy(&n_params, (const char *)blob + 40, sizeof n_params);
    for (size_t l = 0; l < hdr[1] && l < FD_CA_MAX_HIDDEN; l++) hidden[l] = hdr[4 + l];
    fd_ca_net_layout(&net, hdr[2], hdr[3], hdr[1], hidden);
    if (hdr[0] != 1 || n_params != net.n_total ||
        len < CA_BLOB_HEADER + n_params * sizeof(double)) {
        fd_error_set(err, 422, "not_ca", "%s: unexpected FDCA version or size", kind);
        goto done;
    }
    /* Member 0's block; benchmarks train one member. The blob's bytes may be unaligned. */
    double *params = malloc(net.n_total * sizeof *params);
    grad = malloc(net.n_train * sizeof *grad);
    if (!params || !grad) {
        free(params);
        fd_error_set(err, 500, "out_of_memory", "weight export");
        goto done;
    }
    memcpy(params, (const char *)blob + CA_BLOB_HEADER, net.n_total * sizeof *params);
    if (train_mode(&net, params, ds, &loss_train, grad, err) == 0) {
        out = tensors_json(&net, params, 1);
        json_object_set_new(out, "model", json_string(kind));
        json_object_set_new(out, "K", json_integer((json_int_t)net.K));
        json_object_set_new(out, "loss_eval", json_real(loss_eval));
        json_object_set_new(out, "loss_train_mode", json_real(loss_train));
        json_object_set_new(out, "grad_period0", tensors_json(&net, grad, 0));
        char *text = fd_json_dumps(out, 0);
        FILE *f = text ? fopen(path, "w") : NULL;
        if (f && fputs(text, f) >= 0 && fclose(f) == 0) {
            rc = 0;
        } else {
            if (f) fclose(f);
            fd_error_set(err, 500, "write_failed", "cannot write %s", path);
        }
        free(text);
    }
    free(params);
done:
    json_decref(out);
    free(grad);
    free(blob);
    return rc;
}
