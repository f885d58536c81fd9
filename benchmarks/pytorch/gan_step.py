#!/usr/bin/env python3
"""The training iteration of four ganbench configs written in PyTorch, timed.

    python3 benchmarks/pytorch/gan_step.py MODEL ITERATIONS THREADS

MODEL is mnist-mlp, mnist-tutorial, cifar10-mlp or cifar10-conv. Prints one JSON line
(iterationsPerSecond, peakRssMiB, versions), like benchmarks/train_step.ts does for
ganbench. Run by benchmarks/vs_pytorch.ts (deno task perf:torch); never by tests.

Each model and update is the one the config describes (configs/<MODEL>.json): the same
layers, inverted-dropout masks on D's layer inputs, losses from logits, and update rule --
the 2014 code's simultaneous update with pylearn2 momentum for the paper models, Algorithm 1
with Adam for the tutorial. The work per iteration is ganbench's autodiff step's: one G
forward, D on the real and the (detached) generated batch for D's gradients, D again on the
generated batch for G's. Real batches are random values of the data's shape and range:
what an iteration costs does not depend on them, and loading is not timed.
"""

import json
import sys
import time

import torch
import torch.nn.functional as F


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def uniform_linear(n_in, n_out, irange, bias=True):
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        layer.weight.uniform_(-irange, irange)
        if bias:
            layer.bias.zero_()
    return layer


def maxout(z, pieces):
    """Max over contiguous groups of `pieces` along dim 1 (units or channels)."""
    shape = list(z.shape)
    grouped = z.reshape(shape[0], shape[1] // pieces, pieces, *shape[2:])
    return grouped.max(dim=2).values


def mask(shape, keep, scale):
    return torch.bernoulli(torch.full(shape, keep)) * scale


class MlpG(torch.nn.Module):
    def __init__(self, sizes, activations, iranges):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            uniform_linear(a, b, r) for a, b, r in zip(sizes, sizes[1:], iranges)
        )
        self.activations = activations

    def forward(self, z):
        h = z
        for layer, act in zip(self.layers, self.activations):
            h = act(layer(h))
        return h


class MaxoutD(torch.nn.Module):
    """pylearn2's maxout MLP: maxout layers, then one sigmoid unit (returns logits)."""

    def __init__(self, n_in, units, pieces, irange):
        super().__init__()
        self.pieces = pieces
        self.h0 = uniform_linear(n_in, units * pieces, irange)
        self.h1 = uniform_linear(units, units * pieces, irange)
        self.y = uniform_linear(units, 1, irange)

    def mask_shapes(self, batch, n_in):
        return [(batch, n_in), (batch, self.h0.out_features // self.pieces),
                (batch, self.h1.out_features // self.pieces)]

    def forward(self, x, masks):
        h = maxout(self.h0(x * masks[0]), self.pieces)
        h = maxout(self.h1(h * masks[1]), self.pieces)
        return self.y(h * masks[2])


class TutorialD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [torch.nn.Linear(784, 1024), torch.nn.Linear(1024, 512),
             torch.nn.Linear(512, 256), torch.nn.Linear(256, 1)]
        )

    def mask_shapes(self, batch, n_in):
        return [(batch, 1024), (batch, 512), (batch, 256)]

    def forward(self, x, masks):
        h = x
        for i, layer in enumerate(self.layers[:-1]):
            h = F.leaky_relu(layer(h if i == 0 else h * masks[i - 1]), 0.2)
        return self.layers[-1](h * masks[-1])


class DeconvG(torch.nn.Module):
    """100 → 8000 ReLU → 8000 sigmoid → 80×10×10 → 5×5 stride-3 transposed conv, untied bias."""

    def __init__(self):
        super().__init__()
        self.h0 = uniform_linear(100, 8000, 0.05)
        self.h1 = uniform_linear(8000, 8000, 0.05)
        self.deconv = torch.nn.ConvTranspose2d(80, 3, 5, stride=3, bias=False)
        with torch.no_grad():
            self.deconv.weight.uniform_(-0.05, 0.05)
        self.bias = torch.nn.Parameter(torch.zeros(3, 32, 32))

    def forward(self, z):
        h = torch.sigmoid(self.h1(F.relu(self.h0(z))))
        return self.deconv(h.reshape(-1, 80, 10, 10)) + self.bias


class ConvMaxoutD(torch.nn.Module):
    """Conv maxout 32×2 k8 p4 pool 4/2, 32×2 k8 p3 pool 4/2, 192×2 k5 p3 pool 2/2; maxout 500×5."""

    LAYERS = [(3, 32, 8, 4, 4, 2), (32, 32, 8, 3, 4, 2), (32, 192, 5, 3, 2, 2)]

    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList()
        for cin, channels, k, pad, _, _ in self.LAYERS:
            conv = torch.nn.Conv2d(cin, channels * 2, k, padding=pad)
            with torch.no_grad():
                conv.weight.uniform_(-0.005, 0.005)
                conv.bias.zero_()
            self.convs.append(conv)
        self.h3 = uniform_linear(192 * 5 * 5, 500 * 5, 0.005)
        self.y = uniform_linear(500, 1, 0.005)

    def mask_shapes(self, batch, n_in):
        return [(batch, 3, 32, 32), (batch, 32, 16, 16), (batch, 32, 7, 7),
                (batch, 192 * 5 * 5), (batch, 500)]

    def forward(self, x, masks):
        h = x.reshape(-1, 3, 32, 32)
        for i, (conv, (_, _, _, _, pool, stride)) in enumerate(zip(self.convs, self.LAYERS)):
            # cuda-convnet pooling: windows may run past the edge (ceil mode)
            h = F.max_pool2d(maxout(conv(h * masks[i]), 2), pool, stride, ceil_mode=True)
        h = maxout(self.h3(h.reshape(h.shape[0], -1) * masks[3]), 5)
        return self.y(h * masks[4])


def pylearn2_momentum(params, lr, mu):
    """v ← μ·v − lr·g;  θ ← θ + v (the 2014 code's rule; lr and μ held for a short run)."""
    velocity = [torch.zeros_like(p) for p in params]

    def step(grads):
        with torch.no_grad():
            for p, v, g in zip(params, velocity, grads):
                v.mul_(mu).add_(g, alpha=-lr)
                p.add_(v)

    return step


def bce(logits, label):
    return F.softplus(-logits if label == 1 else logits).mean()


def build(model):
    if model == "mnist-mlp":
        G = MlpG([100, 1200, 1200, 784], [F.relu, F.relu, torch.sigmoid], [0.05] * 3)
        D = MaxoutD(784, 240, 5, 0.005)
        return G, D, dict(batch=100, n_in=784, noise="uniform", lr=0.1, update="simultaneous")
    if model == "cifar10-mlp":
        G = MlpG([100, 8000, 8000, 3072], [F.relu, torch.sigmoid, lambda h: h],
                 [0.05, 0.05, 0.5])
        D = MaxoutD(3072, 1600, 5, 0.005)
        return G, D, dict(batch=100, n_in=3072, noise="normal", lr=0.025, update="simultaneous")
    if model == "cifar10-conv":
        return DeconvG(), ConvMaxoutD(), dict(batch=128, n_in=3072, noise="normal", lr=0.004,
                                              update="simultaneous")
    if model == "mnist-tutorial":
        G = torch.nn.Sequential(
            torch.nn.Linear(100, 256), torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(256, 512), torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(512, 1024), torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(1024, 784), torch.nn.Tanh(),
        )
        return G, TutorialD(), dict(batch=64, n_in=784, noise="normal", update="alternating")
    raise SystemExit(f"unknown model {model!r}: expected mnist-mlp, mnist-tutorial, "
                     "cifar10-mlp or cifar10-conv")


def masks_for(D, model, batch, n_in):
    shapes = D.mask_shapes(batch, n_in)
    if model == "mnist-tutorial":
        return [mask(s, 0.5, 2.0) for s in shapes]
    return [mask(shapes[0], 0.8, 1.25)] + [mask(s, 0.5, 2.0) for s in shapes[1:]]


def make_step(model, G, D, cfg):
    batch, n_in = cfg["batch"], cfg["n_in"]
    g_params, d_params = list(G.parameters()), list(D.parameters())

    def noise():
        if cfg["noise"] == "uniform":
            return torch.empty(batch, 100).uniform_(-3 ** 0.5, 3 ** 0.5)
        return torch.randn(batch, 100)

    def real():
        return torch.rand(batch, n_in) * 2 - 1

    if cfg["update"] == "simultaneous":
        d_step = pylearn2_momentum(d_params, cfg["lr"], 0.5)
        g_step = pylearn2_momentum(g_params, cfg["lr"], 0.5)

        def step():
            x, z = real(), noise()
            real_masks = masks_for(D, model, batch, n_in)
            fake_masks = masks_for(D, model, batch, n_in)
            fake = G(z)
            g_loss = bce(D(fake, fake_masks), 1)
            g_grads = torch.autograd.grad(g_loss, g_params)
            d_loss = 0.5 * (bce(D(x, real_masks), 1) + bce(D(fake.detach(), fake_masks), 0))
            d_grads = torch.autograd.grad(d_loss, d_params)
            d_step(d_grads)
            g_step(g_grads)
            return d_loss.item(), g_loss.item()

        return step

    d_opt = torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999))

    def step():
        # Algorithm 1 with k = 1: a D update (G fixed), then a G update (D fixed)
        with torch.no_grad():
            fake = G(noise())
        d_loss = bce(D(real(), masks_for(D, model, batch, n_in)), 1) + \
            bce(D(fake, masks_for(D, model, batch, n_in)), 0)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        for p in d_params:
            p.requires_grad_(False)
        g_loss = bce(D(G(noise()), masks_for(D, model, batch, n_in)), 1)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        for p in d_params:
            p.requires_grad_(True)
        return d_loss.item(), g_loss.item()

    return step


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__.split("\n\n")[1])
    model, iterations, threads = argv[0], int(argv[1]), int(argv[2])
    if iterations < 2:
        raise SystemExit("at least 2 iterations: one warms up")
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    G, D, cfg = build(model)
    step = make_step(model, G, D, cfg)
    warmup = max(1, min(5, iterations // 4))  # as benchmarks/train_step.ts
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(iterations - warmup):
        d_loss, g_loss = step()
    seconds = time.perf_counter() - t0
    rate = (iterations - warmup) / seconds
    print(json.dumps({
        "config": model,
        "framework": f"pytorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "batchSize": cfg["batch"],
        "iterations": iterations,
        "timed": iterations - warmup,
        "iterationsPerSecond": rate,
        "examplesPerSecond": rate * cfg["batch"],
        "peakRssMiB": peak_rss_mib(),
        "finalLosses": [d_loss, g_loss],
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
