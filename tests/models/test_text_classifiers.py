"""Text classifiers: feature maps written out vs direct formulas and scikit-learn, shapes, frozen embeddings."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import text_classifiers as tc, text_features as feats

T, V = 6, 12
# Two texts padded with 0; 15 is beyond V = 12, so it becomes UNK (1).
TOKENS = np.array([[4, 5, 4, 15, 0, 0], [7, 7, 7, 9, 10, 11]], np.int32)


def test_token_ids_clip_to_the_vocabulary_and_keep_padding():
    ids = np.asarray(feats.token_ids(jnp.asarray(TOKENS), V))
    np.testing.assert_array_equal(ids, [[4, 5, 4, 1, 0, 0], [7, 7, 7, 9, 10, 11]])


def test_bigrams_are_hashed_beyond_the_vocabulary_only_between_words():
    ids = np.asarray(feats.token_ids(jnp.asarray(TOKENS), V, bigram_buckets=5))
    chex.assert_shape(ids, (2, 2 * T - 1))
    bigrams = ids[:, T:]
    # Row 0 has words at positions 0-3: three bigrams, then padding.
    assert (bigrams[0, :3] >= V).all() and (bigrams[0, :3] < V + 5).all()
    np.testing.assert_array_equal(bigrams[0, 3:], 0)
    assert bigrams[1, 0] == bigrams[1, 1]  # (7, 7) twice: the same bucket
    assert bigrams[0, 0] == V + (4 * feats._HASH_MULTIPLIER + 5) % 2**32 % 5


def test_counts_equal_summed_one_hots_without_padding():
    ids = feats.token_ids(jnp.asarray(TOKENS), V)
    one_hot = np.eye(V)[np.asarray(ids)].sum(1)
    one_hot[:, 0] = 0
    np.testing.assert_array_equal(feats.counts(ids, V), one_hot)


def _docs(seed=0, n=40, t=9):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(2, V, size=(n, t)).astype(np.int32)
    lengths = rng.integers(1, t + 1, size=n)
    tokens[np.arange(t)[None, :] >= lengths[:, None]] = 0
    return tokens


def test_tfidf_matches_scikit_learn():
    text = pytest.importorskip("sklearn.feature_extraction.text")
    docs = _docs()
    counts = np.asarray(feats.counts(jnp.asarray(docs), V))[:, 2:]  # ids 2.. as sklearn's columns
    expected = text.TfidfTransformer(sublinear_tf=True).fit_transform(counts).toarray()
    idf = feats.inverse_document_frequency(docs, V, chunk=16)
    got = np.asarray(feats.bag_of_words(jnp.asarray(docs), V, "tfidf", jnp.asarray(idf)))[:, 2:]
    # sklearn drops ids that never occur; so does the tf factor here, whatever their idf.
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weighting", feats.WEIGHTINGS)
@pytest.mark.parametrize("bigram_buckets", [0, 5])
def test_sparse_bag_times_a_matrix_equals_the_dense_bag_times_it(weighting, bigram_buckets):
    docs = jnp.asarray(_docs())
    num_ids = V + bigram_buckets
    idf = jnp.asarray(feats.inverse_document_frequency(np.asarray(docs), V, bigram_buckets))
    ids = feats.token_ids(docs, V, bigram_buckets)
    w = jax.random.normal(jax.random.key(0), (num_ids, 3))
    dense = feats.bag_of_words(ids, num_ids, weighting, idf) @ w
    sparse_ids, values = jax.jit(feats.sparse_bag, static_argnums=1)(ids, weighting, idf)
    chex.assert_trees_all_close(jnp.einsum("bl,blh->bh", values, w[sparse_ids]), dense, rtol=1e-5, atol=1e-5)


def test_bow_mlp_is_the_mlp_of_the_multi_hot():
    model = tc.bow_mlp(T, 2, vocab_size=V, hidden=(4,))
    params = jax.tree.map(np.asarray, model.init(jax.random.key(0)))
    out = params["head"]["layers"][0]
    x = np.zeros((2, V))
    for i, row in enumerate(np.asarray(feats.token_ids(jnp.asarray(TOKENS), V))):
        x[i, row[row > 0]] = 1.0
    h = np.maximum(x @ params["kernel"] + params["bias"], 0)
    expected = h @ out["kernel"] + out["bias"]
    chex.assert_trees_all_close(model.apply(params, jnp.asarray(TOKENS)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: tc.bow_mlp(T, 2, vocab_size=V, bigram_buckets=7, dropout=0.3, input_dropout=0.2),
    lambda: tc.bow_mlp(T, 2, vocab_size=V, hidden=(8,), weighting="count"),
    lambda: tc.embedding_bag(T, 2, vocab_size=V, embed_dim=5, hidden=(3,), bigram_buckets=7, input_dropout=0.2),
    lambda: tc.embedding_bag(T, 2, vocab_size=V, embed_dim=5, trainable=False),
])
def test_shapes_finite_jit_and_dropout_keys(make):
    model = make()
    params = model.init(jax.random.key(0))
    logits = jax.jit(model.apply)(params, jnp.asarray(TOKENS))
    chex.assert_shape(logits, (2, 2))
    chex.assert_tree_all_finite(logits)
    chex.assert_trees_all_close(logits, model.apply(params, jnp.asarray(TOKENS)), rtol=1e-6)
    train = model.apply(params, jnp.asarray(TOKENS), key=jax.random.key(1), train=True)
    chex.assert_tree_all_finite(train)
    if model.hparams.get("input_dropout", 0) > 0:
        with pytest.raises(ValueError, match="needs a `key`"):
            model.apply(params, jnp.asarray(TOKENS), train=True)


def test_embedding_bag_is_the_mean_of_its_words_vectors():
    model = tc.embedding_bag(T, 2, vocab_size=V, embed_dim=5)
    params = model.init(jax.random.key(0))
    table = np.asarray(params["embedding"])
    expected = np.stack([table[[4, 5, 4, 1]].mean(0), table[[7, 7, 7, 9, 10, 11]].mean(0)])
    np.testing.assert_allclose(tc.mean_embedding(params["embedding"], jnp.asarray(
        feats.token_ids(jnp.asarray(TOKENS), V))), expected, rtol=1e-5)
    # Order inside a text does not matter to a bag.
    shuffled = TOKENS[:, [3, 1, 2, 0, 4, 5]]
    chex.assert_trees_all_close(model.apply(params, jnp.asarray(shuffled)),
                                model.apply(params, jnp.asarray(TOKENS)), rtol=1e-5)


def test_frozen_embeddings_are_not_parameters_and_depend_on_their_seed():
    frozen = tc.embedding_bag(T, 2, vocab_size=V, embed_dim=5, trainable=False)
    params = frozen.init(jax.random.key(0))
    assert "embedding" not in params
    other = tc.embedding_bag(T, 2, vocab_size=V, embed_dim=5, trainable=False, frozen_seed=1)
    assert not np.allclose(frozen.apply(params, jnp.asarray(TOKENS)), other.apply(params, jnp.asarray(TOKENS)))
    with pytest.raises(ValueError, match="no learned word vectors"):
        tc.embedding_table(frozen, params)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="valid: binary, count, tfidf, nb"):
        tc.bow_mlp(T, 2, vocab_size=V, weighting="bm25")
    with pytest.raises(ValueError, match=r"needs idf of shape \(12,\)"):
        tc.bow_mlp(T, 2, vocab_size=V, weighting="tfidf")
    model = tc.bow_mlp(T, 2, vocab_size=V)
    with pytest.raises(ValueError, match=r"shape \(batch, 6\)"):
        model.apply(model.init(jax.random.key(0)), jnp.zeros((2, 5), jnp.int32))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pool", tc.POOLS)
def test_lstm_ignores_padding_after_the_text(pool, bidirectional):
    model = tc.lstm(T, 2, vocab_size=V, embed_dim=4, hidden=5, pool=pool, bidirectional=bidirectional)
    params = model.init(jax.random.key(0))
    short = np.array([[4, 5, 6, 0, 0, 0]], np.int32)
    longer_pad = tc.lstm(T + 3, 2, vocab_size=V, embed_dim=4, hidden=5, pool=pool, bidirectional=bidirectional)
    padded = np.pad(short, ((0, 0), (0, 3)))
    chex.assert_trees_all_close(model.apply(params, jnp.asarray(short)),
                                longer_pad.apply(params, jnp.asarray(padded)), rtol=1e-5, atol=1e-6)
    # ... and reads the words: changing one changes the output.
    other = short.copy()
    other[0, 1] = 9
    assert not np.allclose(model.apply(params, jnp.asarray(short)), model.apply(params, jnp.asarray(other)))


def test_lstm_last_pool_is_the_state_after_the_last_word():
    from jaxdl.models import rnn

    model = tc.lstm(T, 2, vocab_size=V, embed_dim=4, hidden=5, pool="last")
    params = model.init(jax.random.key(1))
    x = params["embedding"][jnp.array([[4, 5, 6]])]
    h, _ = rnn.stack("lstm", params["layers"], x)
    expected = h[:, -1] @ params["out"]["kernel"] + params["out"]["bias"][None, :]
    got = model.apply(params, jnp.asarray(np.array([[4, 5, 6, 0, 0, 0]], np.int32)))
    chex.assert_trees_all_close(got, expected, rtol=1e-5, atol=1e-6)


def test_real_tokens_are_reversed_in_place_and_padding_stays():
    x = jnp.asarray([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], jnp.float32)[:, :, None]
    mask = (x[:, :, 0] != 0).astype(jnp.float32)
    np.testing.assert_array_equal(tc.reverse_real_tokens(x, mask)[:, :, 0], [[3, 2, 1, 0, 0], [8, 7, 6, 5, 4]])


def test_bidirectional_lstm_pools_a_forward_and_a_backward_reading():
    from jaxdl.models import rnn

    model = tc.lstm(T, 2, vocab_size=V, embed_dim=4, hidden=5, pool="last", bidirectional=True)
    params = model.init(jax.random.key(2))
    chex.assert_shape(params["out"]["kernel"], (10, 2))
    x = params["embedding"][jnp.array([[4, 5, 6]])]
    forward, _ = rnn.stack("lstm", params["layers"], x)
    backward, _ = rnn.stack("lstm", params["backward_layers"], x[:, ::-1])
    features = jnp.concatenate([forward[:, -1], backward[:, -1]], axis=1)
    expected = features @ params["out"]["kernel"] + params["out"]["bias"][None, :]
    got = model.apply(params, jnp.asarray(np.array([[4, 5, 6, 0, 0, 0]], np.int32)))
    chex.assert_trees_all_close(got, expected, rtol=1e-5, atol=1e-6)


def test_trigrams_are_hashed_after_the_bigrams_only_over_three_words():
    ids = np.asarray(feats.token_ids(jnp.asarray(TOKENS), V, bigram_buckets=5, trigram_buckets=3))
    chex.assert_shape(ids, (2, 3 * T - 3))
    np.testing.assert_array_equal(ids[:, :2 * T - 1], feats.token_ids(jnp.asarray(TOKENS), V, bigram_buckets=5))
    trigrams = ids[:, 2 * T - 1:]
    # Row 0's words (4, 5, 4, UNK) hold two trigrams; row 1's six words four.
    assert ((trigrams[0, :2] >= V + 5) & (trigrams[0, :2] < V + 8)).all()
    np.testing.assert_array_equal(trigrams[0, 2:], 0)
    assert trigrams[1, 0] == V + 5 + ((7 * feats._HASH_MULTIPLIER + 7) * feats._HASH_MULTIPLIER + 7) % 2**32 % 3


def test_log_count_ratio_is_the_hand_computed_nb_ratio_over_the_ids_present():
    # Positive texts: {4, 5}, {4, 6}; negative: {5, 7}, {7} (7 twice: binarised, counted once).
    tokens = np.array([[4, 5, 0], [4, 6, 0], [5, 7, 0], [7, 7, 0]], np.int32)
    r = feats.log_count_ratio(tokens, np.array([1, 1, 0, 0]), V, alpha=1.0)
    p, q = np.array([3.0, 2, 2, 1]), np.array([1.0, 2, 1, 3])  # alpha + texts holding ids 4, 5, 6, 7
    expected = np.zeros(V)
    expected[4:8] = np.log((p / 8) / (q / 7))
    np.testing.assert_allclose(r, expected, rtol=1e-6)
    # Chunking does not change it; hashed bigrams get ratios of their own after the words.
    np.testing.assert_allclose(feats.log_count_ratio(tokens, np.array([1, 1, 0, 0]), V, chunk=1), r)
    with_bigrams = feats.log_count_ratio(tokens, np.array([1, 1, 0, 0]), V, bigram_buckets=5)
    # (4,5), (4,6) land in buckets 2, 3 (positive texts only), (5,7), (7,7) in 4, 0 (negative only).
    assert (with_bigrams[V + np.array([2, 3])] > 0).all() and (with_bigrams[V + np.array([4, 0])] < 0).all()
    assert with_bigrams[V + 1] == 0  # no text holds bucket 1
    with pytest.raises(ValueError, match="one 0/1 label per text"):
        feats.log_count_ratio(tokens, np.array([1, 2, 0, 0]), V)


def test_nb_weighting_scales_the_multi_hot_and_the_linear_bow_is_logistic_regression():
    ratio = jnp.asarray(np.random.default_rng(0).normal(size=V).astype(np.float32))
    ids = feats.token_ids(jnp.asarray(TOKENS), V)
    multi_hot = np.minimum(np.asarray(feats.counts(ids, V)), 1.0)
    np.testing.assert_allclose(feats.bag_of_words(ids, V, "nb", ratio), multi_hot * np.asarray(ratio)[None], rtol=1e-6)
    model = tc.bow_mlp(T, 2, vocab_size=V, hidden=(), weighting="nb", nb_ratio=np.asarray(ratio),
                       kernel_init="normal")
    params = model.init(jax.random.key(0))
    assert set(params) == {"kernel", "bias"}
    expected = (multi_hot * np.asarray(ratio)) @ np.asarray(params["kernel"]) + np.asarray(params["bias"])
    chex.assert_trees_all_close(model.apply(params, jnp.asarray(TOKENS)), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"needs nb_ratio of shape \(12,\)"):
        tc.bow_mlp(T, 2, vocab_size=V, hidden=(), weighting="nb")


def _pretrained(vocab_size=12, dim=5):
    """Rows 4..7 given, the rest (the special tokens, unknown words) NaN."""
    vectors = np.full((vocab_size, dim), np.nan, np.float32)
    vectors[4:8] = np.random.default_rng(0).normal(0.0, 0.4, (4, dim))
    return vectors


def test_embedding_init_keeps_given_vectors_and_draws_the_rest_at_their_scale():
    given = _pretrained(vocab_size=12)
    table = np.asarray(tc.embedding_init(200, 5, pretrained_vectors=given)(jax.random.key(0)))
    np.testing.assert_array_equal(table[4:8], given[4:8])
    rest = np.concatenate([table[:4], table[8:]])
    assert np.isfinite(rest).all()
    np.testing.assert_allclose(rest.std(), given[4:8].std(), rtol=0.15)
    again = np.asarray(tc.embedding_init(200, 5, pretrained_vectors=given)(jax.random.key(1)))
    np.testing.assert_array_equal(again[4:8], given[4:8])
    assert not np.allclose(again[8:], table[8:])
    with pytest.raises(ValueError, match=r"embed_dim=6\); got \(12, 5\)"):
        tc.embedding_init(200, 6, pretrained_vectors=given)
    with pytest.raises(ValueError, match="no vector for any word"):
        tc.embedding_init(200, 5, pretrained_vectors=np.full((3, 5), np.nan))


PRETRAINED_TOKENS = jnp.asarray([[4, 5, 9, 0], [6, 7, 7, 1]], jnp.int32)


@pytest.mark.parametrize("make", [
    lambda **kw: tc.lstm(4, 2, vocab_size=12, embed_dim=5, hidden=3, **kw),
    lambda **kw: tc.embedding_bag(4, 2, vocab_size=12, embed_dim=5, **kw),
])
def test_text_models_start_from_or_freeze_pretrained_vectors(make):
    given = _pretrained()
    tuned = make(pretrained_vectors=given)
    params = jax.vmap(tuned.init)(jax.random.split(jax.random.key(0), 3))
    chex.assert_shape(params["embedding"], (3, 12, 5))
    for member in params["embedding"]:
        np.testing.assert_array_equal(member[4:8], given[4:8])
    frozen = make(pretrained_vectors=given, trainable=False)
    frozen_params = frozen.init(jax.random.key(0))
    assert "embedding" not in frozen_params
    # Frozen = the same model with the table held fixed: equal outputs for equal tables.
    same = {**frozen_params, "embedding": jnp.asarray(tc.embedding_init(12, 5, pretrained_vectors=given)(
        jax.random.key(frozen.hparams.get("frozen_seed", 0))))}
    chex.assert_trees_all_close(frozen.apply(frozen_params, PRETRAINED_TOKENS), tuned.apply(same, PRETRAINED_TOKENS),
                                rtol=1e-6)
    assert tuned.hparams["pretrained"] and not make().hparams["pretrained"]
