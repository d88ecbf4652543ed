import pytest
import torch
from sklearn import preprocessing

from dlbook.scaling import MinMaxScaler, StandardScaler

f64 = torch.float64


def data(seed=0, n=50, d=6):
    g = torch.Generator().manual_seed(seed)
    scales = 10.0 ** torch.linspace(-2, 3, d, dtype=f64)  # features on very different scales
    x = torch.randn(n, d, generator=g, dtype=f64) * scales + 5 * scales
    x[:, 2] = 3.0  # a constant feature
    return x


@pytest.mark.parametrize("ours, theirs", [
    (lambda: MinMaxScaler(), lambda: preprocessing.MinMaxScaler()),
    (lambda: MinMaxScaler((-1, 2)), lambda: preprocessing.MinMaxScaler((-1, 2))),
    (lambda: StandardScaler(), lambda: preprocessing.StandardScaler()),
])
def test_matches_scikit_learn_on_train_and_new_data(ours, theirs):
    train, test = data(0), data(1, n=20)
    a, b = ours(), theirs()
    torch.testing.assert_close(a.fit_transform(train), torch.from_numpy(b.fit_transform(train.numpy())))
    torch.testing.assert_close(a.transform(test), torch.from_numpy(b.transform(test.numpy())))
    torch.testing.assert_close(a.inverse_transform(a.transform(test)), test)


def test_standardised_training_data_has_mean_0_and_std_1_and_min_max_lies_in_0_1():
    x = data()
    z = StandardScaler().fit_transform(x)
    varying = [0, 1, 3, 4, 5]
    torch.testing.assert_close(z[:, varying].mean(0), torch.zeros(5, dtype=f64), atol=1e-12, rtol=0)
    torch.testing.assert_close(z[:, varying].std(0, correction=0), torch.ones(5, dtype=f64))
    assert torch.equal(z[:, 2], torch.zeros(50, dtype=f64))  # constant feature: centred, not divided by 0
    m = MinMaxScaler().fit_transform(x)
    assert m.min() == 0 and m.max() == 1
    torch.testing.assert_close(m[:, varying].amin(0), torch.zeros(5, dtype=f64))
    torch.testing.assert_close(m[:, varying].amax(0), torch.ones(5, dtype=f64))


def test_statistics_come_from_the_training_data_only():
    train = torch.tensor([[0.0], [10.0]])
    scaler = MinMaxScaler().fit(train)
    torch.testing.assert_close(scaler.transform(torch.tensor([[20.0], [-5.0]])), torch.tensor([[2.0], [-0.5]]))
    s = StandardScaler().fit(train)
    assert s.mean_.item() == 5.0 and s.std_.item() == 5.0


def test_images_are_scaled_per_pixel_and_keep_their_shape():
    x = torch.rand(30, 1, 4, 4, dtype=f64)
    scaler = StandardScaler().fit(x)
    assert scaler.mean_.shape == (1, 4, 4)
    z = scaler.transform(x)
    assert z.shape == x.shape
    torch.testing.assert_close(z.mean(0), torch.zeros(1, 4, 4, dtype=f64), atol=1e-12, rtol=0)


def test_state_dict_round_trip_and_gradients_flow(device):
    x = data().to(device)
    a = StandardScaler().fit(x)
    b = StandardScaler()
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(b.transform(x), a.transform(x))
    xr = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(a.transform(xr).sum(), xr)
    torch.testing.assert_close(grad, (1 / a.scale_).expand_as(x))
    assert a.transform(x.float()).dtype == torch.float32


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        StandardScaler().transform(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"rows of shape \(3,\)"):
        StandardScaler().fit(torch.zeros(4, 3)).transform(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        MinMaxScaler().fit(torch.tensor(1.0))
    with pytest.raises(ValueError, match="at least one row"):
        MinMaxScaler().fit(torch.zeros(0, 3))
    with pytest.raises(ValueError, match="low < high"):
        MinMaxScaler((1, 0))
    with pytest.raises(TypeError, match="feature_range must be a pair"):
        MinMaxScaler(1.0)
    with pytest.raises(TypeError, match="x must be a tensor"):
        StandardScaler().fit("abc")
    assert "unfitted" in repr(MinMaxScaler()) and "(3,)" in repr(MinMaxScaler().fit(torch.zeros(2, 3)))
