"""PyTorch's side of each benchmark row, built in the torch process (`torch_worker`) from the
row's sizes: the same inputs, network, optimiser, batch and dtype as jaxdl's side
(`workloads.<row>_inputs`), one eager step after another."""

from __future__ import annotations

import torch

from benchmarks import lm_rows, measure, sweep_throughput as st, sweep_torch, torch_models as tm, workloads
from benchmarks.workloads import Side
from jaxdl import data as data_lib


def _device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _steps(step, num_steps: int) -> Side:
    """`step(s)` for s in range(num_steps) per call, warmed up by one call."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)

    def call():
        for s in range(num_steps):
            step(s)
        sync()

    with measure.PeakMemory("torch") as mem:
        call()
    return Side(call, num_steps, mem.mib)


def _classification(model, config, data, idx, channels_first: bool) -> Side:
    dev = _device()
    opt = torch.optim.Adam(model.parameters(), lr=config.optimizer.learning_rate)
    x = torch.from_numpy(data["image"])
    x = (x.permute(0, 3, 1, 2).contiguous() if channels_first else x).to(dev)
    y = torch.from_numpy(data["label"]).long().to(dev)
    tidx = torch.from_numpy(idx).long().to(dev)
    model.to(dev).train()
    return _steps(lambda s: tm.classification_step(model, opt, x[tidx[s]], y[tidx[s]]), len(idx))


def mlp(sz, data_dir: str) -> Side:
    config, data, idx = workloads.mlp_inputs(sz)
    model = tm.mlp((784, *sz.mlp_hidden, 10), torch.Generator().manual_seed(0))
    return _classification(model, config, data, idx, channels_first=False)


def cnn(sz, data_dir: str) -> Side:
    config, data, idx = workloads.cnn_inputs(sz)
    model = tm.cnn(28, 1, sz.cnn_features, 10, config.model.dropout, torch.Generator().manual_seed(0))
    return _classification(model, config, data, idx, channels_first=True)


def char_lstm(sz, data_dir: str) -> Side:
    config, _, _, windows, v = lm_rows.lstm_inputs(sz)
    torch.manual_seed(0)
    model = tm.CharLSTM(v, sz.lstm_hidden, sz.lstm_layers).to(_device())
    opt = torch.optim.Adam(model.parameters(), lr=config.optimizer.learning_rate)
    tt = torch.from_numpy(windows).long().to(_device())
    return _steps(lambda s: tm.lm_step(model, opt, tt[s]), len(windows))


def gpt(sz, data_dir: str) -> Side:
    config, _, _, windows, v = lm_rows.gpt_inputs(sz)
    m, o, gpu = config.model, config.optimizer, torch.cuda.is_available()
    torch.manual_seed(0)
    model = tm.GPT(v, sz.gpt_context, sz.gpt_width, sz.gpt_layers, sz.gpt_heads, dropout=m.dropout).to(_device())
    opt = torch.optim.AdamW(model.parameters(), lr=o.learning_rate, betas=(o.b1, o.b2), weight_decay=o.weight_decay)
    tt = torch.from_numpy(windows).long().to(_device())
    model.train()
    side = _steps(lambda s: tm.lm_step(model, opt, tt[s], clip_norm=o.clip_norm, autocast=gpu), len(windows))

    def compiled_note() -> str:
        if not gpu:
            return ""
        compiled = torch.compile(model)
        timed = _steps(lambda s: tm.lm_step(compiled, opt, tt[s], clip_norm=o.clip_norm, autocast=True), len(windows))
        seconds, _ = measure.median_seconds(timed.call, sz.lm_repeats)
        return f"torch.compile: {len(windows) * sz.gpt_batch * sz.gpt_context / seconds:,.0f} tokens/s"

    side.note = compiled_note
    return side


def sweep(sz, data_dir: str) -> dict[str, tuple[float, float | None]]:
    """The 64-member sweep as a torch loop over members and as `torch.func` vmap: row name ->
    (model-steps/s, peak memory MiB)."""
    args = st.parse_args([*sz.sweep_args, *(["--data-dir", data_dir] if data_dir else [])])
    arrays = data_lib.load_arrays("mnist5k", "train", data_dir=args.data_dir or None,
                                  max_examples=args.max_train_examples or None)
    x, y = sweep_torch.torch_data(torch, arrays["image"], arrays["label"])
    out = {}
    for row, fn in (("sweep_loop", sweep_torch.torch_loop), ("sweep_vmap", sweep_torch.torch_vmap)):
        with measure.PeakMemory("torch") as mem:
            rate, _, _ = sweep_torch.time_torch(fn, torch, x, y, args, st.members(args))
        out[row] = (rate, mem.mib)
    return out


BUILDERS = {"mlp": mlp, "cnn": cnn, "char_lstm": char_lstm, "gpt": gpt, "sweep": sweep}
