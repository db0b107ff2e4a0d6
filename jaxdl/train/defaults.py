"""Every optimiser and schedule field with its default: plain config, no JAX, so `jaxdl show` and
`jaxdl list` never import it. `optimizers.make_optimizer` and `schedules.make_schedule` read these."""

from __future__ import annotations

import ml_collections


def default_schedule_config() -> ml_collections.ConfigDict:
    """All fields `make_schedule` and the plateau rule read, with defaults."""
    return ml_collections.ConfigDict(
        dict(
            name="constant",
            warmup_steps=0,  # linear warmup of the factor from 0 to 1 (every schedule)
            decay_rate=0.1,  # step / exponential: factor per `decay_every` steps
            decay_every=1000,
            end_factor=0.0,  # cosine: factor reached at `total_steps`
            # plateau (Nielsen's "no-improvement-in-ten" rule, driven by the loop):
            patience=10,
            factor=0.5,
            min_scale=1.0 / 128,
        )
    )


def default_optimizer_config() -> ml_collections.ConfigDict:
    """Every field `make_optimizer` reads; experiments override values."""
    return ml_collections.ConfigDict(
        dict(
            name="sgd",
            learning_rate=0.1,
            momentum=0.9,  # momentum / nesterov (and their _scratch versions)
            b1=0.9,  # adam / adamw
            b2=0.999,
            eps=1e-8,
            adagrad_eps=1e-7,  # optax.adagrad's defaults (adagrad, adagrad_scratch)
            initial_accumulator_value=0.1,
            weight_decay=1e-4,  # adamw only (decoupled); weights only (`weights_mask`), like the penalties
            # True: l1, l2 and weight_decay reach biases, norm scales and scalars too (PyTorch's default)
            decay_biases=False,
            clip_value=0.0,  # 0 = off
            clip_norm=0.0,  # 0 = off
            l1=0.0,
            l2=0.0,
            schedule=default_schedule_config(),
        )
    )
