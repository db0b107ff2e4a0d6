"""MADE: masked autoencoder for distribution estimation (Germain et al., 2015), from matrix algebra.

An MLP over D binary inputs whose weight matrices are multiplied by 0/1
masks so that output d (the logit of p(x_d = 1 | x_<d)) depends only on the
inputs before d in an ordering: the product of the D outputs' Bernoullis is
then a normalised distribution p(x) = prod_d p(x_d | x_<d).

Masks come from degrees. Input d gets degree m0[d] = its position (1..D) in
the ordering; hidden unit k of layer l gets m_l[k] in [min m_{l-1}, D-1]
(drawn at random, or spread evenly: "natural" connectivity). A hidden weight
j -> k is kept iff m_l[k] >= m_{l-1}[j]; an output weight k -> d iff
m0[d] > m_L[k]. The first input in the ordering thus sees only its bias.

Masks are an argument of `apply`, not params: order-agnostic training draws
a new mask set per minibatch, and a test-time ensemble averages the
likelihoods of K mask sets. Mask set i is a pure function of (key, i).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax

from jaxdl.models import inits
from jaxdl.models.pure import Params, PureModel

ORDERINGS = ("natural", "random")
CONNECTIVITIES = ("random", "natural")


@dataclasses.dataclass(frozen=True)
class Masks:
    order_D: jax.Array  # order_D[t] = the input generated at step t
    layers: tuple[jax.Array, ...]  # 0/1 float masks shaped like the kernels: (D, H1), ..., (HL, D)


jax.tree_util.register_dataclass(Masks, data_fields=["order_D", "layers"], meta_fields=[])


def degrees(key: jax.Array, data_dim: int, hidden: Sequence[int], *, ordering: str,
            connectivity: str) -> list[jax.Array]:
    """[m0 (D,), m1 (H1,), ..., mL (HL,)]: the input's positions in the ordering, then hidden degrees."""
    if ordering not in ORDERINGS:
        raise ValueError(f"unknown MADE ordering {ordering!r}; valid: {', '.join(ORDERINGS)}")
    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"unknown MADE connectivity {connectivity!r}; valid: {', '.join(CONNECTIVITIES)}")
    if ordering == "natural":
        m = [jnp.arange(1, data_dim + 1)]
    else:  # position of input d = 1 + its index in a random permutation of the order
        m = [jnp.argsort(jax.random.permutation(jax.random.fold_in(key, 0), data_dim)) + 1]
    for layer, width in enumerate(hidden, start=1):
        low = jnp.min(m[-1])
        if connectivity == "random":
            m.append(jax.random.randint(jax.random.fold_in(key, layer), (width,), low, data_dim))
        else:  # spread evenly over [low, D-1]
            m.append(low + (jnp.arange(width) * (data_dim - low)) // width)
    return m


def make_masks(key: jax.Array, data_dim: int, hidden: Sequence[int], *, ordering: str = "natural",
               connectivity: str = "random") -> Masks:
    m = degrees(key, data_dim, hidden, ordering=ordering, connectivity=connectivity)
    layers = [(m[i + 1][None, :] >= m[i][:, None]) for i in range(len(hidden))]
    layers.append(m[0][None, :] > m[-1][:, None])
    return Masks(order_D=jnp.argsort(m[0]), layers=tuple(mask.astype(jnp.float32) for mask in layers))


def mask_set(key: jax.Array, index: jax.Array | int, data_dim: int, hidden: Sequence[int], *,
             ordering: str, connectivity: str) -> Masks:
    """Mask set number `index` of the family drawn from `key` (jittable in `index`)."""
    return make_masks(jax.random.fold_in(key, index), data_dim, hidden, ordering=ordering,
                      connectivity=connectivity)


INITS = ("lecun_normal", "torch_default")


def make(input_shape: Sequence[int], hidden: Sequence[int] = (500,), activation: str = "relu",
         init: str = "lecun_normal") -> PureModel:
    """A MADE for inputs of `input_shape` (flattened to D); `apply(params, x, *, masks)` -> logits_BxD.

    `init`: "lecun_normal" kernels with zero biases, or "torch_default", PyTorch's `nn.Linear`
    init (U(+-1/sqrt(fan_in)) kernels and biases, fan_in the unmasked input width), which
    the MADE.py of christinakim/deep-learning-from-scratch trains with.
    """
    if not hidden:
        raise ValueError("MADE needs at least one hidden layer (hidden=(500,), say)")
    if init not in INITS:
        raise ValueError(f"unknown MADE init {init!r}; valid: {', '.join(INITS)}")
    data_dim = math.prod(input_shape)
    sizes = (data_dim, *hidden, data_dim)
    act = inits.activation(activation)

    def layer(key: jax.Array, n_in: int, n_out: int) -> Params:
        if init == "lecun_normal":
            return {"kernel": jax.nn.initializers.lecun_normal()(key, (n_in, n_out)), "bias": jnp.zeros((n_out,))}
        k_kernel, k_bias = jax.random.split(key)
        return {"kernel": inits.kernel_init("torch_default")(k_kernel, (n_in, n_out)),
                "bias": inits.torch_default_bias(n_in)(k_bias, (n_out,))}

    def init_fn(key: jax.Array) -> Params:
        keys = jax.random.split(key, len(sizes) - 1)
        return {"layers": {str(i): layer(k, n_in, n_out)
                           for i, (k, n_in, n_out) in enumerate(zip(keys, sizes[:-1], sizes[1:]))}}

    def apply(params: Params, x, *, masks: Masks, key=None, train: bool = False) -> jax.Array:
        del key, train  # deterministic given the masks
        if tuple(x.shape[1:]) != tuple(input_shape):
            raise ValueError(f"made expects inputs of shape (batch, {', '.join(map(str, input_shape))}); "
                             f"got {tuple(x.shape)}")
        h = x.reshape(x.shape[0], -1)
        layers = params["layers"]
        for i, mask in enumerate(masks.layers):
            h = h @ (layers[str(i)]["kernel"] * mask) + layers[str(i)]["bias"][None, :]
            if i < len(masks.layers) - 1:
                h = act(h)
        return h

    return PureModel("made", dict(hidden=tuple(hidden), activation=activation, init=init), tuple(input_shape),
                     init_fn, apply)


def log_prob(model: PureModel, params: Params, x_BxD: jax.Array, masks: Masks) -> jax.Array:
    """log p(x) in nats per example under one mask set; x binary, flattened."""
    logits = model.apply(params, x_BxD.reshape(x_BxD.shape[0], *model.input_shape), masks=masks)
    # float32 whatever the compute dtype (train.precision=bfloat16)
    return -jnp.sum(optax.sigmoid_binary_cross_entropy(logits.astype(jnp.float32), x_BxD), axis=-1)


def sample(model: PureModel, params: Params, masks: Masks, key: jax.Array, num: int) -> jax.Array:
    """`num` draws x ~ p(x) as (num, D): D steps of a `lax.scan`, each fixing the next input in the order."""
    data_dim = masks.order_D.shape[0]

    def step(x_NxD, t):
        d = masks.order_D[t]
        logits = model.apply(params, x_NxD.reshape(num, *model.input_shape), masks=masks)
        bits = jax.random.bernoulli(jax.random.fold_in(key, t), jax.nn.sigmoid(logits[:, d]))
        return x_NxD.at[:, d].set(bits.astype(x_NxD.dtype)), None

    x, _ = jax.lax.scan(step, jnp.zeros((num, data_dim), jnp.float32), jnp.arange(data_dim))
    return x
