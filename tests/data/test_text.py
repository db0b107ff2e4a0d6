"""jaxdl.data.text: tokenisers, vocabulary, padding and windows, with round trips."""
import numpy as np
import pytest

from jaxdl.data import text

SAMPLE = "ROMEO: But, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n"


def test_reserved_ids():
    assert (text.PAD, text.UNK, text.BOS, text.EOS) == (0, 1, 2, 3)
    vocab = text.Vocab.build("abc")
    assert vocab.decode([0, 1, 2, 3]) == list(text.SPECIAL_TOKENS)
    assert vocab.encode(["<pad>", "<unk>", "<bos>", "<eos>"]).tolist() == [0, 1, 2, 3]


def test_char_round_trip():
    tokens = text.char_tokenize(SAMPLE)
    vocab = text.Vocab.build(tokens)
    ids = vocab.encode(tokens)
    assert ids.dtype == np.int32 and ids.shape == (len(SAMPLE),)
    assert ids.min() >= 4  # no corpus character lands on a reserved id
    assert "".join(vocab.decode(ids)) == SAMPLE


def test_word_tokenize():
    assert text.word_tokenize("Don't, O'er-hasty ROMEO!") == ["don't", ",", "o'er", "-", "hasty", "romeo", "!"]
    assert text.word_tokenize("Hi there.", lower=False) == ["Hi", "there", "."]
    words = text.word_tokenize(SAMPLE)
    vocab = text.Vocab.build(words)
    assert vocab.decode(vocab.encode(words)) == words


def test_vocab_order_size_and_min_count():
    vocab = text.Vocab.build(list("aabbbcd"))
    # Most frequent first; ties (c, d) in order of first appearance.
    assert vocab.tokens[4:] == ["b", "a", "c", "d"]
    assert len(text.Vocab.build(list("aabbbcd"), max_size=6)) == 6
    assert text.Vocab.build(list("aabbbcd"), max_size=6).tokens[4:] == ["b", "a"]
    assert text.Vocab.build(list("aabbbcd"), min_count=2).tokens[4:] == ["b", "a"]
    with pytest.raises(ValueError, match="max_size"):
        text.Vocab.build("ab", max_size=3)


def test_unknown_tokens_encode_to_unk():
    vocab = text.Vocab.build("abc")
    assert vocab.encode("axz").tolist() == [vocab.index["a"], text.UNK, text.UNK]
    with pytest.raises(ValueError, match="ids must be in"):
        vocab.decode([len(vocab)])


def test_vocab_json_round_trip():
    vocab = text.Vocab.build(text.char_tokenize(SAMPLE + "é\t"))
    again = text.Vocab.from_json(vocab.to_json())
    assert again == vocab and again.index == vocab.index
    with pytest.raises(ValueError, match="first tokens"):
        text.Vocab(["a", "b", "c", "d"])


def test_pad_or_truncate():
    out = text.pad_or_truncate([[5, 6, 7], [8], []], 2)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[5, 6], [8, 0], [0, 0]])
    np.testing.assert_array_equal(text.pad_or_truncate([[5]], 3, pad=9), [[5, 9, 9]])


def test_windows_shift_and_count():
    ids = np.arange(10)
    x, y = text.windows(ids, 3)
    np.testing.assert_array_equal(x, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    np.testing.assert_array_equal(y, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    x, y = text.windows(ids, 4, stride=2)
    assert x.shape == y.shape == ((10 - 1 - 4) // 2 + 1, 4)
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    np.testing.assert_array_equal(x[:, 0], [0, 2, 4])
    with pytest.raises(ValueError, match="at least"):
        text.windows(ids, 10)


def test_windows_round_trip_text():
    tokens = text.char_tokenize(SAMPLE)
    vocab = text.Vocab.build(tokens)
    x, y = text.windows(vocab.encode(tokens), 8)
    rebuilt = "".join(vocab.decode(x.reshape(-1)))
    assert SAMPLE.startswith(rebuilt) and len(rebuilt) == x.size
    assert "".join(vocab.decode(y[-1])) == SAMPLE[x.size - 8 + 1 : x.size + 1]
