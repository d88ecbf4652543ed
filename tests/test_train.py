import inspect
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlbook import train
from dlbook.train import History, evaluate, fit, load_checkpoint, plot_history, predict, save_checkpoint


def data(n=64, seed=0, flip=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return TensorDataset(x, 1 - y if flip else y)


class Jittered(torch.utils.data.Dataset):
    """Augmentation that draws from NumPy's and Python's global generators."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        x, y = self.base[i]
        noise = 0.01 * np.random.randn(*x.shape) + 0.01 * random.random()
        return x + torch.as_tensor(noise, dtype=x.dtype), y


def loaders(own_generator=False, batch_size=16, jitter=False):
    kw = {"generator": torch.Generator().manual_seed(7)} if own_generator else {}
    train_set = Jittered(data()) if jitter else data()
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True, **kw),
            DataLoader(data(n=40, seed=1), batch_size=16))


def make_model(seed=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def setup(lr=0.01, scheduler=True, model_seed=3):
    model = make_model(model_seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5) if scheduler else None
    return model, opt, sched


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


# ---------------------------------------------------------------- the loop
def test_fit_records_history_and_learns(device):
    train_loader, val_loader = loaders()
    model, opt, _ = setup(lr=0.05, scheduler=False)
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=3,
            val_loader=val_loader, device=device, seed=0)
    assert h.keys() == ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"]
    assert h["epoch"] == [1, 2, 3] and len(h) == 3
    assert h.global_step == 3 * 4 and len(h.step_loss) == 12
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["val_accuracy"][-1] > 0.8
    # the epoch's train loss is the batch-size-weighted mean of its steps (equal batches here)
    assert h["train_loss"][0] == pytest.approx(sum(h.step_loss[:4]) / 4, rel=1e-12)
    # the val columns are evaluate() on the final model
    final = evaluate(model, val_loader, nn.CrossEntropyLoss(), device=device)
    assert final["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-6)
    assert next(model.parameters()).device.type == device.type


def test_same_seed_same_history_different_seed_different_history():
    def run(seed):
        train_loader, val_loader = loaders()
        model, opt, _ = setup()
        return fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2,
                   val_loader=val_loader, device="cpu", seed=seed)

    a, b, c = run(0), run(0), run(1)
    assert a.as_dict() == b.as_dict() and a.step_loss == b.step_loss
    assert a.step_loss != c.step_loss  # the seed changes the data order and the dropout masks


@pytest.mark.parametrize("own_generator", [False, True])
def test_resume_continues_exactly_as_an_uninterrupted_run(tmp_path, own_generator):
    ckpt = tmp_path / "run.pt"
    kw = dict(loss_fn=nn.CrossEntropyLoss(), device="cpu", seed=0)

    train_loader, val_loader = loaders(own_generator, jitter=True)
    model, opt, sched = setup()
    straight = fit(model, train_loader, optimizer=opt, scheduler=sched, epochs=4, val_loader=val_loader, **kw)

    train_loader, val_loader = loaders(own_generator, jitter=True)
    m1, o1, s1 = setup()
    first = fit(m1, train_loader, optimizer=o1, scheduler=s1, epochs=2, val_loader=val_loader,
                checkpoint=ckpt, **kw)
    assert first.as_dict() == {k: v[:2] for k, v in straight.as_dict().items()}

    # a new session: other weights, other random states — the checkpoint restores them all
    train_loader, val_loader = loaders(own_generator, jitter=True)
    m2, o2, s2 = setup(model_seed=99)
    torch.manual_seed(12345)
    np.random.seed(12345)
    random.seed(12345)
    for loader in (train_loader, val_loader):
        if loader.generator is not None:
            loader.generator.manual_seed(54321)
    resumed = fit(m2, train_loader, optimizer=o2, scheduler=s2, epochs=4, val_loader=val_loader,
                  checkpoint=ckpt, resume=True, **kw)
    assert resumed.as_dict() == straight.as_dict()
    assert resumed.step_loss == straight.step_loss
    assert resumed.global_step == straight.global_step == 16
    assert same_weights(m2, model)
    assert o2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.01 * 0.5**4


def test_checkpoints_carry_the_mps_generator_state(tmp_path, monkeypatch):
    """Dropout on Apple silicon draws from MPS's generator: resuming must restore it too (faked here)."""
    mps_state = {"now": torch.tensor([1, 2, 3], dtype=torch.uint8)}
    monkeypatch.setattr(train, "_mps_available", lambda: True)
    monkeypatch.setattr(torch.mps, "get_rng_state", lambda *a, **k: mps_state["now"].clone())
    monkeypatch.setattr(torch.mps, "set_rng_state", lambda state, *a, **k: mps_state.update(now=state.clone()))
    ckpt = tmp_path / "run.pt"
    train_loader, _ = loaders()
    model, opt, _ = setup(scheduler=False)
    fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, device="cpu", checkpoint=ckpt)
    mps_state["now"] = torch.tensor([9, 9, 9], dtype=torch.uint8)
    model, opt, _ = setup(scheduler=False)
    fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, device="cpu",
        checkpoint=ckpt, resume=True)
    assert mps_state["now"].tolist() == [1, 2, 3]


def test_resume_after_the_last_epoch_trains_nothing(tmp_path):
    ckpt = tmp_path / "run.pt"
    train_loader, _ = loaders()
    model, opt, _ = setup(scheduler=False)
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2, checkpoint=ckpt,
            device="cpu")
    again = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2, checkpoint=ckpt,
                resume=True, device="cpu")
    assert again.as_dict() == h.as_dict() and again.global_step == h.global_step


def test_resume_without_a_checkpoint_file_starts_fresh(tmp_path):
    train_loader, _ = loaders()
    model, opt, _ = setup(scheduler=False)
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1,
            checkpoint=tmp_path / "new.pt", resume=True, device="cpu")
    assert len(h) == 1 and (tmp_path / "new.pt").is_file()


def test_a_checkpoint_of_another_model_is_refused(tmp_path):
    ckpt = tmp_path / "run.pt"
    train_loader, _ = loaders()
    model, opt, _ = setup(scheduler=False)
    fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, checkpoint=ckpt, device="cpu")
    other = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    with pytest.raises(ValueError, match=r"saved from a different model.*different shapes: \['0.weight: "
                                         r"checkpoint \(16, 5\) vs model \(8, 5\)'"):
        fit(other, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.Adam(other.parameters()),
            epochs=2, checkpoint=ckpt, resume=True, device="cpu")
    with pytest.raises(ValueError, match=r"\(Sequential\); not in the model: \['3.weight', '3.bias'\]$"):
        load_checkpoint(ckpt, nn.Sequential(nn.Linear(5, 16)))
    with pytest.raises(ValueError, match=r"missing from the checkpoint: \['4.weight', '4.bias'\]$"):
        load_checkpoint(ckpt, nn.Sequential(*make_model(), nn.Linear(2, 2)))
    same = make_model()
    with pytest.raises(ValueError, match="holds the state of a Adam optimizer, but a SGD was given"):
        load_checkpoint(ckpt, same, torch.optim.SGD(same.parameters(), lr=0.1))


def test_save_and_load_checkpoint(tmp_path):
    model, opt, sched = setup()
    h = History({"epoch": [1], "train_loss": [0.5]}, global_step=7, step_loss=[0.6, 0.4])
    path = save_checkpoint(tmp_path / "sub" / "c.pt", model, opt, epoch=1, global_step=7, history=h, scheduler=sched)
    assert path.is_file() and not path.with_name("c.pt.tmp").exists()
    other, opt2, sched2 = setup(model_seed=5)
    state = load_checkpoint(path, other, opt2, sched2)
    assert same_weights(other, model)
    assert state["epoch"] == 1 and state["global_step"] == 7
    assert state["history"].as_dict() == h.as_dict() and state["history"].step_loss == [0.6, 0.4]
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt", model)
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="is not a dlbook checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt", model)


def test_nan_guard_names_epoch_and_step():
    x = torch.randn(48, 5)
    x[35] = float("nan")  # sample 35 is in the third batch of 16
    loader = DataLoader(TensorDataset(x, torch.zeros(48, dtype=torch.long)), batch_size=16)
    model, opt, _ = setup(scheduler=False)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 1, step 3 \(global step 3\)"):
        fit(model, loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2, device="cpu")
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # steps 1, 2 were applied
    assert all(torch.isfinite(p).all() for p in model.parameters())  # step 3 was not
    model = make_model()
    h = fit(model, loader, loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), 0.1),
            epochs=1, device="cpu", nan_guard=False)
    assert math.isnan(h["train_loss"][0])


def test_nan_guard_speaks_the_editions_language():
    from dlbook import language

    x = torch.full((16, 5), float("nan"))
    loader = DataLoader(TensorDataset(x, torch.zeros(16, dtype=torch.long)), batch_size=16)
    before = language.current()
    try:
        language.set_language("ko")
        model, opt, _ = setup(scheduler=False)
        with pytest.raises(FloatingPointError, match=r"에포크 1, 단계 1\(전체 1번째 단계\)에서 훈련 손실이 nan"):
            fit(model, loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, device="cpu")
    finally:
        language.set_language(before)


def test_early_stopping_restores_the_best_epoch():
    train_loader = DataLoader(data(), batch_size=16, shuffle=True)
    val_loader = DataLoader(data(flip=True), batch_size=16)  # the opposite labels: val loss only rises
    model, opt, _ = setup(lr=0.05, scheduler=False)
    snapshots = []
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=20, val_loader=val_loader,
            early_stopping=2, device="cpu", seed=0,
            callbacks=[lambda hist, m: snapshots.append({k: v.clone() for k, v in m.state_dict().items()})])
    best = h.best_epoch("val_loss")
    assert h.stopped_early and len(h) == best + 2 < 20
    assert all(torch.equal(v, snapshots[best - 1][k]) for k, v in model.state_dict().items())


def test_resuming_a_run_that_stopped_early_trains_nothing_and_gives_the_best_weights(tmp_path):
    ckpt = tmp_path / "run.pt"
    train_loader = DataLoader(data(), batch_size=16, shuffle=True)
    val_loader = DataLoader(data(flip=True), batch_size=16)
    model, opt, _ = setup(lr=0.05, scheduler=False)
    kw = dict(loss_fn=nn.CrossEntropyLoss(), epochs=20, val_loader=val_loader, early_stopping=2, device="cpu", seed=0,
              checkpoint=ckpt)
    h = fit(model, train_loader, optimizer=opt, **kw)
    assert h.stopped_early
    other, opt2, _ = setup(lr=0.05, scheduler=False, model_seed=99)
    calls = []
    again = fit(other, train_loader, optimizer=opt2, resume=True, callbacks=[lambda *a: calls.append(a)], **kw)
    assert again.as_dict() == h.as_dict() and again.global_step == h.global_step and calls == []
    assert same_weights(other, model)  # the best epoch's, not the last epoch's


def test_tensorboard_continues_across_a_resume(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ckpt, tb = tmp_path / "run.pt", tmp_path / "tb"
    kw = dict(loss_fn=nn.CrossEntropyLoss(), device="cpu", seed=0, checkpoint=ckpt, tensorboard=tb)
    train_loader, val_loader = loaders()
    model, opt, _ = setup(scheduler=False)
    fit(model, train_loader, optimizer=opt, epochs=2, val_loader=val_loader, **kw)
    model, opt, _ = setup(scheduler=False)
    h = fit(model, train_loader, optimizer=opt, epochs=3, val_loader=val_loader, resume=True, **kw)
    events = EventAccumulator(str(tb)).Reload()
    assert [e.step for e in events.Scalars("loss/train")] == [4, 8, 12]
    assert [e.step for e in events.Scalars("loss/train_step")] == list(range(1, 13))
    assert [e.value for e in events.Scalars("loss/train_step")] == pytest.approx(h.step_loss, rel=1e-6)


def test_callbacks_can_stop_and_the_scheduler_can_step_every_batch():
    train_loader, _ = loaders()
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=5, device="cpu",
            scheduler=sched, scheduler_interval="step", callbacks=[lambda hist, m: len(hist) == 2])
    assert len(h) == 2 and h["lr"] == [1.0, 0.5**4]
    assert opt.param_groups[0]["lr"] == 0.5**8


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    train_loader, val_loader = loaders()
    model, opt, _ = setup(scheduler=False)
    # an "improvement" must beat the best by 10: only the first epoch does
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.1, threshold=10.0,
                                                       threshold_mode="abs")
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=3, val_loader=val_loader,
            scheduler=sched, device="cpu")
    assert h["lr"] == pytest.approx([0.01, 0.01, 0.001])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0001)
    assert sched.best == h["val_loss"][0] != h["train_loss"][0]


def test_grad_clip_bounds_the_update():
    x, y = torch.randn(16, 5) * 100, torch.zeros(16, dtype=torch.long)
    model, _, _ = setup(scheduler=False)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    fit(model, [(x, y)], loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, grad_clip=0.01, device="cpu")
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert 0 < (after - before).norm().item() <= 0.01 + 1e-6


def test_regression_gets_no_accuracy_and_tuple_inputs_are_unpacked():
    class Add(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(2))

        def forward(self, a, b):
            return self.w[0] * a + self.w[1] * b

    a, b = torch.randn(32), torch.randn(32)
    batches = [((a[i:i + 8], b[i:i + 8]), 2 * a[i:i + 8] - b[i:i + 8]) for i in range(0, 32, 8)]
    model = Add()
    h = fit(model, batches, loss_fn=nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.3),
            epochs=30, device="cpu")
    assert h.keys() == ["epoch", "train_loss", "lr"]
    torch.testing.assert_close(model.w.detach(), torch.tensor([2.0, -1.0]), atol=1e-3, rtol=0)


def test_progress_is_silent_when_not_interactive(capsys, monkeypatch):
    train_loader, _ = loaders()
    model, opt, _ = setup(scheduler=False)
    fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, device="cpu", progress=True)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    monkeypatch.setattr(train, "_interactive", lambda: True)
    fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2, device="cpu", progress=True)
    assert "epoch 2/2  train_loss" in capsys.readouterr().out
    monkeypatch.undo()
    monkeypatch.setenv("DLBOOK_PROGRESS", "0")
    assert train._interactive() is False


def test_tensorboard_scalars_and_histograms(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train_loader, val_loader = loaders()
    model, opt, _ = setup(scheduler=False)
    h = fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2, val_loader=val_loader,
            tensorboard=tmp_path / "tb", device="cpu")
    events = EventAccumulator(str(tmp_path / "tb")).Reload()
    tags = events.Tags()
    assert {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "lr", "loss/train_step"} <= set(tags["scalars"])
    assert [e.value for e in events.Scalars("loss/val")] == pytest.approx(h["val_loss"], rel=1e-6)
    assert [e.step for e in events.Scalars("loss/train")] == [4, 8]
    assert "weights/0.weight" in tags["histograms"] and "grads/3.bias" in tags["histograms"]


def test_fit_keeps_its_signature():
    """The chapters' notebooks call fit with these keywords; renaming one, or a new default, breaks them."""
    params = inspect.signature(fit).parameters
    assert list(params)[:2] == ["model", "train_loader"]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in list(params.values())[:2])
    assert {name: p.default for name, p in list(params.items())[2:]} == {
        "loss_fn": inspect.Parameter.empty, "optimizer": inspect.Parameter.empty, "epochs": inspect.Parameter.empty,
        "val_loader": None, "metrics": None, "device": None, "checkpoint": None, "resume": False,
        "tensorboard": None, "progress": True, "seed": None, "nan_guard": True, "scheduler": None,
        "scheduler_interval": "epoch", "grad_clip": None, "early_stopping": None, "callbacks": ()}
    assert all(p.kind is p.KEYWORD_ONLY for p in list(params.values())[2:])


# ---------------------------------------------------------------- evaluate, predict, the default accuracy
def test_evaluate_weights_batches_by_size_and_restores_the_mode(device):
    ds = data(n=37)
    model = make_model().to(device)
    model.train()
    result = evaluate(model, DataLoader(ds, batch_size=10), nn.CrossEntropyLoss())
    assert model.training
    x, y = ds.tensors
    model.eval()
    with torch.no_grad():
        out = model(x.to(device))
    assert result["loss"] == pytest.approx(F.cross_entropy(out, y.to(device)).item(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((out.argmax(1).cpu() == y).double().mean().item())
    assert evaluate(model, DataLoader(ds, batch_size=10), metrics={}) == {}


def test_predict_on_tensors_and_loaders():
    model = make_model()
    x = torch.randn(20, 5)
    model.eval()
    with torch.no_grad():
        expected = model(x)
    model.train()
    torch.testing.assert_close(predict(model, x), expected)
    torch.testing.assert_close(predict(model, x, batch_size=7), expected)
    torch.testing.assert_close(predict(model, DataLoader(TensorDataset(x, torch.zeros(20)), batch_size=6)), expected)
    assert model.training and not predict(model, x).requires_grad


def test_fit_reads_the_output_as_its_loss_does_and_counts_in_integers(device, record_float64):
    from dlbook.train import _default_metrics

    scores = torch.randn(37, 5, device=device)
    target = torch.randint(0, 5, (37,), device=device)
    binary = (target > 2).float()[:, None]
    with record_float64() as rec:
        value = _default_metrics(nn.CrossEntropyLoss())["accuracy"](scores, target)
        logit = _default_metrics(nn.BCEWithLogitsLoss())["accuracy"](scores[:, :1], binary)
        prob = _default_metrics(F.binary_cross_entropy)["accuracy"](torch.sigmoid(scores[:, :1]), binary)
    assert rec.ops == []  # float64 would fail on MPS, where fit runs on Apple silicon
    assert value == (scores.argmax(1) == target).sum().item() / 37
    assert logit == prob == ((scores[:, :1] > 0).float() == binary).sum().item() / 37
    assert _default_metrics(nn.MSELoss()) == {}


def test_polyak_average_made_before_fit_follows_the_model_to_its_device(device):
    from dlbook.regularization import PolyakAverage

    train_loader, _ = loaders()
    model, opt, _ = setup(scheduler=False)
    average = PolyakAverage(model, decay=0.5)                       # made on the CPU, before fit moves the model
    expected = [p.detach().clone() for p in model.parameters()]

    def update(history, model):
        average.update()
        for e, p in zip(expected, model.parameters()):
            e.copy_(0.5 * e + 0.5 * p.detach().cpu())
        return False

    fit(model, train_loader, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=2, device=device,
        callbacks=[update])
    for a, e in zip(average.module.parameters(), expected):
        assert a.device.type == device.type
        torch.testing.assert_close(a.cpu(), e.cpu())
    assert average(torch.zeros(3, 5, device=device)).shape == (3, 2)


# ---------------------------------------------------------------- history and plots
def test_history_table_and_plot():
    h = History()
    h.append({"epoch": 1, "train_loss": 0.9, "val_loss": 0.8, "train_accuracy": 0.5, "val_accuracy": 0.6, "lr": 0.1})
    h.append({"epoch": 2, "train_loss": 0.5, "val_loss": 0.7, "train_accuracy": 0.8, "val_accuracy": 0.7, "lr": 0.1})
    lines = str(h).splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"]
    assert lines[2].split() == ["2", "0.5000", "0.7000", "0.8000", "0.7000", "0.1"]
    assert h.best_epoch() == 2 and h.best_epoch("val_accuracy", "max") == 2
    assert History.from_state_dict(h.state_dict()).as_dict() == h.as_dict()
    with pytest.raises(KeyError, match="no column 'val_f1'"):
        h["val_f1"]
    with pytest.raises(ValueError, match="row must have the columns"):
        h.append({"epoch": 3})
    fig = plot_history(h)
    assert isinstance(fig, Figure) and [ax.get_title() for ax in fig.axes] == ["손실 · loss", "정확도 · accuracy"]
    assert len(plot_history(h.as_dict(), columns=["loss"]).axes) == 1
    with pytest.raises(ValueError, match=r"columns \['f1'\] are not in the history"):
        plot_history(h, columns=["f1"])


# ---------------------------------------------------------------- bad inputs
def test_bad_arguments_are_named():
    train_loader, val_loader = loaders()
    model, opt, _ = setup(scheduler=False)
    ok = dict(loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, device="cpu")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        fit(lambda x: x, train_loader, **ok)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got list"):
        fit(model, train_loader, **{**ok, "optimizer": list(model.parameters())})
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        fit(model, train_loader, **{**ok, "epochs": 0})
    with pytest.raises(TypeError, match="train_loader must be re-iterable"):
        fit(model, iter(train_loader), **ok)
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        fit(model, train_loader, resume=True, **ok)
    with pytest.raises(ValueError, match="early_stopping needs a val_loader"):
        fit(model, train_loader, early_stopping=3, **ok)
    with pytest.raises(TypeError, match=r"metrics\['f1'\] must be callable"):
        fit(model, train_loader, metrics={"f1": 0.5}, **ok)
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'step', got 'batch'"):
        fit(model, train_loader, scheduler_interval="batch", **ok)
    with pytest.raises(ValueError, match=r"each batch must be a pair \(inputs, targets\).*got Tensor"):
        fit(model, [torch.randn(4, 5)], **ok)
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar tensor.*shape \(16,\) at epoch 1, step 1"):
        fit(model, train_loader, **{**ok, "loss_fn": nn.CrossEntropyLoss(reduction="none")})
