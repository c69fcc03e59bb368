#!/usr/bin/python3
"""Independent reference values for the NeurIF layers of src/nn (factord/nn_attention.h and
factord/nn_factor.h), written to tests/data/neurif_expected.json, which
tests/unit/test_nn_neurif_ref.c checks the C code against (float64 on both sides).

  orthogonality  sum of the squared off-diagonal entries of np.corrcoef of the factors
  deviation      ||B - Z Gamma||_F^2 / ||B||_F^2
  factor_ls      f = (B'B + rho I)^{-1} B'r, rho = ridge tr(B'B) / K (np.linalg.lstsq too
                 at ridge 0)
  layernorm      torch.nn.LayerNorm, output and gradients of sum(y * G)
  time_attention torch.nn.MultiheadAttention(batch_first) with the latest month as the one
                 query, every month as keys and values, absent months in key_padding_mask;
                 output and gradients of sum(out * G)
  cross_attention torch.nn.MultiheadAttention over one month's securities (q = k = v = U)

Parameters are factord's layout, which is PyTorch's: [in_proj_weight (3d, d) | in_proj_bias
(3d) | out_proj.weight (d, d) | out_proj.bias (d)]. Time inputs are time-major (L, B, d), masks
(B, L) with 1 = present, as the C layers take them.

Run from the repository root: /usr/bin/python3 tests/ref/neurif_ref.py
"""
import json

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20260213)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def orthogonality_case(T, K, constant_col=None):
    F = rng.normal(0.0, 1.0, (T, K)) @ rng.normal(0.0, 1.0, (K, K))  # correlated factors
    if constant_col is not None:
        F[:, constant_col] = 0.25
    C = np.corrcoef(F.T) if constant_col is None else None
    if constant_col is None:
        value = float(np.sum(C**2) - np.sum(np.diag(C) ** 2))
    else:  # a factor without variance has no correlations: only the others' pairs count
        keep = [k for k in range(K) if k != constant_col]
        C = np.corrcoef(F[:, keep].T)
        value = float(np.sum(C**2) - np.sum(np.diag(C) ** 2))
    return {"T": T, "K": K, "F": flat(F), "value": value}


def deviation_case(n, P, K):
    Z = rng.normal(0.0, 1.0, (n, P))
    Gamma = rng.normal(0.0, 0.5, (P, K))
    B = Z @ Gamma + 0.3 * rng.normal(0.0, 1.0, (n, K))
    value = float(np.sum((B - Z @ Gamma) ** 2) / np.sum(B**2))
    return {"n": n, "P": P, "K": K, "B": flat(B), "Z": flat(Z), "Gamma": flat(Gamma),
            "value": value}


def factor_ls_case(n, K, ridge):
    B = rng.normal(0.0, 1.0, (n, K))
    r = B @ rng.normal(0.0, 0.05, K) + rng.normal(0.0, 0.1, n)
    A = B.T @ B
    A = A + ridge * np.trace(A) / K * np.eye(K)
    f = np.linalg.solve(A, B.T @ r)
    if ridge == 0.0:
        lstsq = np.linalg.lstsq(B, r, rcond=None)[0]
        assert np.max(np.abs(lstsq - f)) < 1e-12
    return {"n": n, "K": K, "ridge": ridge, "B": flat(B), "r": flat(r), "f": flat(f)}


def mha(d, heads, params):
    m = torch.nn.MultiheadAttention(d, heads, batch_first=True, bias=True)
    p = torch.tensor(params)
    with torch.no_grad():
        at = 0
        for t in (m.in_proj_weight, m.in_proj_bias, m.out_proj.weight, m.out_proj.bias):
            t.copy_(p[at:at + t.numel()].reshape(t.shape))
            at += t.numel()
    return m


def mha_grads(m):
    return flat(torch.cat([t.grad.reshape(-1) for t in (m.in_proj_weight, m.in_proj_bias,
                                                        m.out_proj.weight, m.out_proj.bias)]))


def layernorm_case(n, C):
    x = torch.tensor(rng.normal(0.0, 2.0, (n, C)), requires_grad=True)
    ln = torch.nn.LayerNorm(C, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, C)))
        ln.bias.copy_(torch.tensor(rng.uniform(-0.5, 0.5, C)))
    G = torch.tensor(rng.uniform(-1.0, 1.0, (n, C)))
    y = ln(x)
    (y * G).sum().backward()
    return {"n": n, "C": C, "x": flat(x.detach()), "gamma": flat(ln.weight.detach()),
            "beta": flat(ln.bias.detach()), "G": flat(G), "y": flat(y.detach()),
            "grad_x": flat(x.grad), "grad_gamma": flat(ln.weight.grad),
            "grad_beta": flat(ln.bias.grad)}


def time_attention_case(L, B, d, heads):
    params = rng.uniform(-0.6, 0.6, 4 * d * d + 4 * d)
    X = rng.uniform(-1.0, 1.0, (L, B, d))
    mask = np.ones((B, L))
    mask[1, :2] = 0          # starts two months late
    mask[2, L // 2] = 0      # a hole
    mask[3, :L - 1] = 0      # only the latest month
    X[np.transpose(mask) == 0] = 0.0
    m = mha(d, heads, params)
    Xb = torch.tensor(np.transpose(X, (1, 0, 2)).copy(), requires_grad=True)  # (B, L, d)
    G = torch.tensor(rng.uniform(-1.0, 1.0, (B, d)))
    out, _ = m(Xb[:, L - 1:L, :], Xb, Xb, key_padding_mask=torch.tensor(mask == 0),
               need_weights=False)
    (out[:, 0, :] * G).sum().backward()
    grad_x = np.transpose(Xb.grad.numpy(), (1, 0, 2))
    return {"L": L, "B": B, "d": d, "heads": heads, "X": flat(X), "mask": flat(mask),
            "params": flat(params), "G": flat(G), "out": flat(out[:, 0, :].detach()),
            "grad_x": flat(grad_x), "grad_params": mha_grads(m)}


def cross_attention_case(N, d, heads):
    params = rng.uniform(-0.6, 0.6, 4 * d * d + 4 * d)
    U = torch.tensor(rng.uniform(-3.0, 3.0, (1, N, d)), requires_grad=True)
    G = torch.tensor(rng.uniform(-1.0, 1.0, (N, d)))
    m = mha(d, heads, params)
    out, _ = m(U, U, U, need_weights=False)
    (out[0] * G).sum().backward()
    return {"N": N, "d": d, "heads": heads, "U": flat(U.detach()[0]), "params": flat(params),
            "G": flat(G), "out": flat(out[0].detach()), "grad_u": flat(U.grad[0]),
            "grad_params": mha_grads(m)}


def main():
    out = {
        "orthogonality": [orthogonality_case(24, 4), orthogonality_case(7, 3),
                          orthogonality_case(30, 5, constant_col=2)],
        "deviation": [deviation_case(40, 6, 3), deviation_case(15, 1, 2)],
        "factor_ls": [factor_ls_case(50, 4, 0.0), factor_ls_case(12, 3, 1e-3)],
        "layernorm": layernorm_case(5, 8),
        "time_attention": time_attention_case(6, 5, 8, 2),
        "cross_attention": cross_attention_case(37, 8, 4),
    }
    with open("tests/data/neurif_expected.json", "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
