"""model.remat: recomputing GPT blocks and stacked RNN/LSTM layers changes memory, not the maths."""

import chex
import jax
import optax
import pytest

from jaxdl.models import gpt, lm, remat, rnn

GPT_CFG = gpt.GPTConfig(vocab_size=11, context=16, num_layers=3, d_model=32, num_heads=4, dropout=0.1)


def _gpt(policy):
    return gpt.make(gpt.GPTConfig(**{**GPT_CFG.__dict__, "remat": policy}))


def _lstm(policy):
    return lm.recurrent_lm(11, 16, cell="lstm", hidden=24, layers=3, embed_dim=8, remat=policy).model


def _rnn(policy):
    return lm.recurrent_lm(11, 16, cell="rnn", hidden=24, layers=2, remat=policy).model


def _loss_and_grads(model, params, ids_BxT):
    def loss(p):
        logits = model.apply(p, ids_BxT[:, :-1], key=jax.random.key(7), train=True)
        return optax.softmax_cross_entropy_with_integer_labels(logits, ids_BxT[:, 1:]).mean()

    return jax.jit(jax.value_and_grad(loss))(params)


@pytest.mark.parametrize("family", [_gpt, _lstm, _rnn])
@pytest.mark.parametrize("policy", ["full", "dots_saveable"])
def test_remat_keeps_loss_and_gradients_and_is_applied(family, policy):
    plain, rematted = family("none"), family(policy)
    params = plain.init(jax.random.key(0))
    ids_BxT = jax.random.randint(jax.random.key(1), (4, 17), 0, 11)
    chex.assert_trees_all_close(_loss_and_grads(rematted, params, ids_BxT),
                                _loss_and_grads(plain, params, ids_BxT), rtol=1e-5, atol=1e-6)

    def primitives(model):
        jaxpr = jax.make_jaxpr(lambda p: model.apply(p, ids_BxT[:, :-1]))(params)
        return str(jaxpr)

    assert "remat" in primitives(rematted) and "remat" not in primitives(plain)  # jax.checkpoint


def test_bad_policy_names_the_valid_ones():
    with pytest.raises(ValueError, match="dots_saveable"):
        remat.policy_name("everything")
    with pytest.raises(ValueError, match="model.remat"):
        gpt.GPTConfig(vocab_size=3, context=4, remat="sometimes")
    with pytest.raises(ValueError, match="model.remat"):
        lm.recurrent_lm(11, 16, remat="sometimes")
    assert remat.policy_name(True) == "full" and remat.policy_name("false") == "none"


def test_rematted_lstm_stack_returns_the_same_states():
    # With remat, layers 1..L-1 run as a scan over stacked params: same outputs and final carries.
    layers = [rnn.init_layer(k, "lstm", 8 if i == 0 else 16, 16) for i, k in enumerate(jax.random.split(
        jax.random.key(0), 3))]
    x_BxTxD = jax.random.normal(jax.random.key(1), (2, 5, 8))
    chex.assert_trees_all_close(rnn.stack("lstm", layers, x_BxTxD, remat="full"),
                                rnn.stack("lstm", layers, x_BxTxD), rtol=1e-6, atol=1e-6)
