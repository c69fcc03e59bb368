#!/usr/bin/python3
"""Reference sequence factor network of seed 003 (SeqRAT, SeqGAT, SeqLAT) in PyTorch, built to
match factord's C layers (include/factord/nn_seq.h) parameter for parameter:

  encoder   torch.nn.RNNCell (tanh or relu) / GRUCell / LSTMCell over the L managed
            portfolios x_{t-L+1} .. x_t (P each), h_0 = 0 (eq. 5-6); an absent step keeps the
            state (h, and c for the LSTM) unchanged: h = where(present, cell(x, h), h)
  attention q = h'_{i-1} W_att, e_t = q . h_t over the encoder states h_1 .. h_L, softmax over
            the present steps only (absent scores -inf), C_{i-1} = sum_t alpha_t h_t (eq. 8-10)
  decoder   h'_0 = h_L, h'_i = act(W_3 h'_{i-1} + W_4 C_{i-1} + b_2), i = 1 .. L (eq. 7, 11)
  output    f = W_factor [h'_1 .. h'_L] + b_3, W_factor (K, L H) (eq. 13)

The parameter vector is factord's layout: [W_ih | W_hh | b_ih | b_hh | W_att | W_3 | W_4 | b_2
| W_factor | b_3], PyTorch's cell layouts (gates r,z,n and i,f,g,o) unchanged.

Usage:
  seq_ref.py --check CASE.json... each C side's case (spec, X, mask, params, target, its
                                  loss and gradients): recomputes loss and gradients in float64
                                  and prints one JSON line per case, {"loss_diff",
                                  "grad_params_diff", "grad_x_diff"} (max absolute differences)
"""
import json
import sys

import torch

CELLS = {"rnn": 0, "gru": 1, "lstm": 2}


def act_fn(name):
    return torch.relu if name == "relu" else torch.tanh


class SeqFactorNet(torch.nn.Module):
    def __init__(self, P, H, L, K, cell="lstm", act="tanh", dec_act="tanh"):
        super().__init__()
        self.P, self.H, self.L, self.K, self.cell_kind = P, H, L, K, cell
        if cell == "rnn":
            self.cell = torch.nn.RNNCell(P, H, nonlinearity=act)
        elif cell == "gru":
            self.cell = torch.nn.GRUCell(P, H)
        else:
            self.cell = torch.nn.LSTMCell(P, H)
        self.W_att = torch.nn.Parameter(torch.empty(H, H))
        self.W3 = torch.nn.Linear(H, H, bias=False)
        self.W4 = torch.nn.Linear(H, H, bias=False)
        self.b2 = torch.nn.Parameter(torch.empty(H))
        self.out = torch.nn.Linear(L * H, K)
        self.dec_act = act_fn(dec_act)

    def ordered(self):
        """The parameters in factord's order."""
        c = self.cell
        return [c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh, self.W_att, self.W3.weight,
                self.W4.weight, self.b2, self.out.weight, self.out.bias]

    def load_flat(self, flat):
        at = 0
        with torch.no_grad():
            for p in self.ordered():
                n = p.numel()
                p.copy_(flat[at:at + n].view_as(p))
                at += n
        if at != flat.numel():
            raise ValueError("parameter count %d, expected %d" % (flat.numel(), at))

    def grad_flat(self):
        return torch.cat([p.grad.reshape(-1) for p in self.ordered()])

    def forward(self, X, mask):
        """X (L, B, P) time-major, mask (B, L) bool -> f (B, K)."""
        L, B, _ = X.shape
        h = X.new_zeros(B, self.H)
        c = X.new_zeros(B, self.H)
        states = []
        for l in range(L):
            m = mask[:, l:l + 1]
            if self.cell_kind == "lstm":
                hn, cn = self.cell(X[l], (h, c))
                c = torch.where(m, cn, c)
            else:
                hn = self.cell(X[l], h)
            h = torch.where(m, hn, h)
            states.append(h)
        E = torch.stack(states, dim=1)  # (B, L, H)
        prev, dec = h, []
        for _ in range(L):
            q = prev @ self.W_att
            e = (q.unsqueeze(1) * E).sum(-1).masked_fill(~mask, float("-inf"))
            alpha = torch.softmax(e, dim=1)
            ctx = (alpha.unsqueeze(-1) * E).sum(1)
            prev = self.dec_act(self.W3(prev) + self.W4(ctx) + self.b2)
            dec.append(prev)
        return self.out(torch.cat(dec, dim=1))


def check(path):
    with open(path) as f:
        case = json.load(f)
    torch.set_default_dtype(torch.float64)
    L, B, P, H, K = (case[k] for k in ("L", "B", "P", "H", "K"))
    net = SeqFactorNet(P, H, L, K, case["cell"], case["act"], case["dec_act"])
    net.load_flat(torch.tensor(case["params"]))
    X = torch.tensor(case["X"]).view(L, B, P).requires_grad_(True)
    mask = torch.tensor(case["mask"], dtype=torch.bool).view(B, L)
    target = torch.tensor(case["target"]).view(B, K)
    loss = torch.mean((net(X, mask) - target) ** 2)
    loss.backward()
    gp = net.grad_flat()
    return {
        "loss": loss.item(),
        "loss_diff": abs(loss.item() - case["loss"]),
        "grad_params_diff": (gp - torch.tensor(case["grad_params"])).abs().max().item(),
        "grad_x_diff": (X.grad.reshape(-1) - torch.tensor(case["grad_x"])).abs().max().item(),
    }


def main(argv):
    if len(argv) >= 3 and argv[1] == "--check":
        for path in argv[2:]:
            print(json.dumps(check(path)), flush=True)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
