"""Test-wide JAX setup: runs before any test module imports jax."""
import os

# Fake CPU devices must be requested before JAX initialises its backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
# Recompiling the same programs dominates the suite's time; cache them on disk.
jax.config.update(
    "jax_compilation_cache_dir",
    os.environ.get("JAXDL_TEST_CACHE", os.path.expanduser("~/.cache/jaxdl/jax-test-cache")),
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


# CI's machine has every optional dataset and tool, so there a skip means a broken guard or setup
# step: .ci/run sets this variable and every skipped test fails, naming why it skipped.
FAIL_ON_SKIP = "JAXDL_FAIL_ON_SKIP"


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` skip, saying why, unless JAX runs on a GPU (JAX_PLATFORMS=cuda, as
    scripts/gpu_check.sh sets it)."""
    if jax.default_backend() == "gpu":
        return
    skip = pytest.mark.skip(reason=f"needs a GPU (JAX's backend is {jax.default_backend()}); "
                            "scripts/gpu_check.sh runs it on a GPU machine")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # CI has every dataset but no GPU: a GPU test's skip is expected there.
    if (os.environ.get(FAIL_ON_SKIP) and report.skipped and not hasattr(report, "wasxfail")
            and not item.get_closest_marker("gpu")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped while {FAIL_ON_SKIP} is set (CI has all optional data): {reason}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data dir private to this test session (jaxdl builders prepare into it)."""
    return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture
def forget_registrations():
    """Unregisters, when the test ends, the experiments, models, tasks and datasets it registered (a
    user's own, through jaxdl.experiment or a study file): later tests in this process, and their
    comparisons with a fresh `jaxdl list`, see only jaxdl's own entries and installed plugins'."""
    from jaxdl import data, experiments, models, tasks
    from jaxdl.registry import load_plugins

    load_plugins()  # plugins register once per process: never forget theirs
    registries = (experiments.EXPERIMENTS, models.MODELS, tasks.TASKS, data.DATASETS)
    before = [set(registry) for registry in registries]
    yield
    for registry, names in zip(registries, before):
        for name in [n for n in registry if n not in names]:
            del registry[name]


@pytest.fixture(params=[True, False], ids=["with_jit", "without_jit"])
def variant(request):
    """`variant(fn)` is `jax.jit(fn)` or `fn` itself: a test taking it runs both ways (as chex.variants)."""
    return jax.jit if request.param else (lambda fn: fn)


# --- Tiny finished runs that tests in several folders read (figures/, runs/): trained once a session. ---

GENERATIVE_TINY = ["data.max_train_examples=400", "train.epochs=1", "train.progress_updates_per_epoch=1",
                   "data.eval_batch_size=200"]


def _cli_train(tmp_path_factory, data_dir, experiment, sets):
    from jaxdl import cli

    workdir = str(tmp_path_factory.mktemp(experiment))
    args = [f"data.data_dir={data_dir}", *GENERATIVE_TINY, *sets]
    assert cli.main(["train", experiment, "--workdir", workdir, *[a for s in args for a in ("--set", s)]]) == 0
    return workdir


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory, data_dir):
    """The workdir of a tiny vae_mnist run (2-d latent space)."""
    return _cli_train(tmp_path_factory, data_dir, "vae_mnist",
                      ["model.latent_dim=2", "model.hidden=(64,)", "vae.iwae_samples=10", "vae.iwae_chunk=5"])


@pytest.fixture(scope="session")
def made_run(tmp_path_factory, data_dir):
    """The workdir of a tiny made_mnist run (4 masks)."""
    return _cli_train(tmp_path_factory, data_dir, "made_mnist",
                      ["model.hidden=(64,)", "made.num_masks=4", "made.eval_masks=4"])


@pytest.fixture(scope="session")
def latent_run(tmp_path_factory, data_dir):
    """A tiny nielsen_latent3 run (2 epochs, 2 checkpoints): (config, workdir, RunResult)."""
    from jaxdl import config as config_lib, experiments
    from jaxdl.train import loop

    config = config_lib.apply_overrides(
        experiments.get_config("nielsen_latent3"),
        [f"data.data_dir={data_dir}", "train.epochs=2", "data.max_train_examples=1000",
         "train.progress_updates_per_epoch=1"])
    workdir = str(tmp_path_factory.mktemp("latent3"))
    return config, workdir, loop.train(config, workdir, live=False)
