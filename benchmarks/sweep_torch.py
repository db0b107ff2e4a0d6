"""PyTorch's two sides of the sweep-throughput rows (`benchmarks.sweep_throughput`): the MNIST MLP
members trained one after another, and all of them as one `torch.func` vmapped model."""

from __future__ import annotations

import copy
import gc
import math
import statistics
import time

import numpy as np

LEARNING_RATE = 1e-3


def torch_model(torch, scale: float, seed: int):
    """784-100-10 ReLU; weights LeCun normal (truncated at 2 sd, as jax's) x scale, biases 0."""
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in (model[0], model[2]):
            # jax's lecun_normal: truncated normal on [-2, 2] rescaled to variance 1 / fan_in.
            std = 1.0 / math.sqrt(layer.in_features) / 0.87962566103423978
            w = torch.nn.init.trunc_normal_(torch.empty_like(layer.weight), std=1.0, a=-2.0, b=2.0,
                                            generator=gen)
            layer.weight.copy_(scale * std * w)
            layer.bias.zero_()
    return model


def torch_data(torch, images: np.ndarray, labels: np.ndarray):
    return torch.from_numpy(images.reshape(len(images), -1)).contiguous(), torch.from_numpy(labels).long()


def epoch_batches(torch, gen, n: int, batch: int):
    """A shuffled epoch of index batches, the remainder dropped (as jaxdl does)."""
    steps = n // batch
    return torch.randperm(n, generator=gen)[: steps * batch].view(steps, batch)


def torch_loop(torch, x, y, args, epochs: int, member_list) -> tuple[float, int]:
    """Each member trained to the end in turn; seconds include building each model and optimiser."""
    import torch.nn.functional as F

    steps = 0
    start = time.perf_counter()
    for i, (seed, scale) in enumerate(member_list):
        model = torch_model(torch, scale, 1000 * seed + i)
        opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for idx in epoch_batches(torch, gen, len(y), 128):
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                steps += 1
    return time.perf_counter() - start, steps


def torch_vmap(torch, x, y, args, epochs: int, member_list) -> tuple[float, int]:
    """All members as one vmapped functional model; each member draws its own batches."""
    import torch.nn.functional as F
    from torch.func import functional_call, stack_module_state, vmap

    start = time.perf_counter()
    models = [torch_model(torch, scale, 1000 * seed + i) for i, (seed, scale) in enumerate(member_list)]
    params, buffers = stack_module_state(models)  # leaves of shape (M, ...), requires_grad
    base = copy.deepcopy(models[0]).to("meta")  # the structure only

    def forward(p, b, x_BxD):
        return functional_call(base, (p, b), (x_BxD,))

    forward_M = vmap(forward)
    # Adam is elementwise: over the stacked tensors it is exactly Adam per member.
    opt = torch.optim.Adam(list(params.values()), lr=LEARNING_RATE)
    gens = [torch.Generator().manual_seed(seed) for seed, _ in member_list]
    m, n = len(member_list), len(y)
    steps = 0
    for _ in range(epochs):
        idx_MxSxB = torch.stack([epoch_batches(torch, g, n, 128) for g in gens])
        for s in range(idx_MxSxB.shape[1]):
            idx_MxB = idx_MxSxB[:, s]
            logits_MxBxK = forward_M(params, buffers, x[idx_MxB])
            # Sum over members of each member's mean loss: member i's gradient is its own.
            loss = F.cross_entropy(logits_MxBxK.flatten(0, 1), y[idx_MxB].flatten(), reduction="none")
            loss = loss.view(m, -1).mean(1).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += m
    return time.perf_counter() - start, steps


def time_torch(fn, torch, x, y, args, member_list):
    fn(torch, x, y, args, 1, member_list[:1])  # warm-up: allocator, kernels, thread pool
    times, steps = [], 0
    for _ in range(args.repeats):
        gc.collect()
        t, steps = fn(torch, x, y, args, args.epochs, member_list)
        times.append(t)
    rates = [steps / t for t in times]
    return statistics.median(rates), rates, statistics.median(times)
