"""Every model family by name (jaxdl.models.make): shapes, finiteness, pure init, vmap, input checks."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import models
from jaxdl.models import mlp

IMAGE = (28, 28, 1)
CONFIGS = {
    "mlp_sigmoid": ("mlp", dict(hidden=(30,), activation="sigmoid", kernel_init="normal", bias_init="normal")),
    "mlp_relu_dropout": ("mlp", dict(hidden=(64, 32), activation="relu", dropout=0.5)),
    "mlp_tanh": ("mlp", dict(hidden=(16,), activation="tanh", kernel_init="glorot_uniform")),
    "softmax_no_hidden": ("mlp", dict(hidden=())),
    "cnn": ("cnn", dict()),
}


def _images(batch, seed=0):
    return jax.random.uniform(jax.random.key(seed), (batch, *IMAGE))


EACH_CONFIG = pytest.mark.parametrize("name, hparams", list(CONFIGS.values()), ids=list(CONFIGS))


@EACH_CONFIG
def test_shapes_and_finite(variant, name, hparams):
    model = models.make(name, IMAGE, 10, **hparams)
    params = model.init(jax.random.key(0))
    chex.assert_tree_all_finite(params)
    logits = variant(lambda p, x: model.apply(p, x))(params, _images(5))
    chex.assert_shape(logits, (5, 10))
    chex.assert_tree_all_finite(logits)
    train_logits = variant(lambda p, x, k: model.apply(p, x, key=k, train=True))(
        params, _images(5), jax.random.key(1))
    chex.assert_shape(train_logits, (5, 10))
    chex.assert_tree_all_finite(train_logits)


@EACH_CONFIG
def test_init_is_a_pure_function_of_the_key(name, hparams):
    model = models.make(name, IMAGE, 10, **hparams)
    chex.assert_trees_all_equal(model.init(jax.random.key(3)), model.init(jax.random.key(3)))
    a, b = model.init(jax.random.key(3)), model.init(jax.random.key(4))
    assert any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
               if np.asarray(x).std() > 0)


@EACH_CONFIG
def test_vmap_init_equals_loop(name, hparams):
    model = models.make(name, IMAGE, 10, **hparams)
    keys = jax.random.split(jax.random.key(7), 4)
    stacked = jax.vmap(model.init)(keys)
    for i, key in enumerate(keys):
        chex.assert_trees_all_close(jax.tree.map(lambda a: a[i], stacked), model.init(key), rtol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_wrong_input_shape_is_a_clear_error(name):
    model = models.make(name, IMAGE, 10)
    params = model.init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 28, 28, 1\); got \(2, 32, 32, 3\)"):
        model.apply(params, jnp.zeros((2, 32, 32, 3)))


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown classification model 'resnet'; valid classification models: "
                                         "mlp, cnn"):
        models.make("resnet", IMAGE, 10)
    with pytest.raises(ValueError, match="unknown activation 'swish'; valid: sigmoid, relu, tanh, gelu, silu"):
        mlp.make(IMAGE, 10, activation="swish")
    with pytest.raises(ValueError, match="unknown kernel init 'xavier'"):
        mlp.make(IMAGE, 10, kernel_init="xavier")


def _ids(shape, vocab):
    return jax.random.randint(jax.random.key(1), shape, 1, vocab)


def _tiny_build(key, factory):
    """(PureModel, inputs, apply options, logits shape) of a tiny model from `factory`, per registry key."""
    import dataclasses

    from jaxdl import data
    from jaxdl.models import gnn, made, transformer

    ratings = dataclasses.replace(data.get_spec("movielens_small"), meta={"num_users": 5, "num_items": 7})
    table = dataclasses.replace(data.get_spec("diamonds"), meta={"cardinalities": (3, 4), "numeric": ("a", "b")})
    pairs = jnp.array([[0, 6], [4, 0]])
    text = dict(vocab_size=9)
    builds = {
        "classification/mlp": lambda: (factory(IMAGE, 3, hidden=(4,)), _images(2), {}, (2, 3)),
        "classification/cnn": lambda: (factory(IMAGE, 3, features=(2, 2)), _images(2), {}, (2, 3)),
        "text_classification/bow_mlp": lambda: (factory(6, 2, hidden=(4,), **text), _ids((2, 6), 9), {}, (2, 2)),
        "text_classification/embedding_bag": lambda: (factory(6, 2, embed_dim=3, **text), _ids((2, 6), 9), {},
                                                      (2, 2)),
        "text_classification/lstm": lambda: (factory(6, 2, embed_dim=3, hidden=4, **text), _ids((2, 6), 9), {},
                                             (2, 2)),
        "char_lm/rnn": lambda: (factory(9, 5, hidden=4, layers=1).model, _ids((2, 5), 9), {}, (2, 5, 9)),
        "char_lm/lstm": lambda: (factory(9, 5, hidden=4, layers=1).model, _ids((2, 5), 9), {}, (2, 5, 9)),
        "char_lm/gpt": lambda: (factory(9, 5, num_layers=1, d_model=8, num_heads=2).model, _ids((2, 5), 9), {},
                                (2, 5, 9)),
        "regression/cf_dot": lambda: (factory(ratings, center=3.0, factors=2), pairs, {}, (2,)),
        "regression/cf_split": lambda: (factory(ratings, center=None, user_factors=2, item_factors=2, hidden=(4,)),
                                        pairs, {}, (2,)),
        "regression/tabular_mlp": lambda: (factory(table, center=None, hidden=(4,)),
                                           {"categorical": jnp.array([[0, 3], [2, 1]]), "numeric": jnp.ones((2, 2))},
                                           {}, (2,)),
        "seq2seq/seq2seq": lambda: (factory(5, source_vocab=9, target_vocab=7, embed=3, hidden=4, attention=3),
                                    {"source": _ids((2, 5), 9), "target_in": _ids((2, 4), 7)}, {}, (2, 4, 7)),
        "transformer_seq2seq/transformer": lambda: (
            factory(transformer.TransformerConfig(src_vocab=9, tgt_vocab=7, max_len=6, num_layers=1, d_model=8,
                                                  num_heads=2, d_ff=16)),
            {"source": _ids((2, 5), 9), "target": _ids((2, 6), 7)}, {}, (2, 5, 7)),
        "vae/vae": lambda: (factory(IMAGE, hidden=(4,), latent_dim=2).model, _images(2), {}, (2, 784)),
        "made/made": lambda: (factory((6,), hidden=(4,), activation="relu"), jnp.ones((2, 6)),
                              {"masks": made.make_masks(jax.random.key(2), 6, (4,))}, (2, 6)),
        "node_classification/gcn": lambda: (
            factory(5, gnn.Edges(np.array([0, 1, 2]), np.array([1, 2, 3]), np.ones(3, np.float32)), 3, None,
                    hidden=(4,)).model, jnp.arange(5), {}, (5, 3)),
    }
    return builds[key]()


@pytest.mark.parametrize("key", list(models.MODELS))
def test_every_registered_model_builds_and_applies(key):
    model, inputs, options, shape = _tiny_build(key, models.MODELS[key])
    params = model.init(jax.random.key(0))
    chex.assert_tree_all_finite(params)
    out = model.apply(params, inputs, **options)
    chex.assert_shape(out, shape)
    chex.assert_tree_all_finite(out)
