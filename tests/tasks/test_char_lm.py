"""The char_lm task: nats/bits per char, model registry, overfitting, training and generation end to end."""
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import cli, config as config_lib, experiments, models
from jaxdl.data import text
from jaxdl.models import lm as lm_lib
from jaxdl.tasks import char_lm
from jaxdl.train import loop
from tests.helpers import experiment_config_or_skip

SONNET = ("Shall I compare thee to a summer's day? Thou art more lovely and more temperate: "
          "Rough winds do shake the darling buds of May, And summer's lease hath all too short a date; "
          "Sometime too hot the eye of heaven shines")[:201]  # 200 targets


def test_sequences_cut_rows_into_shifted_pieces():
    ids = jnp.arange(2 * 9).reshape(2, 9)  # rows of R + 1 = 9
    inputs, targets = char_lm.sequences(ids, 4)
    np.testing.assert_array_equal(inputs, [[0, 1, 2, 3], [4, 5, 6, 7], [9, 10, 11, 12], [13, 14, 15, 16]])
    np.testing.assert_array_equal(targets, inputs + 1)


def test_loss_eval_sums_and_bits_agree():
    lm = lm_lib.recurrent_lm(12, 4, cell="lstm", hidden=8, layers=1)
    task = char_lm.from_lm(lm, 4)
    params = lm.model.init(jax.random.key(0))
    ids = jax.random.randint(jax.random.key(1), (3, 9), 0, 12)
    loss, metrics = jax.jit(task.loss)(params, {"ids": ids})
    logits = jax.jit(lm.model.apply)(params, ids[:, :8].reshape(-1, 4))
    by_hand = -jnp.take_along_axis(jax.nn.log_softmax(logits), ids[:, 1:].reshape(-1, 4)[..., None], -1).mean()
    np.testing.assert_allclose(loss, by_hand, rtol=1e-5)
    np.testing.assert_allclose(metrics["bits_per_char"], loss / math.log(2), rtol=1e-6)
    # Masked eval: the padded last row must not count.
    sums = jax.jit(task.eval_sums)(params, {"ids": jnp.concatenate([ids, ids[:1]])}, jnp.array([1.0, 1, 1, 0]))
    summary = task.summarize(sums)
    assert float(summary["count"]) == 3
    np.testing.assert_allclose(summary["loss"], loss, rtol=1e-5)
    assert "nats/char" in task.headline(summary) and "bits/char" in task.headline(summary)


def test_registry_and_bad_configs():
    config = experiments.get_config("char_lstm")
    assert set(models.model_names("char_lm")) >= {"rnn", "lstm"}
    with pytest.raises(ValueError, match="unknown char_lm model 'gru'; valid char_lm models: rnn, lstm"):
        char_lm.build_lm(config_lib.apply_overrides(config, ["model.name=gru"]))
    with pytest.raises(ValueError, match="must divide the dataset's row length 256"):
        char_lm.build_lm(config_lib.apply_overrides(config, ["lm.seq_len=100"]))
    with pytest.raises(ValueError, match="needs a token-row dataset"):
        char_lm.build_lm(config_lib.apply_overrides(config, ["data.name=mnist5k"]))


@pytest.mark.slow
def test_char_lstm_overfits_200_characters():
    vocab = text.Vocab.build(text.char_tokenize(SONNET))
    ids = jnp.asarray(vocab.encode(text.char_tokenize(SONNET)))[None]
    lm = lm_lib.recurrent_lm(len(vocab), 200, cell="lstm", hidden=64, layers=1)
    task = char_lm.from_lm(lm, 200)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-2))

    @jax.jit
    def train(params):
        def body(carry, _):
            params, opt = carry
            (loss, _), grads = jax.value_and_grad(task.loss, has_aux=True)(params, {"ids": ids})
            updates, opt = tx.update(grads, opt, params)
            return (optax.apply_updates(params, updates), opt), loss
        (params, _), losses = jax.lax.scan(body, (params, tx.init(params)), None, length=200)
        return params, losses

    params, losses = train(lm.model.init(jax.random.key(0)))
    assert losses[0] > 3.0 and losses[-1] < 0.05, losses[::20]
    # Greedy generation from the first character reproduces the memorised text.
    from jaxdl.models import sampling
    out = sampling.generate(lm, params, jax.random.key(0), ids[:, :1], 60, 0.0)
    assert "".join(vocab.decode(out[0])) == SONNET[1:61]


@pytest.mark.slow
def test_char_lstm_trains_with_mid_epoch_evals_and_generates(tmp_path, data_dir, capsys):
    config = experiment_config_or_skip(
        data_dir, "char_lstm", "model.hidden=32", "lm.seq_len=64", "data.batch_size=8",
        "data.max_train_examples=160", "train.num_steps=0", "train.epochs=2", "train.eval_every_steps=8",
        "data.eval_batch_size=256", "optimizer.learning_rate=0.01")
    result = loop.train(config, str(tmp_path / "run"), live=False)
    rows = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
    val_steps = [r["step"] for r in rows if r["split"] == "validation"]
    assert val_steps == [8, 16, 20, 24, 32, 40]  # every 8 steps, and at the epoch ends (20 steps each)
    val = [r for r in rows if r["split"] == "validation"]
    assert val[-1]["loss"] < val[0]["loss"] < math.log(88)
    np.testing.assert_allclose(val[-1]["bits_per_char"], val[-1]["loss"] / math.log(2), rtol=1e-6)
    assert result.final["validation"]["count"] == 902

    argv = ["generate", "--workdir", str(tmp_path / "run"), "--prompt", "ROMEO:", "--length", "40",
            "--temperature", "0.8", "--seed", "3"]
    capsys.readouterr()
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 40 + 1  # + print's newline
    assert cli.main(argv) == 0 and capsys.readouterr().out == first  # same seed, same text
    assert cli.main(argv[:-1] + ["4"]) == 0 and capsys.readouterr().out != first
    assert cli.main([*argv[:4], "ROMEO\u00e6", "--length", "5"]) == 2
    assert "unknown: ['\u00e6']" in capsys.readouterr().err
