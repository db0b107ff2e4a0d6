"""Feeds: streaming batches from the host trains the same model as the whole dataset on device."""

import chex
import numpy as np

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
