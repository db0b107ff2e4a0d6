"""Feeds: streaming batches from the host trains the same model as the whole dataset on device."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import parallel
from jaxdl.train import feeds
from tests.helpers import experiment_config, train_run


def test_streaming_feed_trains_the_same_model_as_the_device_feed(tmp_path, data_dir):
    overrides = ("train.num_steps=12", "data.max_train_examples=600", "data.batch_size=48",
                 "data.eval_batch_size=240")
    device = train_run(tmp_path, experiment_config(data_dir, "mnist_mlp", *overrides), "device")
    stream = train_run(tmp_path, experiment_config(data_dir, "mnist_mlp", *overrides, "data.on_device=false"), "stream")
    chex.assert_trees_all_close(device.state.params, stream.state.params, rtol=1e-5, atol=1e-6)
    for split in ("validation", "test"):
        np.testing.assert_allclose(device.final[split]["loss"], stream.final[split]["loss"], rtol=1e-5)
        assert device.final[split]["accuracy"] == stream.final[split]["accuracy"]


def test_both_feeds_give_the_shapes_of_one_global_batch(data_dir):
    expected = {"image": jax.ShapeDtypeStruct((48, 28, 28, 1), jnp.float32),
                "label": jax.ShapeDtypeStruct((48,), jnp.int32)}
    for on_device in ("true", "false"):
        config = experiment_config(data_dir, "mnist_mlp", "data.max_train_examples=600", f"data.on_device={on_device}")
        feed = feeds.make_feed(config, parallel.make_mesh(config.train.num_devices))
        assert feed.example_batch("train", 48) == expected
        assert feed.example_batch("test", 48) == expected
