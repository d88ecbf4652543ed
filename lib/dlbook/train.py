"""The book's training loop for ``torch.nn.Module``s: ``fit``, ``evaluate``, ``predict``.

Taught in chapter 08 (08_pytorch); used in chapters 09–12, 14.

One loop serves every chapter from 08 on. Per epoch, for each mini-batch
``(inputs, targets)``::

    output = model(inputs)                 # forward
    loss = loss_fn(output, targets)        # a scalar
    optimizer.zero_grad(); loss.backward() # backward
    optimizer.step()                       # update; global_step += 1

then an evaluation on ``val_loader`` (``model.eval()``, no gradients), a row in the
:class:`History`, and optionally a checkpoint, TensorBoard scalars and histograms, a
learning-rate schedule and early stopping.

Reproducibility. ``seed`` seeds PyTorch's global generator, Python's and NumPy's, and
the DataLoaders' own generators, so the same seed gives the same history (for a model
built the same way: seed its construction yourself, e.g. ``dlbook.seed_everything``).
A checkpoint stores the model, the optimizer (and scheduler), the epoch, the global
step, the history and *every random state* the loop draws from — the global ones and
each DataLoader's generator — so ``fit(..., epochs=4)`` gives bit-for-bit the same
result on the CPU as ``fit(..., epochs=2, checkpoint=p)`` followed by
``fit(..., epochs=4, checkpoint=p, resume=True)``. (``epochs`` is the *total*: a
resumed run trains the epochs that are missing.)

Conventions. Epoch values are means over batches weighted by batch size (exact for
``reduction="mean"`` losses and for accuracy). Train metrics are measured on the
training batches as they are trained on (in training mode: dropout on), as Keras does.
A batch is ``(inputs, targets)``; when ``inputs`` is a tuple the model is called as
``model(*inputs)``.
"""
from __future__ import annotations

import math
import os
import random
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import metrics as _metrics
from ._checks import check_number, check_positive_int
from .language import tr
from .runtime import _mps_available

__all__ = [
    "History", "fit", "evaluate", "predict",
    "save_checkpoint", "load_checkpoint", "plot_history",
]

CHECKPOINT_FORMAT = "dlbook.train/1"


# ---------------------------------------------------------------- metrics
_CLASSIFICATION_LOSSES = (nn.CrossEntropyLoss, nn.NLLLoss)
_CLASSIFICATION_FUNCTIONS = {F.cross_entropy, F.nll_loss}


def _default_metrics(loss_fn) -> dict[str, Callable]:
    """Accuracy (:func:`dlbook.metrics.accuracy`) for a classification loss (or no loss at all),
    reading the output as that loss does; nothing for other losses."""
    if isinstance(loss_fn, nn.BCEWithLogitsLoss) or loss_fn is F.binary_cross_entropy_with_logits:
        return {"accuracy": lambda output, target: _metrics.accuracy(target, output > 0)}  # a logit per target
    if isinstance(loss_fn, nn.BCELoss) or loss_fn is F.binary_cross_entropy:
        return {"accuracy": lambda output, target: _metrics.accuracy(target, output > 0.5)}  # a probability
    if loss_fn is None or isinstance(loss_fn, _CLASSIFICATION_LOSSES) or loss_fn in _CLASSIFICATION_FUNCTIONS:
        return {"accuracy": lambda output, target: _metrics.accuracy(target, output)}  # class scores
    return {}


def _check_metrics(metrics, loss_fn) -> dict[str, Callable]:
    if metrics is None:
        return _default_metrics(loss_fn)
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict name → fn(output, target), got {type(metrics).__name__}")
    for name, fn in metrics.items():
        if not isinstance(name, str) or not name or name == "loss":
            raise ValueError(f"metric names must be non-empty strings other than 'loss', got {name!r}")
        if not callable(fn):
            raise TypeError(f"metrics[{name!r}] must be callable fn(output, target) → number, got {type(fn).__name__}")
    return dict(metrics)


# ---------------------------------------------------------------- history
class History:
    """What ``fit`` records: one row per epoch, the loss of every step, the global step.

    ``history["val_loss"]`` is a column (a list, one value per epoch); columns are
    ``epoch``, ``train_loss``, ``train_<metric>``, ``val_loss``, ``val_<metric>``, ``lr``.
    ``print(history)`` shows them as a table; ``as_dict()`` gives the columns (ready for
    ``pandas.DataFrame``); ``step_loss`` holds the training loss of every step.
    """

    def __init__(self, columns: Mapping[str, list] | None = None, *, global_step: int = 0,
                 step_loss: list[float] | None = None, stopped_early: bool = False):
        self.columns: dict[str, list] = {k: list(v) for k, v in (columns or {}).items()}
        self.global_step = global_step
        self.step_loss: list[float] = list(step_loss or [])
        self.stopped_early = stopped_early

    def append(self, row: Mapping[str, float]) -> None:
        """Add one epoch's values (every row has the same keys)."""
        if self.columns and set(row) != set(self.columns):
            raise ValueError(f"row must have the columns {list(self.columns)}, got {list(row)}")
        for key, value in row.items():
            self.columns.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list:
        try:
            return self.columns[key]
        except KeyError:
            raise KeyError(f"no column {key!r} in the history; it has {list(self.columns)}") from None

    def __contains__(self, key) -> bool:
        return key in self.columns

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return len(self.columns.get("epoch", []))

    def keys(self) -> list[str]:
        return list(self.columns)

    @property
    def epochs(self) -> int:
        return len(self)

    def best_epoch(self, monitor: str = "val_loss", mode: str = "min") -> int | None:
        """The epoch (1-based, as in the ``epoch`` column) with the best ``monitor`` value."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        values = self[monitor]
        if not values:
            return None
        pick = min if mode == "min" else max
        best = pick(range(len(values)), key=lambda i: values[i])
        return self.columns["epoch"][best]

    def as_dict(self) -> dict[str, list]:
        """The columns as a dict of lists (a copy)."""
        return {k: list(v) for k, v in self.columns.items()}

    def state_dict(self) -> dict:
        return {"columns": self.as_dict(), "global_step": self.global_step,
                "step_loss": list(self.step_loss), "stopped_early": self.stopped_early}

    @classmethod
    def from_state_dict(cls, state: Mapping) -> History:
        return cls(state["columns"], global_step=state["global_step"], step_loss=state["step_loss"],
                   stopped_early=state.get("stopped_early", False))

    def table(self, digits: int = 4) -> str:
        """The columns as an aligned text table."""
        keys = list(self.columns)
        if not keys:
            return "(empty history)"

        def cell(key, v):
            if key == "epoch":
                return str(v)
            if key == "lr":
                return f"{v:.3g}"
            return f"{v:.{digits}f}"

        rows = [[cell(k, v) for k, v in zip(keys, values)] for values in zip(*self.columns.values())]
        widths = [max(len(k), *(len(r[i]) for r in rows)) if rows else len(k) for i, k in enumerate(keys)]
        lines = ["  ".join(k.rjust(w) for k, w in zip(keys, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.columns.items() if k != "epoch" and v)
        return f"History(epochs={len(self)}, global_step={self.global_step}{', ' + last if last else ''})"


# ---------------------------------------------------------------- batches and devices
def _to_device(obj, device: torch.device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


def _split(batch, device):
    """A batch → (inputs, targets, batch size), moved to ``device``."""
    if not isinstance(batch, (list, tuple)) or len(batch) != 2:
        kind = f"a {type(batch).__name__} of length {len(batch)}" if isinstance(batch, (list, tuple)) \
            else type(batch).__name__
        raise ValueError(f"each batch must be a pair (inputs, targets), as a TensorDataset gives; got {kind}")
    inputs, targets = _to_device(batch[0], device), _to_device(batch[1], device)
    return inputs, targets, _batch_size(targets)


def _batch_size(targets) -> int:
    """The number of samples in a batch: the length of the targets (of their first tensor)."""
    if isinstance(targets, (list, tuple)):
        targets = next((t for t in targets if isinstance(t, torch.Tensor)), None)
    return targets.shape[0] if isinstance(targets, torch.Tensor) and targets.ndim else 1


def _forward(model, inputs):
    return model(*inputs) if isinstance(inputs, (list, tuple)) else model(inputs)


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    if p is None:
        p = next(model.buffers(), None)
    return p.device if p is not None else torch.device("cpu")


def _resolve_device(device) -> torch.device:
    if device is None:
        from .runtime import device as best_device

        return best_device()
    if isinstance(device, (str, torch.device)):
        return torch.device(device)
    raise TypeError(f"device must be None, a string or a torch.device, got {type(device).__name__}")


def _check_loader(loader, name: str) -> None:
    if not isinstance(loader, Iterable) or isinstance(loader, (str, bytes, torch.Tensor)):
        raise TypeError(f"{name} must be a DataLoader or another iterable of (inputs, targets) batches, "
                        f"got {type(loader).__name__}")
    if isinstance(loader, Iterator):  # checked without calling iter(): that would start DataLoader workers
        raise TypeError(f"{name} must be re-iterable (a DataLoader or a list of batches): "
                        f"a one-shot iterator or generator would be empty after the first epoch")


def _scalar_loss(loss, where: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar tensor (use reduction='mean'), got {got} {where}")
    return loss.reshape(())


# ---------------------------------------------------------------- evaluation and prediction
class _eval_mode:
    """``model.eval()`` and no gradients inside; the previous mode restored after."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self):
        self.was_training = self.model.training
        self.no_grad = torch.no_grad()
        self.no_grad.__enter__()
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)
        self.no_grad.__exit__(*exc)


def evaluate(model: nn.Module, loader, loss_fn: Callable | None = None, metrics: Mapping | None = None,
             device=None) -> dict[str, float]:
    """The mean loss and metrics of ``model`` over ``loader`` in evaluation mode, without gradients.

    Returns ``{"loss": …, "<metric>": …}`` (``"loss"`` only with a ``loss_fn``).
    ``metrics=None`` means accuracy for a classification loss (or no loss), none otherwise.
    ``device`` defaults to the model's. The model's train/eval mode is restored after.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_loader(loader, "loader")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (output, target) → loss, got {type(loss_fn).__name__}")
    metrics = _check_metrics(metrics, loss_fn)
    device = _model_device(model) if device is None else _resolve_device(device)
    totals = dict.fromkeys((["loss"] if loss_fn is not None else []) + list(metrics), 0.0)
    count = 0
    with _eval_mode(model):
        for batch in loader:
            inputs, targets, n = _split(batch, device)
            output = _forward(model, inputs)
            if loss_fn is not None:
                totals["loss"] += _scalar_loss(loss_fn(output, targets), "in evaluate").item() * n
            for name, fn in metrics.items():
                totals[name] += float(fn(output, targets)) * n
            count += n
    if count == 0:
        raise ValueError("loader yielded no batches")
    return {k: v / count for k, v in totals.items()}


def predict(model: nn.Module, data, *, device=None, batch_size: int | None = None) -> torch.Tensor:
    """The model's outputs, in evaluation mode and without gradients.

    ``data`` is an input tensor (N, …) — run whole, or in chunks of ``batch_size`` — and
    the outputs come back on its device; or an iterable of batches (``(inputs, targets)``
    pairs or bare inputs), whose outputs are concatenated on the CPU.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    device = _model_device(model) if device is None else _resolve_device(device)
    with _eval_mode(model):
        if isinstance(data, torch.Tensor):
            if batch_size is None:
                return model(data.to(device)).to(data.device)
            batch_size = check_positive_int(batch_size, "batch_size")
            return torch.cat([model(chunk.to(device)) for chunk in data.split(batch_size)]).to(data.device)
        _check_loader(data, "data")
        outputs = []
        for batch in data:
            inputs = batch[0] if isinstance(batch, (list, tuple)) and len(batch) == 2 else batch
            outputs.append(_forward(model, _to_device(inputs, device)).cpu())
    if not outputs:
        raise ValueError("data yielded no batches")
    return torch.cat(outputs)


# ---------------------------------------------------------------- random states
def _loader_generators(loader) -> list[torch.Generator]:
    """The generators a DataLoader draws its order and worker seeds from (its own, its samplers')."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    owners = [loader, getattr(loader, "sampler", None), batch_sampler, getattr(batch_sampler, "sampler", None)]
    found: list[torch.Generator] = []
    for owner in owners:
        g = getattr(owner, "generator", None)
        if isinstance(g, torch.Generator) and all(g is not f for f in found):
            found.append(g)
    return found


def _rng_state(loaders) -> dict:
    """Every random state the loop draws from, for a checkpoint: PyTorch's CPU, CUDA and MPS generators,
    Python's, NumPy's (as plain lists) and, per loader, its own generators' states (uint8 tensors)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "mps": torch.mps.get_rng_state() if _mps_available() else None,  # dropout on Apple silicon
        "python": random.getstate(),
        "numpy": (name, keys.tolist(), int(pos), int(has_gauss), float(cached)),
        "loaders": [[g.get_state() for g in _loader_generators(loader)] for loader in loaders],
    }


def _set_rng_state(state: Mapping, loaders, path) -> None:
    """Put back the random states :func:`_rng_state` saved (``path`` only names the checkpoint in errors)."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    if state.get("mps") is not None and _mps_available():  # checkpoints from before dlbook saved it lack the key
        torch.mps.set_rng_state(state["mps"])
    random.setstate(_tuples(state["python"]))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    for loader, saved in zip(loaders, state["loaders"]):
        generators = _loader_generators(loader)
        if len(generators) != len(saved):
            raise ValueError(f"checkpoint {path} saved {len(saved)} DataLoader generator state(s) but the loader "
                             f"given has {len(generators)}: build the DataLoader as in the original run "
                             "(with or without generator=...)")
        for g, s in zip(generators, saved):
            g.set_state(s)


def _tuples(x):
    """random.setstate wants tuples; a checkpoint may hand back lists."""
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


def _seed_all(seed: int, loaders) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators with ``seed``, and each loader's own
    generators with seeds derived from it (different per loader and generator)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    for i, loader in enumerate(loaders):
        for j, g in enumerate(_loader_generators(loader)):
            g.manual_seed(seed + 1000 * (i + 1) + j)


# ---------------------------------------------------------------- checkpoints
def save_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None, *,
                    epoch: int = 0, global_step: int = 0, history: History | None = None,
                    scheduler=None, extra: Mapping | None = None) -> Path:
    """Save model, optimizer, scheduler, epoch, global step and history to ``path`` (atomically).

    The lectures' ``tf.train.Saver``: ``load_checkpoint`` puts everything back. Returns the path.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    state = {
        "format": CHECKPOINT_FORMAT,
        "model_class": type(model).__name__,
        "model": model.state_dict(),
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch),
        "global_step": int(global_step),
        "history": (history or History()).state_dict(),
        **(dict(extra) if extra else {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind
    return path


def _check_same_model(saved: Mapping[str, torch.Tensor], model: nn.Module, saved_class: str, path) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    mismatched = [f"{k}: checkpoint {tuple(saved[k].shape)} vs model {tuple(own[k].shape)}"
                  for k in own if k in saved and tuple(saved[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing from the checkpoint: {missing[:5]}{' …' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"not in the model: {unexpected[:5]}{' …' if len(unexpected) > 5 else ''}")
        if mismatched:
            parts.append(f"different shapes: {mismatched[:5]}{' …' if len(mismatched) > 5 else ''}")
        raise ValueError(f"checkpoint {str(path)!r} was saved from a different model ({saved_class}) than the one "
                         f"given ({type(model).__name__}); " + "; ".join(parts))


def load_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None, scheduler=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (or by ``fit``) into ``model``
    (and ``optimizer``, ``scheduler``). Returns the whole checkpoint, with ``"history"``
    as a :class:`History`. A checkpoint of a different model raises ``ValueError``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not a dlbook checkpoint (written by dlbook.train.save_checkpoint or fit)")
    _check_same_model(state["model"], model, state["model_class"], path)
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise ValueError(f"checkpoint {str(path)!r} holds no optimizer state")
        if state["optimizer_class"] != type(optimizer).__name__:
            raise ValueError(f"checkpoint {str(path)!r} holds the state of a {state['optimizer_class']} optimizer, "
                             f"but a {type(optimizer).__name__} was given")
        try:
            optimizer.load_state_dict(state["optimizer"])
        except ValueError as err:
            raise ValueError(f"checkpoint {str(path)!r}: the optimizer does not match the saved one: {err}") from None
    if scheduler is not None:
        if state["scheduler"] is None:
            raise ValueError(f"checkpoint {str(path)!r} holds no scheduler state, but a scheduler was given")
        scheduler.load_state_dict(state["scheduler"])
    state["history"] = History.from_state_dict(state["history"])
    return state


# ---------------------------------------------------------------- progress and logging
def _interactive() -> bool:
    """True in a terminal, a Jupyter kernel or Colab; False under pytest, CI logs and pipes."""
    if os.environ.get("DLBOOK_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    if "google.colab" in sys.modules:
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def _summary_writer(logdir, purge_step):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:  # pragma: no cover - tensorboard is a dependency of the book
        raise ImportError("tensorboard=... needs the 'tensorboard' package: pip install tensorboard") from err
    return SummaryWriter(log_dir=str(logdir), purge_step=purge_step)


def _log_epoch(writer, row: Mapping[str, float], model: nn.Module, step: int) -> None:
    """An epoch's row as TensorBoard scalars (``train_loss`` → ``loss/train``), and histograms of the
    weights and gradients, all at global step ``step``."""
    for key, value in row.items():
        if key == "epoch":
            continue
        if key == "lr":
            writer.add_scalar("lr", value, step)
            continue
        split, _, name = key.partition("_")  # train_loss → loss/train
        writer.add_scalar(f"{name}/{split}", value, step)
    for name, p in model.named_parameters():
        writer.add_histogram(f"weights/{name}", p.detach(), step)
        if p.grad is not None:
            writer.add_histogram(f"grads/{name}", p.grad.detach(), step)


def _epoch_line(row: Mapping[str, float], epochs: int) -> str:
    """``epoch 2/5  train_loss 0.1234  val_loss …``: an epoch's row as one line."""
    values = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "lr"))
    return f"{tr('에포크', 'epoch')} {row['epoch']}/{epochs}  {values}"


class _Log:
    """What fit shows as it trains, each part only when asked for.

    With ``progress`` (and only when :func:`_interactive`): a tqdm bar per epoch on stderr,
    counting batches with the running mean loss, and an :func:`_epoch_line` per epoch on
    stdout. With ``tensorboard`` (a log directory): every step's loss and, per epoch, the
    row and weight/gradient histograms (:func:`_log_epoch`). ``resumed_at``, a resumed run's
    global step, keeps the events up to that step and drops those an interrupted run wrote
    after it (they are written again). Use as ``with _Log(…) as log``: the writer is closed
    on the way out, even when training fails.
    """

    def __init__(self, tensorboard, progress: bool, epochs: int, resumed_at: int | None):
        purge_step = resumed_at + 1 if resumed_at is not None else None
        self.writer = _summary_writer(tensorboard, purge_step) if tensorboard is not None else None
        self.show = bool(progress) and _interactive()
        self.epochs = epochs
        self.bar = None

    def __enter__(self) -> _Log:
        return self

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.close()

    @contextmanager
    def epoch_bar(self, epoch: int, loader):
        """The bar over ``loader``'s batches while epoch ``epoch`` trains (nothing when not shown)."""
        if self.show:
            from tqdm.auto import tqdm

            total = len(loader) if hasattr(loader, "__len__") else None
            self.bar = tqdm(total=total, desc=f"{tr('에포크', 'epoch')} {epoch}/{self.epochs}", unit="batch", leave=False)
        try:
            yield
        finally:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    def step(self, loss: float, mean_loss: float, global_step: int) -> None:
        """After each update: the step's loss to TensorBoard, the epoch's mean loss so far on the bar."""
        if self.writer is not None:
            self.writer.add_scalar("loss/train_step", loss, global_step)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)

    def epoch(self, row: Mapping[str, float], model: nn.Module, global_step: int) -> None:
        """After each epoch: its row and histograms to TensorBoard, its line to stdout."""
        if self.writer is not None:
            _log_epoch(self.writer, row, model, global_step)
        if self.show:
            print(_epoch_line(row, self.epochs))


# ---------------------------------------------------------------- the loop
def _check_fit_arguments(model, train_loader, *, loss_fn, optimizer, epochs, val_loader, metrics, device,
                         checkpoint, resume, seed, scheduler, scheduler_interval, grad_clip, early_stopping,
                         callbacks):
    """Validate fit's arguments (passed by name, as fit takes them); return the normalised ones."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_loader(train_loader, "train_loader")
    if val_loader is not None:
        _check_loader(val_loader, "val_loader")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (output, targets) → loss, got {type(loss_fn).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    metrics = _check_metrics(metrics, loss_fn)
    device = _resolve_device(device)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<path> to resume from")
    if seed is not None:
        seed = check_positive_int(seed, "seed", minimum=0)
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau) and scheduler_interval == "step":
        raise ValueError("ReduceLROnPlateau watches an epoch's loss: use scheduler_interval='epoch'")
    if grad_clip is not None:
        grad_clip = check_number(grad_clip, "grad_clip", low=0.0, low_inclusive=False)
    if early_stopping is not None:
        early_stopping = check_positive_int(early_stopping, "early_stopping")
        if val_loader is None:
            raise ValueError("early_stopping needs a val_loader: it watches the validation loss")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables fn(history, model), got {type(cb).__name__}")
    return epochs, metrics, device, seed, grad_clip, early_stopping, callbacks


def fit(model: nn.Module, train_loader, *, loss_fn: Callable, optimizer: torch.optim.Optimizer, epochs: int,
        val_loader=None, metrics: Mapping[str, Callable] | None = None, device=None, checkpoint=None,
        resume: bool = False, tensorboard=None, progress: bool = True, seed: int | None = None,
        nan_guard: bool = True, scheduler=None, scheduler_interval: str = "epoch", grad_clip: float | None = None,
        early_stopping: int | None = None, callbacks: Iterable[Callable] = ()) -> History:
    """Train ``model`` for ``epochs`` epochs (in total) and return its :class:`History`.

    model, optimizer: the module and an optimizer over its parameters; the model is moved
        to ``device`` (default ``dlbook.device()``: CUDA, then MPS, then CPU).
    train_loader, val_loader: re-iterables of ``(inputs, targets)`` batches (DataLoaders).
    loss_fn: ``(output, targets) → scalar``, e.g. ``nn.CrossEntropyLoss()``.
    metrics: ``{name: fn(output, targets) → number}``; ``None`` = accuracy (:func:`dlbook.metrics.accuracy`)
        for a classification loss (cross-entropy, NLL, BCE), ``{}`` otherwise.
    checkpoint: a path, written after every epoch (atomically). With ``resume=True`` and
        an existing file, training continues from it — exactly as if never interrupted;
        without the file it starts from scratch.
    tensorboard: a log directory: per-step loss, per-epoch losses/metrics/learning rate
        and histograms of weights and gradients (``tensorboard --logdir ...``).
    progress: a tqdm bar per epoch — shown only in a terminal or notebook (never under
        pytest or in logs); ``DLBOOK_PROGRESS=0`` turns it off everywhere.
    seed: seeds every generator the loop draws from (data order, dropout).
    nan_guard: stop with ``FloatingPointError`` naming the epoch and step as soon as the
        loss is NaN or infinite (before that update is applied).
    scheduler: a ``torch.optim.lr_scheduler`` stepped every epoch (``scheduler_interval=
        "epoch"``) or every step (``"step"``); ``ReduceLROnPlateau`` is given the
        validation loss (the training loss without a ``val_loader``).
    grad_clip: clip the gradient norm to this value before each update.
    early_stopping: a patience: stop when the validation loss has not improved for this
        many epochs; the model is then given the weights of its best epoch.
    callbacks: ``fn(history, model)`` called after every epoch; returning True stops.

    The ``lr`` column is the learning rate of the optimizer's first parameter group
    during the epoch. Checkpoints are per epoch: an interrupted epoch is trained again.
    """
    epochs, metrics, device, seed, grad_clip, early_stopping, callbacks = _check_fit_arguments(
        model, train_loader, loss_fn=loss_fn, optimizer=optimizer, epochs=epochs, val_loader=val_loader,
        metrics=metrics, device=device, checkpoint=checkpoint, resume=resume, seed=seed, scheduler=scheduler,
        scheduler_interval=scheduler_interval, grad_clip=grad_clip, early_stopping=early_stopping,
        callbacks=callbacks)
    setup = _TrainSetup(loss_fn, optimizer, metrics, device, nan_guard, grad_clip,
                        step_scheduler=scheduler if scheduler_interval == "step" else None)
    loaders = [train_loader] + ([val_loader] if val_loader is not None else [])
    model.to(device)
    if seed is not None:
        _seed_all(seed, loaders)
    ckpt = _Checkpoint(checkpoint, model, optimizer, scheduler, loaders) if checkpoint is not None else None
    history, done, stopper = History(), 0, _EarlyStopping(early_stopping)
    resumed = bool(resume and Path(checkpoint).is_file())
    if resumed:
        history, done, stopper.best = ckpt.load()  # and every random state, as it was after epoch `done`
        if history.stopped_early:  # that run is over: nothing is left to train
            stopper.restore(model)
            return history

    try:
        with _Log(tensorboard, progress, epochs, resumed_at=history.global_step if resumed else None) as log:
            for epoch in range(done + 1, epochs + 1):
                lr = optimizer.param_groups[0]["lr"]  # read before a per-step scheduler changes it
                row = {"epoch": epoch, **_train_epoch(model, train_loader, setup, history, epoch, log)}
                if val_loader is not None:
                    val = evaluate(model, val_loader, loss_fn, metrics, device)
                    row.update({f"val_{k}": v for k, v in val.items()})
                row["lr"] = lr
                history.append(row)
                if scheduler_interval == "epoch":
                    _step_scheduler(scheduler, row)
                stopper.update(epoch, history, model)
                if ckpt is not None:
                    ckpt.save(epoch, history, stopper.best)
                log.epoch(row, model, history.global_step)
                stop = [bool(cb(history, model)) for cb in callbacks]  # a list, not any(): every callback runs
                if history.stopped_early or any(stop):
                    break
    finally:
        stopper.restore(model)  # the best epoch's weights, also when training stops on an error
    return history


def _train_epoch(model: nn.Module, loader, setup: _TrainSetup, history: History, epoch: int,
                 log: _Log) -> dict[str, float]:
    """One pass over ``loader``, one update per batch; returns ``{"train_loss": …, "train_<metric>": …}``.

    Each batch is ``(inputs, targets)`` with N samples (``targets`` of shape (N, …)); the
    returned values are means over the epoch's batches weighted by N, measured on each
    batch as it is trained on. Every step's loss is appended to ``history.step_loss`` and
    ``history.global_step`` counts the updates.
    """
    model.train()
    totals = dict.fromkeys(["loss", *setup.metrics], 0.0)
    count = 0
    with log.epoch_bar(epoch, loader):
        for step, batch in enumerate(loader, start=1):
            inputs, targets, n = _split(batch, setup.device)
            output = _forward(model, inputs)
            loss = _scalar_loss(setup.loss_fn(output, targets), f"at epoch {epoch}, step {step}")
            value = loss.item()
            if setup.nan_guard:
                _check_finite(value, epoch, step, history.global_step + 1)
            setup.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if setup.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), setup.grad_clip)
            setup.optimizer.step()
            if setup.step_scheduler is not None:
                setup.step_scheduler.step()
            history.global_step += 1
            history.step_loss.append(value)
            totals["loss"] += value * n
            with torch.no_grad():
                for name, fn in setup.metrics.items():
                    totals[name] += float(fn(output.detach(), targets)) * n
            count += n
            log.step(value, totals["loss"] / count, history.global_step)
    if count == 0:
        raise ValueError("train_loader yielded no batches")
    return {f"train_{k}": v / count for k, v in totals.items()}


# ---------------------------------------------------------------- the loop's helpers
@dataclass
class _TrainSetup:
    """What every training step uses: fit's checked loss, optimizer, metrics, device and per-step options.

    ``step_scheduler`` is the scheduler when it steps after every update (``scheduler_interval="step"``),
    else None.
    """
    loss_fn: Callable
    optimizer: torch.optim.Optimizer
    metrics: dict[str, Callable]
    device: torch.device
    nan_guard: bool
    grad_clip: float | None
    step_scheduler: object | None


def _check_finite(loss: float, epoch: int, step: int, global_step: int) -> None:
    """The NaN guard: raise ``FloatingPointError`` naming the step if the loss (a float) is NaN or ±inf."""
    if not math.isfinite(loss):
        raise FloatingPointError(tr(  # the first line says what happened (chapter 08 prints it), the rest why
            f"에포크 {epoch}, 단계 {step}(전체 {global_step}번째 단계)에서 훈련 손실이 {loss}입니다\n"
            "이 갱신을 하기 전에 학습을 멈췄습니다. 흔한 원인은 너무 큰 학습률, 손실 안의 log(0)이나 0으로 나누기, "
            "입력의 NaN/inf입니다. nan_guard=False이면 그래도 학습을 계속합니다.",
            f"the training loss is {loss} at epoch {epoch}, step {step} (global step {global_step})\n"
            "training stopped before this update. Usual causes: a learning rate that is too high, log(0) or a "
            "division by 0 in the loss, or NaN/inf in the inputs. nan_guard=False trains on regardless."))


def _step_scheduler(scheduler, row: Mapping[str, float]) -> None:
    """The end-of-epoch scheduler step (none without a scheduler). ``ReduceLROnPlateau`` is given the
    epoch's ``val_loss`` from ``row``, or its ``train_loss`` when there is no validation."""
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(row.get("val_loss", row["train_loss"]))
    else:
        scheduler.step()


class _EarlyStopping:
    """Early stopping on ``val_loss`` with a patience (an int, or None for no early stopping).

    ``update`` keeps a copy of the weights of the best epoch so far in ``best`` (a state
    dict, name → tensor) and sets ``history.stopped_early`` once ``patience`` epochs have
    passed without a better one. With ``patience=None`` it only carries ``best`` along (a
    resumed run's, into the next checkpoint).
    """

    def __init__(self, patience: int | None, best: dict[str, torch.Tensor] | None = None):
        self.patience, self.best = patience, best

    def update(self, epoch: int, history: History, model: nn.Module) -> None:
        if self.patience is None:
            return
        if history.best_epoch("val_loss") == epoch:
            self.best = {k: v.detach().clone() for k, v in model.state_dict().items()}
        history.stopped_early = epoch - history.best_epoch("val_loss") >= self.patience

    def restore(self, model: nn.Module) -> None:
        """Give ``model`` the weights of the best epoch, if a copy was kept."""
        if self.best is not None:
            model.load_state_dict(self.best)


class _Checkpoint:
    """fit's checkpoint file: all it takes to continue a run exactly as if never interrupted.

    ``save`` writes (atomically) the model, optimizer and scheduler states, the last finished
    epoch, the history, the best epoch's weights and every random state the loop draws
    from: the global generators and each loader's own (:func:`_rng_state`). ``load`` puts
    them all back and returns ``(history, epoch, best)``.
    """

    def __init__(self, path, model: nn.Module, optimizer, scheduler, loaders: list):
        self.path, self.model, self.optimizer, self.scheduler, self.loaders = path, model, optimizer, scheduler, loaders

    def save(self, epoch: int, history: History, best: dict | None) -> None:
        save_checkpoint(self.path, self.model, self.optimizer, epoch=epoch, global_step=history.global_step,
                        history=history, scheduler=self.scheduler,
                        extra={"rng": _rng_state(self.loaders), "best_state": best})

    def load(self) -> tuple[History, int, dict | None]:
        state = load_checkpoint(self.path, self.model, self.optimizer, self.scheduler)
        _set_rng_state(state["rng"], self.loaders, self.path)
        return state["history"], state["epoch"], state.get("best_state")


# ---------------------------------------------------------------- plots
def _history_words() -> dict[str, str]:
    return {"train": tr("훈련", "train"), "val": tr("검증", "validation"), "loss": tr("손실", "loss"),
            "acc": tr("정확도", "accuracy"), "accuracy": tr("정확도", "accuracy")}


def plot_history(history, *, columns: Iterable[str] | None = None, figsize=None):
    """Loss and metric curves per epoch (train solid, validation dashed); returns the Figure.

    ``history``: a :class:`History` or its ``as_dict()``. One panel per quantity (``loss``,
    then each metric), or only those named in ``columns`` (e.g. ``["loss"]``). A dotted
    line marks the epoch of the lowest validation loss.
    """
    from matplotlib.figure import Figure

    cols = history.as_dict() if isinstance(history, History) else dict(history)
    if "epoch" not in cols or not cols["epoch"]:
        raise ValueError("history has no epochs to plot (it needs an 'epoch' column with values)")
    names = []
    for key in cols:
        split, _, name = key.partition("_")
        if split in ("train", "val") and name and name not in names:
            names.append(name)
    if columns is not None:
        wanted = list(columns)
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise ValueError(f"columns {unknown} are not in the history; it has {names}")
        names = wanted
    words = _history_words()  # the edition's words for the splits and the usual metrics
    fig = Figure(figsize=figsize or (4.0 * len(names), 3.2), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    epochs = cols["epoch"]
    best = None
    if cols.get("val_loss"):
        best = epochs[min(range(len(epochs)), key=lambda i: cols["val_loss"][i])]
    for ax, name in zip(axes, names):
        for split, style in (("train", "-"), ("val", "--")):
            if f"{split}_{name}" in cols:
                ax.plot(epochs, cols[f"{split}_{name}"], style, marker="o", ms=3, label=words.get(split, split))
        if best is not None:
            ax.axvline(best, color="0.5", ls=":", lw=1)
        ax.set_xlabel(tr("에포크", "epoch"))
        ax.set_title(words.get(name, name))
        ax.legend()
    return fig
