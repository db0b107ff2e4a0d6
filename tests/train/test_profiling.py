"""train.profile_steps: a jax.profiler trace of the asked steps in WORKDIR/profile; a bad window is
one line, exit 2, before anything is compiled or written."""

import pytest

from jaxdl import cli, config as config_lib, experiments
from jaxdl.train import loop, profiling


def test_parse_steps_accepts_a_window_and_names_what_is_valid():
    assert profiling.parse_steps("") is None
    assert profiling.parse_steps("3:7") == (3, 7)
    for bad in ("5", "7:3", "3:3", "-1:2", "a:b", "1:2:3"):
        with pytest.raises(ValueError, match="START:END"):
            profiling.parse_steps(bad)


def test_chunks_overlapping_the_window_are_traced_once(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(profiling.jax.profiler, "start_trace", lambda d: calls.append(("start", d)))
    monkeypatch.setattr(profiling.jax.profiler, "stop_trace", lambda: calls.append(("stop",)))
    profiler = profiling.Profiler("5:12", str(tmp_path))
    for start in range(0, 30, 4):  # chunks of 4 steps: 0-3, 4-7 (starts), 8-11 (stops), ...
        with profiler.chunk(start, start + 4):
            calls.append(start)
    assert calls == [0, ("start", str(tmp_path / "profile")), 4, 8, ("stop",), 12, 16, 20, 24, 28]


@pytest.mark.slow
@pytest.mark.parametrize("on_device", [True, False])
def test_a_run_with_profile_steps_writes_a_trace(tmp_path, data_dir, on_device):
    overrides = [f"data.data_dir={data_dir}", "data.max_train_examples=512", "train.num_steps=4",
                 "train.eval_splits=()", "train.profile_steps=1:3", f"data.on_device={on_device}",
                 "train.progress_updates_per_epoch=4"]
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), overrides)
    loop.train(config, str(tmp_path / "run"), live=False)
    traces = list((tmp_path / "run" / "profile").rglob("*.xplane.pb"))
    assert len(traces) == 1 and traces[0].stat().st_size > 0


def test_a_bad_window_exits_2_before_compiling(tmp_path, capsys, monkeypatch):
    from jaxdl.train import steps

    def no_step(*args, **kwargs):
        raise AssertionError("a train step was built for a run with a bad train.profile_steps")

    monkeypatch.setattr(steps, "make_train_step", no_step)
    code = cli.main(["train", "mnist_mlp", "--set", "train.profile_steps=9:2", "--workdir", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.profile_steps='9:2'" in err and "START:END" in err
    assert not (tmp_path / "run").exists()
