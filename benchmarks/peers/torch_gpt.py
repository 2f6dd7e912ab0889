"""A from-scratch PyTorch re-implementation of nanoGPT's recipe, not nanoGPT itself.

    python benchmarks/peers/torch_gpt.py --layers 4 --hidden 128 --heads 4 --block-size 64 \
        --batch-size 12 --iterations 2000 --learning-rate 1e-3 --min-learning-rate 1e-4 \
        --dropout 0.0 --eval-interval 250 --eval-windows 240 --out metrics.json

The PyTorch side of ``benchmarks/training_peer.py``: a plain eager training
loop (no ``torch.compile``, no fused kernels beyond what PyTorch's eager ops
use) written for this benchmark, no code taken from nanoGPT or elsewhere. It
trains the same character-level GPT on the same data with the same optimizer
and schedule as ``zoo train gpt-shakespeare-char``, so the two runs' times
and losses can be compared.

Model (matched to ``zoo.models.gpt.Gpt`` / ``zoo.layers``): learned token and
position embeddings, summed, then dropout; pre-LayerNorm blocks
``x + drop(attn(LN(x)))``, ``x + drop(ffn(LN(x)))`` with causal multi-head
attention (dropout on the attention weights) and a ``4 x hidden`` feed-forward
with tanh-approximated GELU; a final LayerNorm; logits = hidden @ token
embedding^T (tied, no output bias). Every Linear has a bias, every LayerNorm
a scale and an offset, epsilon 1e-5. Initialization: every kernel and both
embedding tables N(0, 0.02), biases 0, LayerNorm 1 / 0 -- the zoo's scheme.

Differences, stated:

* the query, key and value projections are one fused ``Linear(hidden, 3 x hidden)``
  (nanoGPT's layout; the same function and initialization as the zoo's three
  separate Dense layers, only faster in eager PyTorch);
* no extra scaled initialization of the residual projections (nanoGPT scales
  them by ``1/sqrt(2 x layers)``; the zoo does not, and the peer follows the zoo);
* AdamW's epsilon is the zoo's (Keras') 1e-7, but PyTorch adds it to the
  bias-corrected ``sqrt(v)`` where Keras adds it before the correction -- a
  difference only near zero second moments;
* batches: random windows of the training split drawn with NumPy (nanoGPT's
  ``get_batch``: offsets uniform in ``[0, len - block)``); the zoo draws the same
  distribution with ``tf.data``, so the individual windows differ.

Optimizer (``zoo.training.optimizer``): AdamW, betas (0.9, 0.99), weight decay
0.1 on every parameter but biases and LayerNorm scales/offsets (so the
embedding tables are decayed, as in the zoo and nanoGPT), global gradient-norm
clipping at 1.0, and the learning rate of Keras' ``CosineDecay`` with warmup as
the zoo builds it: 0 -> peak linearly over ``--warmup`` steps, then a cosine
down toward ``--min-learning-rate``, evaluated at the 0-based step index.
Iterations are rounded up to a multiple of ``--eval-interval``, as the zoo does.

Evaluation: every ``--eval-interval`` steps the mean cross-entropy (nats per
character) over ``--eval-windows`` evenly spaced non-overlapping validation
windows, and at the end over every such window of the split -- the windows of
``zoo.data.char_eval_windows`` (batches of 64, a short tail dropped), so the final
number is the zoo's metric. ``--data`` takes an ``.npz`` the driver prepared
from ``zoo.data`` (this process then never imports TensorFlow); without it the
script calls ``zoo.data`` itself.

``--out`` receives a JSON: per-eval history (step, seconds since process start
and since the first step, val loss, mean training loss of the interval, the
interval's step seconds without evaluation), median step time, steady-state
tokens/s (steps after the first 50, evaluation excluded), final val loss over
the whole split, process wall time, torch version and threads.
"""

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

EVAL_BATCH_SIZE = 64  # the recipe's eval_batch_size
WARMUP_EXCLUDED_STEPS = 50  # steps left out of the steady-state tokens/s


# --- model ---------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with a fused q/k/v projection."""

    def __init__(self, hidden, heads, dropout):
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden {hidden} is not divisible by heads {heads}.")
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.output = nn.Linear(hidden, hidden)

    def forward(self, x):
        batch, length, hidden = x.shape
        q, k, v = self.qkv(x).split(hidden, dim=2)
        q, k, v = (t.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.output(y.transpose(1, 2).reshape(batch, length, hidden))


class Block(nn.Module):
    """Pre-LayerNorm decoder block: attention and feed-forward, each residual."""

    def __init__(self, hidden, heads, dropout, epsilon):
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden, eps=epsilon)
        self.attention = CausalSelfAttention(hidden, heads, dropout)
        self.feed_forward_norm = nn.LayerNorm(hidden, eps=epsilon)
        self.intermediate = nn.Linear(hidden, 4 * hidden)
        self.feed_forward_output = nn.Linear(4 * hidden, hidden)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.drop(self.attention(self.attention_norm(x)))
        inner = F.gelu(self.intermediate(self.feed_forward_norm(x)), approximate="tanh")
        return x + self.drop(self.feed_forward_output(inner))


class GPT(nn.Module):
    """Token + position embeddings -> blocks -> LayerNorm -> tied LM head; logits (B, T, V)."""

    def __init__(self, vocabulary_size, block_size, layers, hidden, heads, dropout, epsilon=1e-5):
        super().__init__()
        self.token_embedding = nn.Embedding(vocabulary_size, hidden)
        self.position_embedding = nn.Embedding(block_size, hidden)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(hidden, heads, dropout, epsilon) for _ in range(layers))
        self.final_norm = nn.LayerNorm(hidden, eps=epsilon)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.token_embedding(ids) + self.position_embedding(positions))
        for block in self.blocks:
            x = block(x)
        return F.linear(self.final_norm(x), self.token_embedding.weight)


# --- optimizer and schedule --------------------------------------------------------


def parameter_groups(model, weight_decay):
    """Weight decay on everything but biases and LayerNorm scales/offsets (the zoo's rule)."""
    norms = {id(p) for m in model.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    decayed, plain = [], []
    for name, parameter in model.named_parameters():
        (plain if name.endswith("bias") or id(parameter) in norms else decayed).append(parameter)
    return [{"params": decayed, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def learning_rate_at(step, peak, minimum, warmup, total):
    """Keras ``CosineDecay`` with linear warmup, as ``zoo.training.optimizer.warmup_cosine`` sets it up."""
    warmup = max(0, min(int(warmup), int(total) - 1))
    decay_steps = max(1, int(total) - warmup)
    if warmup and step < warmup:
        return peak * step / warmup
    done = min(step - warmup, decay_steps) / decay_steps
    alpha = minimum / peak
    return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * done)) + alpha)


# --- data --------------------------------------------------------------------------


def eval_windows(ids, block_size, max_windows=0, batch_size=EVAL_BATCH_SIZE):
    """The windows ``zoo.data.char_eval_windows`` evaluates, as (x, y) int64 arrays.

    Written out here with NumPy (the same arithmetic) so that the script runs
    without TensorFlow when no ``--data`` file is given.
    """
    count = (len(ids) - 1) // block_size
    usable = count * block_size
    x = np.asarray(ids[:usable]).reshape(count, block_size)
    y = np.asarray(ids[1:usable + 1]).reshape(count, block_size)
    if 0 < max_windows < count:
        keep = np.linspace(0, count - 1, max_windows).round().astype(int)
        x, y, count = x[keep], y[keep], max_windows
    batch_size = min(batch_size, count)
    kept = count // batch_size * batch_size
    return x[:kept].astype(np.int64), y[:kept].astype(np.int64)


def load_data(args):
    """(train_ids, full (x, y), periodic (x, y), vocabulary_size) from ``--data`` or ``zoo.data``."""
    if args.data:
        with np.load(args.data) as saved:
            arrays = {name: saved[name].astype(np.int64) for name in saved.files}
        full = (arrays["full_x"], arrays["full_y"])
        periodic = (arrays["periodic_x"], arrays["periodic_y"]) if "periodic_x" in arrays else full
        return arrays["train_ids"], full, periodic, int(arrays["vocabulary_size"])
    from zoo import data

    corpus = data.shakespeare_char()
    full = eval_windows(corpus.val_ids, args.block_size)
    periodic = eval_windows(corpus.val_ids, args.block_size, args.eval_windows) if args.eval_windows else full
    return corpus.train_ids.astype(np.int64), full, periodic, corpus.vocabulary_size


def random_batch(train_ids, block_size, batch_size, rng):
    """nanoGPT's ``get_batch``: windows at offsets uniform in [0, len - block)."""
    offsets = rng.integers(0, len(train_ids) - block_size, size=batch_size)
    window = train_ids[offsets[:, None] + np.arange(block_size + 1)[None, :]]
    return torch.from_numpy(window[:, :-1]), torch.from_numpy(window[:, 1:])


@torch.no_grad()
def mean_loss(model, windows, batch_size=EVAL_BATCH_SIZE):
    """Mean cross-entropy per character over the windows (nats)."""
    model.eval()
    x, y = windows
    total = 0.0
    for start in range(0, len(x), batch_size):
        xb, yb = torch.from_numpy(x[start:start + batch_size]), torch.from_numpy(y[start:start + batch_size])
        logits = model(xb)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1), reduction="sum").item()
    model.train()
    return total / x.size


# --- training ----------------------------------------------------------------------


def train(args):
    threads = args.threads or os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_ids, full, periodic, vocabulary_size = load_data(args)

    model = GPT(vocabulary_size, args.block_size, args.layers, args.hidden, args.heads, args.dropout)
    optimizer = torch.optim.AdamW(parameter_groups(model, args.weight_decay), lr=0.0, betas=(0.9, args.beta_2),
                                  eps=1e-7)
    total_steps = math.ceil(args.iterations / args.eval_interval) * args.eval_interval
    model.train()

    step_seconds, history = [], []
    interval_losses, interval_seconds = [], 0.0
    first_step_start = time.perf_counter()
    for step in range(total_steps):
        started = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, args.learning_rate, args.min_learning_rate, args.warmup, total_steps)
        x, y = random_batch(train_ids, args.block_size, args.batch_size, rng)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clipnorm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clipnorm)
        optimizer.step()
        interval_losses.append(loss.item())
        elapsed = time.perf_counter() - started
        step_seconds.append(elapsed)
        interval_seconds += elapsed

        if (step + 1) % args.eval_interval == 0:
            val_loss = mean_loss(model, periodic)
            now = time.perf_counter()
            history.append({
                "step": step + 1,
                "wall_seconds_since_process_start": round(now - PROCESS_START, 3),
                "wall_seconds": round(now - first_step_start, 3),
                "val_loss": val_loss,
                "loss": statistics.fmean(interval_losses),
                "train_seconds": round(interval_seconds, 4),
            })
            print(f"step {step + 1}/{total_steps}: train loss {history[-1]['loss']:.4f}, val loss {val_loss:.4f}, "
                  f"{history[-1]['wall_seconds']:.1f} s", flush=True)
            interval_losses, interval_seconds = [], 0.0

    training_end = time.perf_counter()
    final_loss = mean_loss(model, full)
    final_end = time.perf_counter()
    steady = step_seconds[WARMUP_EXCLUDED_STEPS:] or step_seconds
    tokens_per_step = args.batch_size * args.block_size
    return {
        "peer": "torch_gpt (a from-scratch PyTorch re-implementation of nanoGPT's recipe, eager, no torch.compile)",
        "settings": vars(args),
        "optimizer_steps": total_steps,
        "parameters": sum(p.numel() for p in model.parameters()),
        "history": history,
        "step_seconds_median": statistics.median(step_seconds),
        "steady_state_steps": len(steady),
        "steady_state_tokens_per_second": tokens_per_step * len(steady) / sum(steady),
        "training_wall_seconds": round(training_end - first_step_start, 3),
        "final_val_loss": final_loss,
        "final_val_windows": int(len(full[0])),
        "final_eval_seconds": round(final_end - training_end, 3),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--min-learning-rate", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta-2", type=float, default=0.99)
    p.add_argument("--clipnorm", type=float, default=1.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--eval-windows", type=int, default=240, help="windows per periodic evaluation (0 = all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: os.cpu_count())")
    p.add_argument("--data", default="", help=".npz from benchmarks/training_peer.py (default: read zoo.data)")
    p.add_argument("--out", default="metrics.json")
    args = p.parse_args(argv)
    if args.iterations < 1 or args.eval_interval < 1:
        p.error("--iterations and --eval-interval must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    metrics = train(args)
    metrics["process_wall_seconds"] = round(time.perf_counter() - PROCESS_START, 3)
    with open(args.out, "w", encoding="utf-8") as file:
        json.dump(metrics, file, indent=2)
    print(f"final val loss {metrics['final_val_loss']:.4f} over {metrics['final_val_windows']} windows; "
          f"steady {metrics['steady_state_tokens_per_second']:.0f} tokens/s; "
          f"process {metrics['process_wall_seconds']:.1f} s; wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
