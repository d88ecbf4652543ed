import pytest
import torch
import torch.nn.functional as F

from dlbook import data, linear, losses

X123 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)


@pytest.fixture(autouse=True)
def _one_thread():
    """These tensors are tiny: extra intra-op threads only add wake-up costs on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- the lecture's cost table
def test_cost_table_uses_the_plain_mean():
    costs = linear.cost_curve(X123, X123, [0.0, 1.0, 2.0])
    assert [round(c, 2) for c in costs.tolist()] == [4.67, 0.0, 4.67]
    assert costs[0].item() == pytest.approx(14 / 3)
    # the 1/(2m) convention would give half of it: 2.33, so 4.67 is the plain mean
    halved = linear.cost_curve(X123, X123, [0.0, 1.0, 2.0], half=True)
    assert [round(c, 2) for c in halved.tolist()] == [2.33, 0.0, 2.33]
    for W in (0.0, 1.0, 2.0):
        assert linear.mse_cost(W, 0.0, X123, X123, half=False).item() == pytest.approx(costs[int(W)].item())
        assert linear.mse_cost(W, 0.0, X123, X123, half=False).item() == pytest.approx(
            F.mse_loss(W * X123, X123).item())
    # cost(W) is a parabola with its minimum at W = 1
    Ws = torch.linspace(-3, 5, 81, dtype=torch.float64)
    curve = linear.cost_curve(X123, X123, Ws)
    assert Ws[curve.argmin()].item() == pytest.approx(1.0)
    assert torch.allclose(curve, (Ws - 1) ** 2 * 14 / 3)


# ---------------------------------------------------------------- gradient by hand vs autograd
@pytest.mark.parametrize("half", [True, False])
def test_mse_gradient_matches_autograd(half, device):
    x = torch.randn(20, 3, dtype=torch.float64, device=device)
    y = torch.randn(20, dtype=torch.float64, device=device)
    W = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.tensor(0.4, dtype=torch.float64, device=device, requires_grad=True)
    linear.mse_cost(W, b, x, y, half=half).backward()
    dW, db = linear.mse_gradient(W.detach(), b.detach(), x, y, half=half)
    assert dW.shape == W.shape and db.shape == b.shape
    assert torch.allclose(dW, W.grad) and torch.allclose(db, b.grad)


def test_mse_gradient_one_step_by_hand():
    # W := W − α (1/m) Σ (W x − y) x with W = 0, x = y = (1, 2, 3): gradient −(1 + 4 + 9)/3
    dW, db = linear.mse_gradient(0.0, 0.0, X123, X123)
    assert dW.item() == pytest.approx(-14 / 3) and db.item() == pytest.approx(-2.0)
    assert dW.shape == () and db.shape == ()
    model = linear.LinearRegression(W=[0.0])
    before = model.step(X123, X123, lr=0.1)
    assert before == pytest.approx(14 / 6)  # the 1/(2m) cost
    assert model.W.item() == pytest.approx(0.1 * 14 / 3) and model.b.item() == pytest.approx(0.2)


def test_logistic_and_softmax_gradients_match_autograd(device):
    x = torch.randn(30, 4, dtype=torch.float64, device=device)
    y = torch.randint(0, 2, (30,), device=device).double()
    W = torch.randn(4, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.tensor(-0.2, dtype=torch.float64, device=device, requires_grad=True)
    cost = linear.logistic_cost(W, b, x, y)
    assert torch.allclose(cost, F.binary_cross_entropy(torch.sigmoid(x @ W + b), y))
    cost.backward()
    dW, db = linear.logistic_gradient(W.detach(), b.detach(), x, y)
    assert torch.allclose(dW, W.grad) and torch.allclose(db, b.grad)

    labels = torch.randint(0, 5, (30,), device=device)
    W = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, device=device, requires_grad=True)
    cost = linear.softmax_cost(W, b, x, labels)
    assert torch.allclose(cost, F.cross_entropy(x @ W + b, labels))
    cost.backward()
    dW, db = linear.softmax_gradient(W.detach(), b.detach(), x, labels)
    assert torch.allclose(dW, W.grad) and torch.allclose(db, b.grad)


# ---------------------------------------------------------------- training
@pytest.mark.parametrize("batch_size", [None, 1, 16])
def test_linear_regression_recovers_the_line(batch_size, device):
    x, y = data.make_linear(200, seed=0, dtype=torch.float64, device=device)
    model = linear.LinearRegression()
    epochs = {None: 2000, 1: 20, 16: 300}[batch_size]
    history = model.fit(x, y, lr=0.5 if batch_size is None else 0.1, epochs=epochs, batch_size=batch_size, seed=0)
    assert len(history) == epochs
    assert model.W.item() == pytest.approx(0.1, abs=0.01) and model.b.item() == pytest.approx(0.3, abs=0.01)
    assert history[-1] < history[0] and history[-1] < 1e-4  # noise 0.01 → cost ≈ 0.01²/2
    assert model.predict(x).device.type == device.type


def test_batch_descent_agrees_with_torch_optim_sgd():
    x, y = data.make_linear(100, seed=1, dtype=torch.float64)
    model = linear.LinearRegression()
    history = model.fit(x, y, lr=0.3, epochs=50)

    W = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=0.3)
    torch_history = []
    for _ in range(50):
        opt.zero_grad()
        (0.5 * F.mse_loss(x * W + b, y)).backward()  # the 1/(2m) cost
        opt.step()
        torch_history.append(0.5 * F.mse_loss(x * W + b, y).item())
    assert torch.allclose(model.W, W.detach(), atol=1e-12) and torch.allclose(model.b, b.detach(), atol=1e-12)
    assert history == pytest.approx(torch_history, rel=1e-10)


def test_minibatch_descent_agrees_with_torch_optim_sgd_on_the_same_batches():
    x, y = data.make_linear(100, seed=2, dtype=torch.float64)
    model = linear.LinearRegression(half=False)  # (1/m) Σ, i.e. F.mse_loss
    model.fit(x, y, lr=0.1, epochs=5, batch_size=32, seed=7)

    W = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=0.1)
    g = torch.Generator().manual_seed(7)
    for _ in range(5):
        for xb, yb in data.minibatches(x, y, 32, generator=g):
            opt.zero_grad()
            F.mse_loss(xb * W + b, yb).backward()
            opt.step()
    assert torch.allclose(model.W, W.detach(), atol=1e-12) and torch.allclose(model.b, b.detach(), atol=1e-12)


def test_learning_rate_too_small_is_slow_and_too_big_diverges():
    x, y = X123, X123
    slow = linear.LinearRegression(W=[-3.0]).fit(x, y, lr=0.001, epochs=100)
    good = linear.LinearRegression(W=[-3.0]).fit(x, y, lr=0.2, epochs=100)
    wild = linear.LinearRegression(W=[-3.0]).fit(x, y, lr=0.5, epochs=100)
    assert good[-1] < 1e-2 < 1 < slow[-1] < slow[0]
    assert wild[-1] > wild[0] * 1e6  # overshoots further at every step


def test_fit_continues_from_the_current_parameters():
    x, y = data.make_linear(50, seed=0, dtype=torch.float64)
    once = linear.LinearRegression()
    once.fit(x, y, lr=0.5, epochs=20)
    twice = linear.LinearRegression()
    twice.fit(x, y, lr=0.5, epochs=10)
    twice.fit(x, y, lr=0.5, epochs=10)
    assert torch.allclose(once.W, twice.W) and torch.allclose(once.b, twice.b)


def test_fit_is_reproducible_with_a_seed():
    x, y = data.make_linear(64, seed=0, dtype=torch.float64)
    a = linear.LinearRegression().fit(x, y, lr=0.1, epochs=3, batch_size=8, seed=5)
    b = linear.LinearRegression().fit(x, y, lr=0.1, epochs=3, batch_size=8, seed=5)
    c = linear.LinearRegression().fit(x, y, lr=0.1, epochs=3, batch_size=8, seed=6)
    assert a == b and a != c


def test_multifeature_regression_matches_least_squares():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 3, dtype=torch.float64, generator=g)
    noise = 0.01 * torch.randn(300, generator=g, dtype=torch.float64)
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + 0.7 + noise
    model = linear.LinearRegression()
    model.fit(x, y, lr=0.5, epochs=300)
    design = torch.cat([x, torch.ones(300, 1, dtype=torch.float64)], dim=1)
    exact = torch.linalg.lstsq(design, y[:, None]).solution.squeeze(1)
    assert torch.allclose(model.W, exact[:3], atol=1e-6) and model.b.item() == pytest.approx(exact[3].item(), abs=1e-6)


def test_logistic_regression_on_separable_blobs_matches_sklearn():
    from sklearn.linear_model import LogisticRegression as SkLogistic

    x, y = data.make_blobs(200, centers=torch.tensor([[-2.0, -2.0], [2.0, 2.0]]), cluster_std=0.8, seed=0,
                           dtype=torch.float64)
    model = linear.LogisticRegression()
    history = model.fit(x, y, lr=0.5, epochs=200)
    assert history[-1] < history[0]
    ours = (model.predict(x) == y).double().mean().item()
    reference = SkLogistic().fit(x.numpy(), y.numpy())
    sk = reference.score(x.numpy(), y.numpy())
    assert ours == sk == 1.0
    assert model.predict(x).dtype == torch.int64
    p = model.predict_proba(x)
    assert torch.all((p > 0.5) == (model.decision_function(x) > 0))  # boundary z = 0 ↔ p = 0.5
    # the learned direction points like sklearn's
    cos = F.cosine_similarity(model.W, torch.tensor(reference.coef_[0]), dim=0)
    assert cos > 0.99


def test_logistic_regression_cost_is_bce_of_its_probabilities():
    x, y = data.make_moons(60, noise=0.2, seed=0, dtype=torch.float64)
    model = linear.LogisticRegression()
    model.fit(x, y, lr=1.0, epochs=50)
    bce = losses.binary_cross_entropy(model.predict_proba(x), y.double())
    assert model.cost(x, y).item() == pytest.approx(bce.item())


def test_softmax_regression_learns_digits():
    x, y = data.load_digits(flatten=True, dtype=torch.float64)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, 0.25, seed=0)
    model = linear.SoftmaxRegression()
    history = model.fit(x_train, y_train, lr=0.5, epochs=10, batch_size=128, seed=0)
    assert model.num_classes == 10 and model.W.shape == (64, 10)
    assert history[-1] < history[0]
    assert (model.predict(x_test) == y_test).double().mean() > 0.9
    assert torch.allclose(model.predict_proba(x_test[:5]).sum(1), torch.ones(5, dtype=torch.float64))


# ---------------------------------------------------------------- errors
def test_errors_are_reported():
    with pytest.raises(ValueError, match=r"W must have shape \(3,\) to match x with 3 feature\(s\), got \(2,\)"):
        linear.mse_cost(torch.zeros(2), 0.0, torch.zeros(5, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="x has 5 samples but y has 4"):
        linear.mse_gradient(torch.zeros(3), 0.0, torch.zeros(5, 3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"x must have 1 or 2 dimension\(s\)"):
        linear.mse_cost(0.0, 0.0, torch.zeros(2, 2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="x is empty"):
        linear.LinearRegression().fit(torch.zeros(0), torch.zeros(0))
    with pytest.raises(ValueError, match="lr must be > 0.0"):
        linear.LinearRegression().fit(X123, X123, lr=0.0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        linear.LinearRegression().fit(X123, X123, epochs=0)
    with pytest.raises(ValueError, match="y must hold labels 0 and 1 for logistic regression"):
        linear.LogisticRegression().fit(X123, torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="y must hold integer class labels"):
        linear.SoftmaxRegression().fit(X123, torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="call fit"):
        linear.LinearRegression().predict(X123)
    with pytest.raises(ValueError, match="y must hold class labels in \\[0, 2\\], got 3"):
        linear.SoftmaxRegression(num_classes=3).fit(X123, torch.tensor([0, 1, 3]))
