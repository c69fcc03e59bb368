/* The typed half of fd_ca_net (see factord/ca_net.h, which includes this file twice): every
 * declaration below exists for FD_TYPED_T = double, named fd_NAME, and for FD_TYPED_T =
 * float, named fd_NAME_f32 (fd_ca_work_f32 included). Parameter blocks follow the layout in
 * ca_net.h in either type. No include guard on purpose; include factord/ca_net.h, never
 * this file. */

/* Inference (batch norm with running statistics, no dropout): beta (n, K) from z (n, P).
 * buf_a, buf_b (n, max_hidden) are scratch. Thread-safe on distinct buffers. */
void FD_TYPED_FN(ca_net_betas)(const fd_ca_net *net, const FD_TYPED_T *params, const FD_TYPED_T *z,
                               size_t n, FD_TYPED_T *beta, FD_TYPED_T *buf_a, FD_TYPED_T *buf_b);
/* f (B, K) = x (B, P) W_f' + b_f. */
void FD_TYPED_FN(ca_net_factors)(const fd_ca_net *net, const FD_TYPED_T *params,
                                 const FD_TYPED_T *x, size_t B, FD_TYPED_T *f);
/* pred (n) where row i of period p gets beta_i' f_p; off (B + 1) row offsets. */
void FD_TYPED_FN(ca_predict)(FD_TYPED_T *pred, const FD_TYPED_T *beta, const FD_TYPED_T *f,
                             const size_t *off, size_t B, size_t K);

/* Training workspace for batches of up to cap_rows rows and cap_periods periods. */
typedef struct FD_TYPED_FN(ca_work) {
    size_t cap_rows, cap_periods;
    size_t n_rows, n_periods;           /* the batch currently gathered */
    size_t *off;                        /* (cap_periods + 1) */
    const double **src_z;               /* (cap_periods) each period's characteristics */
    FD_TYPED_T *z;                      /* (cap_rows, P) */
    FD_TYPED_T *r;                      /* (cap_rows) */
    FD_TYPED_T *x;                      /* (cap_periods, P) */
    FD_TYPED_T *f, *df;                 /* (cap_periods, K) */
    FD_TYPED_T *pre[FD_CA_MAX_HIDDEN];  /* (cap_rows, h_l) linear outputs */
    FD_TYPED_T *xhat[FD_CA_MAX_HIDDEN]; /* (cap_rows, h_l) normalised, for the backward pass */
    FD_TYPED_T *rstd[FD_CA_MAX_HIDDEN]; /* (h_l) */
    FD_TYPED_T *relu[FD_CA_MAX_HIDDEN]; /* (cap_rows, h_l) ReLU outputs */
    FD_TYPED_T *mask[FD_CA_MAX_HIDDEN]; /* (cap_rows, h_l) dropout masks (with dropout only) */
    FD_TYPED_T *drop[FD_CA_MAX_HIDDEN]; /* (cap_rows, h_l) after dropout (with dropout only) */
    FD_TYPED_T *beta, *dbeta;           /* (cap_rows, K) */
    FD_TYPED_T *pred, *dpred;           /* (cap_rows) */
    FD_TYPED_T *ga, *gb;                /* (cap_rows, max_hidden) gradient ping-pong */
    FD_TYPED_T *block;                  /* one allocation behind every FD_TYPED_T pointer above */
} FD_TYPED_FN(ca_work);

/* Returns -1 when memory runs out or a hidden layer is wider than FD_CA_MAX_WIDTH.
 * with_dropout reserves the mask buffers. */
int FD_TYPED_FN(ca_work_alloc)(FD_TYPED_FN(ca_work) *w, const fd_ca_net *net, size_t cap_rows,
                               size_t cap_periods, int with_dropout);
void FD_TYPED_FN(ca_work_free)(FD_TYPED_FN(ca_work) *w);
/* Empties the batch, then appends periods one at a time (z (n, P), r (n), x (P), stored
 * data in double, converted to FD_TYPED_T); the caller keeps within capacity. r and x are
 * copied at once; z, the bulk, is only referenced, and converted into w->z by
 * ca_work_load_rows, which the training passes call for their own rows (so a team converts
 * in parallel): z must stay valid and unchanged until the batch is cleared. */
void FD_TYPED_FN(ca_work_clear)(FD_TYPED_FN(ca_work) *w);
void FD_TYPED_FN(ca_work_add_period)(FD_TYPED_FN(ca_work) *w, const fd_ca_net *net,
                                     const double *z, const double *r, const double *x, size_t n);
/* Converts rows r0 .. r1 - 1 of the gathered batch's characteristics into w->z. */
void FD_TYPED_FN(ca_work_load_rows)(FD_TYPED_FN(ca_work) *w, const fd_ca_net *net, size_t r0,
                                    size_t r1);

/* One worker's part of a data-parallel training step: its rows of the batch, and partial
 * sums that the step adds up in worker order (so results depend on the number of workers,
 * never on their timing). */
typedef struct FD_TYPED_FN(ca_share) {
    size_t r0, r1;     /* rows r0 .. r1 - 1 of the batch */
    FD_TYPED_T *grads; /* (n_train) this worker's parameter gradients */
    FD_TYPED_T *df;    /* (cap_periods, K) its part of the factor gradients */
    double loss;       /* its rows' share of the batch's data loss */
    /* per hidden layer: [0] sums of (x - shift), [1] of their squares (forward), or of
     * dy and dy xhat (backward), over its rows */
    double fwd[FD_CA_MAX_HIDDEN][2][FD_CA_MAX_WIDTH];
    double bwd[FD_CA_MAX_HIDDEN][2][FD_CA_MAX_WIDTH];
    FD_TYPED_T shift[FD_CA_MAX_HIDDEN][FD_CA_MAX_WIDTH]; /* its first row's pre-activations */
} FD_TYPED_FN(ca_share);

/* A team and one share per member, for fd_ca_net_train_step. */
typedef struct FD_TYPED_FN(ca_step) {
    fd_team *team;                  /* borrowed */
    int n;                          /* members */
    FD_TYPED_FN(ca_share) *shares; /* (n) */
    FD_TYPED_T *block;              /* grads and df of every share */
} FD_TYPED_FN(ca_step);

/* -1 when memory runs out. The team stays the caller's. */
int FD_TYPED_FN(ca_step_alloc)(FD_TYPED_FN(ca_step) *s, const fd_ca_net *net, size_t cap_periods,
                               fd_team *team);
void FD_TYPED_FN(ca_step_free)(FD_TYPED_FN(ca_step) *s);

/* One training step's passes over the gathered batch (>= 2 rows), split by rows across the
 * step's team: training-mode forward pass (moving the batch-norm running statistics in
 * params; with dropout_rate > 0 fresh masks from rng), the data loss (MSE, or Huber with
 * threshold huber_delta when huber is set) and its gradient, which ACCUMULATES into grads
 * (n_train). Returns the data loss. Equal to forward_train + loss + backward below, up to
 * the order in which the workers' sums are added. */
double FD_TYPED_FN(ca_net_train_step)(const fd_ca_net *net, FD_TYPED_T *params, FD_TYPED_T *grads,
                                      FD_TYPED_FN(ca_work) *w, FD_TYPED_FN(ca_step) *s,
                                      double dropout_rate, int huber, double huber_delta,
                                      fd_rng *rng);

/* Training-mode forward pass over the gathered batch (>= 2 rows): fills w->pred and every
 * cache the backward pass needs, and moves the batch-norm running statistics in params.
 * With dropout_rate > 0, fresh masks are drawn from rng; rng NULL keeps the masks already in
 * w (gradient checks hold them fixed). */
void FD_TYPED_FN(ca_net_forward_train)(const fd_ca_net *net, FD_TYPED_T *params,
                                       FD_TYPED_FN(ca_work) *w, double dropout_rate, fd_rng *rng);
/* Backward pass from w->dpred (n_rows), the loss gradient with respect to the predictions:
 * ACCUMULATES into grads (n_train). */
void FD_TYPED_FN(ca_net_backward)(const fd_ca_net *net, const FD_TYPED_T *params, FD_TYPED_T *grads,
                                  FD_TYPED_FN(ca_work) *w, double dropout_rate);
