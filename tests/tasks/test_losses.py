"""Losses against hand computation: quadratic and cross-entropy costs, accuracy, bad names."""

import chex
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.tasks import losses

LOGITS = jnp.array([[2.0, -1.0, 0.5], [0.1, 0.2, -3.0]])


LABELS = jnp.array([0, 2])


def _np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_quadratic_cost_is_half_squared_error_of_sigmoid_outputs():
    z, y = np.asarray(LOGITS), np.eye(3)[np.asarray(LABELS)]
    want = 0.5 * ((_np_sigmoid(z) - y) ** 2).sum(-1)
    np.testing.assert_allclose(losses.make_loss("quadratic", "sigmoid")(LOGITS, LABELS), want, rtol=1e-6)
    want_linear = 0.5 * ((z - y) ** 2).sum(-1)
    np.testing.assert_allclose(losses.make_loss("quadratic", "linear")(LOGITS, LABELS), want_linear, rtol=1e-6)


def test_sigmoid_cross_entropy_is_nielsens_formula():
    z, y = np.asarray(LOGITS), np.eye(3)[np.asarray(LABELS)]
    a = _np_sigmoid(z)
    want = -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum(-1)
    np.testing.assert_allclose(losses.make_loss("cross_entropy", "sigmoid")(LOGITS, LABELS), want, rtol=1e-5)


def test_softmax_cross_entropy_is_the_log_likelihood():
    z = np.asarray(LOGITS)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    want = -np.log(p[np.arange(2), np.asarray(LABELS)])
    np.testing.assert_allclose(losses.make_loss("cross_entropy", "softmax")(LOGITS, LABELS), want, rtol=1e-5)


def test_softmax_of_sigmoid_is_torch_cross_entropy_on_sigmoid_outputs():
    # Guppy16's no-hidden CE net: sigmoid outputs a, then CrossEntropyLoss(a, one_hot(y)) =
    # -sum_k y_k log(e^a_k / sum_j e^a_j).
    a, y = _np_sigmoid(np.asarray(LOGITS)), np.eye(3)[np.asarray(LABELS)]
    want = -(y * (a - np.log(np.exp(a).sum(-1, keepdims=True)))).sum(-1)
    got = losses.make_loss("cross_entropy", "softmax_of_sigmoid")(LOGITS, LABELS)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # Bounded: the softmax sees inputs in (0, 1), so the loss stays within log K +- 1.
    assert np.all(np.abs(np.asarray(got) - np.log(3)) < 1.0)


def test_softmax_cross_entropy_is_finite_for_huge_logits():
    z = jnp.array([[1e4, -1e4, 0.0]])
    chex.assert_tree_all_finite(losses.softmax_cross_entropy(z, jnp.array([1])))
    chex.assert_tree_all_finite(losses.sigmoid_cross_entropy(z, jnp.array([1])))


def test_accuracy_counts_argmax_hits():
    np.testing.assert_array_equal(losses.correct(LOGITS, LABELS), [1.0, 0.0])


def test_bad_loss_names():
    with pytest.raises(ValueError, match="unknown loss 'hinge'; valid losses: cross_entropy, quadratic"):
        losses.make_loss("hinge", "softmax")
    with pytest.raises(ValueError, match="valid outputs: softmax, sigmoid, linear"):
        losses.make_loss("quadratic", "tanh")
    with pytest.raises(ValueError, match="cross_entropy needs softmax, sigmoid or softmax_of_sigmoid"):
        losses.make_loss("cross_entropy", "linear")
