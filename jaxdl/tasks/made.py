"""MADE density estimation on binarised images: NLL in nats per image, one mask and a K-mask ensemble.

Reads `model` (name "made", hidden, activation, ordering, connectivity) and `made`
(num_masks, eval_masks). Mask set i is `made.mask_set(mask_key(seed), i, ...)`.
Training draws each minibatch's mask index from the step key: uniformly from
0..num_masks-1, or (num_masks=0) from 2^31 indices, a new mask nearly every step.
Evaluation reports `loss`, the NLL under mask set 0, and `nll_ensemble`, the NLL of
the mixture (1/K) sum_k p_k(x) over mask sets 0..K-1 (K = eval_masks).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import ml_collections

from jaxdl import data, rng
from jaxdl.models import made as made_lib, model_factory
from jaxdl.models.pure import PureModel
from jaxdl.tasks import binary
from jaxdl.tasks.base import Task

_FRESH = 2**31 - 1  # mask indices drawn when num_masks=0


@dataclasses.dataclass(frozen=True)
class MADEFunctions:
    model: PureModel
    masks: Callable[[jax.Array], made_lib.Masks]  # index -> mask set (jittable)
    num_masks: int
    eval_masks: int


def mask_key(seed: int) -> jax.Array:
    return rng.stream(jax.random.key(seed), "masks")


def build(config: ml_collections.ConfigDict) -> MADEFunctions:
    m = config.model
    factory = model_factory("made", m.name)
    spec = data.get_spec(config.data.name)
    if not spec.image_shape:
        raise ValueError(f"the made task needs an image dataset; {spec.name!r} is not one")
    num_masks, eval_masks = int(config.made.num_masks), int(config.made.eval_masks)
    if num_masks < 0 or eval_masks < 1:
        raise ValueError(f"made.num_masks must be >= 0 (0 = a new mask every step) and made.eval_masks >= 1; "
                         f"got {num_masks} and {eval_masks}")
    if 0 < num_masks < eval_masks:
        raise ValueError(f"made.eval_masks={eval_masks} exceeds the {num_masks} mask sets trained "
                         f"(made.num_masks); the ensemble averages trained masks")
    if num_masks != 1 and m.ordering == "natural" and m.connectivity == "natural":
        raise ValueError("with ordering=natural and connectivity=natural every mask set is the same; "
                         "set model.ordering=random or model.connectivity=random, or made.num_masks=1")
    model = factory(spec.image_shape, hidden=tuple(m.hidden), activation=m.activation,
                    init=m.get("init", "lecun_normal"))
    key, dim = mask_key(config.seed), math.prod(spec.image_shape)
    made_lib.degrees(key, dim, (), ordering=m.ordering, connectivity=m.connectivity)  # validates the names
    masks = lambda i: made_lib.mask_set(key, i, dim, tuple(m.hidden), ordering=m.ordering,
                                        connectivity=m.connectivity)
    return MADEFunctions(model, masks, num_masks, eval_masks)


def make(config: ml_collections.ConfigDict) -> Task:
    made = build(config)
    high = made.num_masks or _FRESH

    def loss(params, batch, *, key, train=True):
        del train
        if key is None:
            raise ValueError("the made loss needs a key (binarisation and the mask draw)")
        k_bin, k_mask = jax.random.split(key)
        x_BxD = binary.dynamic(k_bin, binary.flatten(batch["image"]))
        masks = made.masks(jax.random.randint(k_mask, (), 0, high))
        return -made_lib.log_prob(made.model, params, x_BxD, masks).mean(), {}

    def eval_sums(params, batch, mask_B, *, key):
        del key  # deterministic: fixed binarisation, fixed mask sets
        x_BxD = binary.fixed(binary.flatten(batch["image"]))
        log_p_KxB = jax.lax.map(lambda i: made_lib.log_prob(made.model, params, x_BxD, made.masks(i)),
                                jnp.arange(made.eval_masks))
        ensemble_B = jax.nn.logsumexp(log_p_KxB, axis=0) - math.log(made.eval_masks)
        return {"loss": jnp.sum(-log_p_KxB[0] * mask_B), "nll_ensemble": jnp.sum(-ensemble_B * mask_B),
                "count": jnp.sum(mask_B)}

    def headline(m) -> str:
        return (f"NLL {float(m['loss']):.2f} nats (mask 0), {float(m['nll_ensemble']):.2f} "
                f"({made.eval_masks}-mask ensemble)")

    return Task(model=made.model, loss=loss, eval_sums=eval_sums, monitor="nll_ensemble", monitor_mode="min",
                headline=headline)
