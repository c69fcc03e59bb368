#!/usr/bin/python3
"""Reference conditional autoencoders CA1 and CA2 (Gu, Kelly, Xiu 2021) in PyTorch, built to
match factord's C implementation (src/models/ca.c) layer for layer, so the benchmark times
the same computation on both sides:

  beta network    z (n, P) -> [Linear (no bias) -> BatchNorm1d -> ReLU] per hidden layer
                  -> Linear(., K) with bias; hidden (32) for CA1, (32, 16) for CA2
  factor network  x_t (P) -> Linear(P, K): the managed portfolio of the period
  prediction      r_hat_i = beta_i' f_t
  loss            mean squared error over the batch + l1 * sum |w| over the weight matrices
                  of every Linear layer (biases and batch-norm parameters unpenalised)
  training        Adam; batches of batch_months whole periods (all their securities, so
                  batch norm sees whole months), periods in a fresh random order each epoch;
                  the reported training loss is the row-weighted mean of the batches' data
                  losses before each step, as ca_fit.c reports it
  initialisation  PyTorch's defaults (uniform +-1/sqrt(fan_in)), which fd_ca_net_init copies

The hyper-parameters come as the same JSON object that factord's model takes
({"epochs", "lr", "l1", "seed", ...}), so the C and Python sides run identical settings.
Random streams differ (torch vs fd_rng), so losses after training compare statistically;
--check-weights loads the C model's exported weights and recomputes its loss exactly.

Usage:
  ca_ref.py CSV --model ca1|ca2 -K 5 --hyper '{"epochs":5,"lr":1e-3,"l1":1e-5,"seed":1}'
            [--threads 2] [--dtype float32|float64]                 JSON on stdout
  ca_ref.py CSV --check-weights weights.json                         JSON on stdout
"""
import json
import sys
import time

import bench_env  # noqa: E402  (pins threads before numpy loads OpenBLAS)

THREADS = bench_env.pin_threads(sys.argv) if __name__ == "__main__" else 2

import numpy as np  # noqa: E402
import torch  # noqa: E402

HIDDEN = {"ca0": (), "ca1": (32,), "ca2": (32, 16), "ca3": (32, 16, 8)}
DEFAULTS = {"epochs": 100, "lr": 1e-3, "l1": 1e-5, "seed": 1, "batch_months": 5,
            "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_eps": 1e-8}


class CA(torch.nn.Module):
    def __init__(self, P, K, hidden):
        super().__init__()
        layers, prev = [], P
        for h in hidden:
            # no bias before batch norm: its beta is the bias (factord's layout too)
            layers += [torch.nn.Linear(prev, h, bias=False), torch.nn.BatchNorm1d(h),
                       torch.nn.ReLU()]
            prev = h
        layers.append(torch.nn.Linear(prev, K))
        self.beta = torch.nn.Sequential(*layers)
        self.factor = torch.nn.Linear(P, K)

    def forward(self, z, x, idx=None):
        """z (n, P) rows of B periods, x (B, P) their managed portfolios, idx (n) the period
        of each row (None when B = 1 and x is (P)) -> r_hat (n)."""
        if idx is None:
            return self.beta(z) @ self.factor(x)
        return (self.beta(z) * self.factor(x)[idx]).sum(dim=1)

    def l1(self):
        return sum(m.weight.abs().sum() for m in self.modules()
                   if isinstance(m, torch.nn.Linear))


def to_tensors(ds, dtype):
    return [(torch.from_numpy(p["z"]).to(dtype), torch.from_numpy(p["r"]).to(dtype),
             torch.from_numpy(p["x"]).to(dtype)) for p in ds["periods"]]


def gather(data, periods):
    """Stacks whole periods into one batch: z (n, P), r (n), x (B, P), idx (n)."""
    zs, rs, xs, idx = [], [], [], []
    for j, t in enumerate(periods):
        z, r, x = data[t]
        zs.append(z)
        rs.append(r)
        xs.append(x)
        idx.append(torch.full((len(r),), j, dtype=torch.long))
    return torch.cat(zs), torch.cat(rs), torch.stack(xs), torch.cat(idx)


def train(model, data, hyper, progress=None):
    opt = torch.optim.Adam(model.parameters(), lr=hyper["lr"],
                           betas=(hyper["adam_beta1"], hyper["adam_beta2"]),
                           eps=hyper["adam_eps"])
    gen = torch.Generator().manual_seed(int(hyper["seed"]))
    l1, bm = hyper["l1"], int(hyper["batch_months"])
    epoch_seconds, losses = [], []
    for epoch in range(int(hyper["epochs"])):
        model.train()
        t0 = time.perf_counter()
        sse, count = 0.0, 0
        order = torch.randperm(len(data), generator=gen).tolist()
        for b in range(0, len(order), bm):
            z, r, x, idx = gather(data, order[b:b + bm])
            opt.zero_grad(set_to_none=True)
            pred = model(z, x, idx)
            mse = torch.mean((pred - r) ** 2)
            loss = mse + l1 * model.l1()
            loss.backward()
            opt.step()
            sse += float(mse) * len(r)
            count += len(r)
        epoch_seconds.append(time.perf_counter() - t0)
        losses.append(sse / count)
        if progress:
            progress(epoch, losses[-1])
    return epoch_seconds, losses


@torch.no_grad()
def evaluate(model, data):
    """Mean squared error over every stock-month, batch norm in inference mode."""
    model.eval()
    sse, count = 0.0, 0
    for z, r, x in data:
        sse += float(torch.sum((model(z, x) - r) ** 2))
        count += len(r)
    return sse / count


@torch.no_grad()
def train_mode_loss(model, data):
    """Mean over periods of the per-period training objective (batch statistics), without
    moving the running averages: the loss a training step sees."""
    saved = [(m, m.momentum) for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    for m, _ in saved:
        m.momentum = 0.0
    model.train()
    sse, count = 0.0, 0
    for z, r, x in data:
        sse += float(torch.sum((model(z, x) - r) ** 2))
        count += len(r)
    for m, mom in saved:
        m.momentum = mom
    return sse / count


def load_weights(model, w):
    """w: the JSON fit_bench exports, PyTorch's layouts (Linear W (out, in))."""
    dt = next(model.parameters()).dtype
    lin = [m for m in model.beta if isinstance(m, torch.nn.Linear)]
    bns = [m for m in model.beta if isinstance(m, torch.nn.BatchNorm1d)]
    for m, lw in zip(lin, w["beta_linear"]):
        m.weight.copy_(torch.tensor(lw["W"], dtype=dt))
        if m.bias is not None:
            m.bias.copy_(torch.tensor(lw["b"], dtype=dt))
    for m, bw in zip(bns, w["beta_bn"]):
        m.weight.copy_(torch.tensor(bw["gamma"], dtype=dt))
        m.bias.copy_(torch.tensor(bw["beta"], dtype=dt))
        m.running_mean.copy_(torch.tensor(bw["run_mean"], dtype=dt))
        m.running_var.copy_(torch.tensor(bw["run_var"], dtype=dt))
    model.factor.weight.copy_(torch.tensor(w["factor"]["W"], dtype=dt))
    model.factor.bias.copy_(torch.tensor(w["factor"]["b"], dtype=dt))


def grads_period0(model, data):
    """Gradient of the first period's training-mode MSE, as {tensor path: array}."""
    model.train()
    model.zero_grad(set_to_none=True)
    z, r, x = data[0]
    torch.mean((model(z, x) - r) ** 2).backward()
    lin = [m for m in model.beta if isinstance(m, torch.nn.Linear)]
    bns = [m for m in model.beta if isinstance(m, torch.nn.BatchNorm1d)]
    out = {}
    for i, m in enumerate(lin):
        out["beta_linear[%d].W" % i] = m.weight.grad.numpy()
        if m.bias is not None:
            out["beta_linear[%d].b" % i] = m.bias.grad.numpy()
    for i, m in enumerate(bns):
        out["beta_bn[%d].gamma" % i] = m.weight.grad.numpy()
        out["beta_bn[%d].beta" % i] = m.bias.grad.numpy()
    out["factor.W"] = model.factor.weight.grad.numpy()
    out["factor.b"] = model.factor.bias.grad.numpy()
    return out


def flatten_c_grads(g):
    out = {}
    for i, lw in enumerate(g["beta_linear"]):
        out["beta_linear[%d].W" % i] = np.array(lw["W"])
        if "b" in lw:
            out["beta_linear[%d].b" % i] = np.array(lw["b"])
    for i, bw in enumerate(g["beta_bn"]):
        out["beta_bn[%d].gamma" % i] = np.array(bw["gamma"])
        out["beta_bn[%d].beta" % i] = np.array(bw["beta"])
    out["factor.W"] = np.array(g["factor"]["W"])
    out["factor.b"] = np.array(g["factor"]["b"])
    return out


def check_weights(ds, path):
    """Loads the C model's weights into a float64 torch model and recomputes the losses and
    the first period's gradient that fit_bench computed on them."""
    with open(path) as fh:
        w = json.load(fh)
    torch.set_default_dtype(torch.float64)
    model = CA(ds["P"], w["K"], HIDDEN[w["model"]]).double()
    with torch.no_grad():
        load_weights(model, w)
    data = to_tensors(ds, torch.float64)
    out = {"model": w["model"],
           "c_loss_eval": w["loss_eval"], "torch_loss_eval": evaluate(model, data),
           "c_loss_train_mode": w["loss_train_mode"],
           "torch_loss_train_mode": train_mode_loss(model, data)}
    rel = [abs(out["torch_" + k] - out["c_" + k]) / abs(out["c_" + k])
           for k in ("loss_eval", "loss_train_mode")]
    out["max_rel_diff"] = max(rel)
    tg, cg = grads_period0(model, data), flatten_c_grads(w["grad_period0"])
    scale = max(float(np.max(np.abs(v))) for v in tg.values())
    out["grad_max_abs_diff"] = max(float(np.max(np.abs(tg[k] - cg[k]))) for k in tg)
    out["grad_max_abs"] = scale
    return out


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--model", choices=sorted(HIDDEN), default="ca1")
    ap.add_argument("-K", type=int, default=5)
    ap.add_argument("--hyper", default="{}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    ap.add_argument("--check-weights")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    import dataset_ref
    ds = dataset_ref.load(args.csv)
    if args.check_weights:
        json.dump(check_weights(ds, args.check_weights), sys.stdout)
        sys.stdout.write("\n")
        return 0
    hyper = dict(DEFAULTS)
    hyper.update(json.loads(args.hyper))
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(int(hyper["seed"]))
    model = CA(ds["P"], args.K, HIDDEN[args.model]).to(dtype)
    data = to_tensors(ds, dtype)
    rss_loaded = bench_env.peak_rss_kb()
    bench_env.reset_peak_rss()
    t0 = time.perf_counter()
    epoch_seconds, losses = train(model, data, hyper)
    fit_seconds = time.perf_counter() - t0
    json.dump({"impl": "torch-" + args.dtype, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "model": args.model, "K": args.K,
               "hyper": hyper, "N_obs": int(sum(len(p[1]) for p in data)), "T": len(data),
               "P": ds["P"], "checksum": ds["checksum"], "fit_seconds": fit_seconds,
               "epoch_seconds": epoch_seconds,
               "seconds_per_epoch": min(epoch_seconds),
               "median_epoch_seconds": float(np.median(epoch_seconds)),
               "train_losses": losses, "final_train_loss": losses[-1] if losses else None,
               "final_eval_loss": evaluate(model, data),
               "load_peak_rss_kb": rss_loaded, "fit_peak_rss_kb": bench_env.peak_rss_kb()},
              sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
