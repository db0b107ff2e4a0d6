"""Model summary: parameters per module (hand-counted), FLOPs per step against the analytic 6 x
params x examples, the FLOP rate and MFU of a run in metrics.jsonl, and `jaxdl show --summary`."""

import subprocess
import sys

import jax
import optax
import pytest

from jaxdl import cli, config as config_lib, experiments
from jaxdl.models import gpt
from jaxdl.train import flops, loop, summary, workdir as wd
from tests.helpers import experiment_config

MLP_PARAMS = {"layers/0": 784 * 100 + 100, "layers/1": 100 * 10 + 10}  # mnist_mlp: 784-100-10


def _mlp_summary(batch_size=128):
    """`jaxdl show --summary`'s path: the train step of mnist_mlp traced on shapes."""
    config = experiments.configure("mnist_mlp", [f"data.batch_size={batch_size}"])
    from jaxdl import rng, tasks
    from jaxdl.train import optimizers, steps
    from jaxdl.train.state import create

    task = tasks.make(config)
    tx = optimizers.make_optimizer(config.optimizer, total_steps=10)
    keys = rng.streams(0)
    state = jax.eval_shape(lambda: create(task.model, tx, keys["init"], keys["dropout"]))
    batch = {"image": jax.ShapeDtypeStruct((batch_size, 28, 28, 1), "float32"),
             "label": jax.ShapeDtypeStruct((batch_size,), "int32")}
    return summary.of_step(steps.make_train_step(task, tx), state, batch)


def test_mlp_params_per_module_and_flops_per_step_match_the_hand_count():
    mlp = _mlp_summary()
    assert mlp.params == MLP_PARAMS and mlp.total == 79_510
    # Forward 2 x params x batch FLOPs, backward twice that: 6 N B (the first layer needs no
    # input gradient and Adam adds a few per param, hence the band).
    analytic = 6 * mlp.total * 128
    assert 0.5 * analytic < mlp.flops_per_step < 2 * analytic


def test_flops_count_every_scanned_gpt_block():
    # XLA counts a scan's body once: without the correction a 4-block GPT would cost a 1-block one.
    def step_flops(num_layers):
        cfg = gpt.GPTConfig(vocab_size=16, context=32, num_layers=num_layers, d_model=64, num_heads=4)
        params = jax.eval_shape(lambda: gpt.init(jax.random.key(0), cfg))
        tokens = jax.ShapeDtypeStruct((8, 33), "int32")

        def loss(p, ids):
            logits = gpt.apply(p, ids[:, :-1], cfg)
            return optax.softmax_cross_entropy_with_integer_labels(logits, ids[:, 1:]).mean()

        n = sum(x.size for x in jax.tree.leaves(params))
        return flops.step_flops(jax.grad(loss), params, tokens), n, cfg

    for layers in (1, 4):
        counted, n, cfg = step_flops(layers)
        # PaLM's model FLOPs per token: 6 N + 12 L d T (attention scores and values), 8 x 32 tokens.
        analytic = (6 * n + 12 * cfg.num_layers * cfg.d_model * cfg.context) * 8 * 32
        assert 0.5 * analytic < counted < 2 * analytic, (layers, counted, analytic)


def test_peak_flops_given_else_known_device_else_unknown():
    assert flops.peak_flops(1e12, "NVIDIA H100 80GB HBM3") == 1e12
    assert flops.peak_flops(0.0, "NVIDIA H100 80GB HBM3") == 989e12
    assert flops.peak_flops(0.0, "NVIDIA H100 PCIe") == 756e12
    assert flops.peak_flops(0.0, "TPU v5 lite") == 197e12
    assert flops.peak_flops(0.0, "cpu") == 0.0


def test_flop_meter_rates_over_the_timed_chunks():
    meter = summary.FlopMeter(flops_per_step=1e9, peak_flops=4e10)
    meter.add(10, 1.0)
    meter.add(30, 1.0)
    assert meter.take() == pytest.approx({"model_flops_per_s": 2e10, "mfu": 0.5})
    assert meter.take() == {}  # reset; nothing timed since
    assert summary.FlopMeter(1e9).add(1, 1.0) is None
    unknown_peak = summary.FlopMeter(1e9)
    unknown_peak.add(2, 1.0)
    assert unknown_peak.take() == {"model_flops_per_s": 2e9}


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [[], ["train.grad_accum_steps=2"], ["data.on_device=false"]],
                         ids=["chunk", "chunk_with_a_scan_in_its_step", "stream"])
def test_a_runs_flops_per_step_are_the_steps_whatever_its_chunk_length(data_dir, overrides):
    # The run counts one step on the program its first chunk runs: S steps as one scan, whose body
    # XLA counts once (scans inside the step, here the microbatch scan, in full), or the streamed
    # step itself. It agrees with the step traced alone but for gathering the batch on device.
    from jaxdl import parallel, rng, tasks
    from jaxdl.train import feeds, optimizers, steps
    from jaxdl.train.state import create

    config = experiment_config(data_dir, "mnist_mlp", "data.max_train_examples=256", *overrides)
    task, mesh = tasks.make(config), parallel.make_mesh(1)
    tx = optimizers.make_optimizer(config.optimizer, total_steps=10)
    keys = rng.streams(0)
    state = jax.eval_shape(lambda: create(task.model, tx, keys["init"], keys["dropout"]))
    train_step = steps.make_train_step(task, tx, **steps.step_options(config.train))
    feed = feeds.make_feed(config, mesh)
    shardings = parallel.state_shardings(state, mesh)
    runner = feed.runner(train_step, shardings, config.data.batch_size)
    per_step = [summary.of_run(runner, state, shardings, s).flops_per_step for s in (1, 3)]
    alone = summary.of_step(train_step, state, feed.example_batch("train", config.data.batch_size)).flops_per_step
    assert per_step[0] == per_step[1]
    if config.data.on_device:
        assert per_step[0] == pytest.approx(alone, rel=1e-4)
    else:
        assert per_step[0] == alone


def test_a_run_logs_its_summary_and_flop_rate(tmp_path, data_dir, capsys):
    overrides = [f"data.data_dir={data_dir}", "data.max_train_examples=256", "train.epochs=2",
                 "train.eval_splits=()"]
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), overrides)
    loop.train(config, str(tmp_path / "cpu"), live=False)
    assert "model: 79,510 parameters" in capsys.readouterr().out
    model_row, *records = wd.read_metrics(str(tmp_path / "cpu"))
    assert model_row["split"] == "model" and model_row["params"] == sum(MLP_PARAMS.values())
    # The run counts its own chunk program's step, which also gathers the batch from the
    # on-device split (index arithmetic: a few FLOPs per example).
    assert model_row["flops_per_step"] == pytest.approx(_mlp_summary().flops_per_step, rel=1e-4)
    train_rows = [r for r in records if r["split"] == "train"]
    assert len(train_rows) == 2 and all(r["model_flops_per_s"] > 0 and "mfu" not in r for r in train_rows)

    # MFU is against the per-device peak times the devices the step runs on.
    with_peak = config_lib.apply_overrides(config, ["train.peak_flops=1e12", "train.num_devices=2"])
    loop.train(with_peak, str(tmp_path / "peak"), live=False)
    assert "MFU" in capsys.readouterr().out
    for r in wd.read_metrics(str(tmp_path / "peak"))[1:]:
        assert r["mfu"] == pytest.approx(r["model_flops_per_s"] / 2e12)


def test_cli_show_summary(capsys):
    assert cli.main(["show", "mnist_mlp", "--summary", "--set", "data.batch_size=64"]) == 0
    out = capsys.readouterr().out
    assert "mnist_mlp (batch 64): 79,510 parameters" in out and "FLOP per train step" in out
    assert "layers/0" in out and "78,500" in out and "1,010" in out


def test_cli_show_without_summary_does_not_import_jax():
    code = ("import contextlib, io, sys\nfrom jaxdl import cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            "    cli.run(['show', 'mnist_mlp'])\nprint('jax' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
