"""The PyTorch side of each benchmark row: the same networks as jaxdl's, written the torch way.

Only imported when torch is installed (the `bench` extra). Weights are initialised like
jaxdl's (LeCun normal truncated at 2 sd, zero biases) from torch's generator: the same
distributions, not the same numbers.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

# jax's lecun_normal draws a normal truncated to [-2, 2] and rescales it to variance 1/fan_in.
_TRUNC_STD = 0.87962566103423978


def lecun_init_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                fan_in = layer.weight[0].numel()
                w = nn.init.trunc_normal_(torch.empty_like(layer.weight), std=1.0, a=-2.0, b=2.0,
                                          generator=generator)
                layer.weight.copy_(w / math.sqrt(fan_in) / _TRUNC_STD)
                if layer.bias is not None:
                    layer.bias.zero_()
    return module


def mlp(sizes, generator) -> nn.Module:
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return lecun_init_(nn.Sequential(nn.Flatten(), *layers[:-1]), generator)


def cnn(image_hw: int, channels: int, features, num_classes: int, dropout: float, generator) -> nn.Module:
    """conv-relu-pool per feature width, dropout, dense: jaxdl.models.cnn in NCHW (torch's layout)."""
    layers, c_in, hw = [], channels, image_hw
    for c_out in features:
        layers += [nn.Conv2d(c_in, c_out, 3), nn.ReLU(), nn.MaxPool2d(2)]
        c_in, hw = c_out, (hw - 2) // 2
    layers += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in * hw * hw, num_classes)]
    return lecun_init_(nn.Sequential(*layers), generator)


class CharLSTM(nn.Module):
    """One-hot characters -> stacked nn.LSTM -> logits per position."""

    def __init__(self, vocab: int, hidden: int, layers: int):
        super().__init__()
        self.vocab = vocab
        self.lstm = nn.LSTM(vocab, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens_BxT):
        h_BxTxH, _ = self.lstm(F.one_hot(tokens_BxT, self.vocab).float())
        return self.head(h_BxTxH)


class Block(nn.Module):
    """Pre-LayerNorm transformer block: causal self-attention and a 4x GELU MLP."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width),
                                 nn.Dropout(dropout))
        self.drop = nn.Dropout(dropout)

    def forward(self, x_BxTxD):
        b, t, d = x_BxTxD.shape
        q, k, v = self.qkv(self.ln1(x_BxTxD)).split(d, dim=2)
        q, k, v = (a.view(b, t, self.heads, d // self.heads).transpose(1, 2) for a in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        x_BxTxD = x_BxTxD + self.drop(self.proj(a.transpose(1, 2).reshape(b, t, d)))
        return x_BxTxD + self.mlp(self.ln2(x_BxTxD))


class GPT(nn.Module):
    """Decoder-only char LM (nanoGPT shape): learned positions, tied input/output embedding."""

    def __init__(self, vocab: int, context: int, width: int, layers: int, heads: int, dropout: float):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(context, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[Block(width, heads, dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)

    def forward(self, tokens_BxT):
        t = tokens_BxT.shape[1]
        x = self.drop(self.tok(tokens_BxT) + self.pos(torch.arange(t, device=tokens_BxT.device)))
        return self.ln(self.blocks(x)) @ self.tok.weight.T


def train_cnn_until(train: dict, val: dict, args: dict) -> tuple[int, float, list[float]]:
    """Trains `cnn` epoch by epoch (shuffled batches, dropped remainder, as jaxdl) until validation
    accuracy reaches args["target"] or args["max_epochs"] run; (epochs run, last accuracy, the
    wall time at the end of each epoch)."""
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gen = torch.Generator().manual_seed(args["seed"])
    model = cnn(28, 1, tuple(args["features"]), 10, args["dropout"], gen).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=args["learning_rate"])

    def tensors(arrays):
        return (torch.from_numpy(arrays["image"]).permute(0, 3, 1, 2).contiguous().to(dev),
                torch.from_numpy(arrays["label"]).long().to(dev))

    (x, y), (xv, yv) = tensors(train), tensors(val)
    batch, acc, epoch, ends = args["batch_size"], 0.0, 0, []
    while epoch < args["max_epochs"] and not (epoch and acc >= args["target"]):
        epoch += 1
        model.train()
        order = torch.randperm(len(y), generator=gen).to(dev)
        for s in range(len(y) // batch):
            i = order[s * batch : (s + 1) * batch]
            classification_step(model, opt, x[i], y[i])
        model.eval()
        with torch.no_grad():
            acc = (model(xv).argmax(1) == yv).float().mean().item()
        ends.append(time.time())
    return epoch, acc, ends


def classification_step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def lm_step(model, opt, tokens_BxT1, clip_norm: float = 0.0, autocast: bool = False):
    """Next-token cross-entropy on a (B, T+1) window; optional clipping and bf16 autocast."""
    inputs, targets = tokens_BxT1[:, :-1], tokens_BxT1[:, 1:]
    with torch.autocast("cuda", torch.bfloat16, enabled=autocast):
        logits = model(inputs)
    loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip_norm > 0:
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    opt.step()
