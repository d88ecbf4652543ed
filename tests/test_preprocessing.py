import pytest
import torch
from sklearn import decomposition

from dlbook.preprocessing import PCA, channel_mean, mean_image, subtract_mean

f64 = torch.float64


def cloud(seed=0, n=200, d=4):
    """Correlated rows with an offset and very different scales."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, d, generator=g, dtype=f64) * torch.tensor([5.0, 1.0, 0.2, 2.0], dtype=f64)[:d]
    return torch.randn(n, d, generator=g, dtype=f64) @ A + 3.0


def aligned(ours, theirs):
    """Flip each column of ``theirs`` to the sign of ``ours`` (PCA components have no fixed sign)."""
    signs = torch.sign((ours * theirs).sum(dim=0))
    return theirs * signs


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("k", [None, 2])
def test_pca_matches_scikit_learn_up_to_sign(whiten, k):
    train, test = cloud(0), cloud(1, n=30)
    ours = PCA(k, whiten=whiten).fit(train)
    theirs = decomposition.PCA(k, whiten=whiten, svd_solver="full").fit(train.numpy())
    torch.testing.assert_close(ours.explained_variance_, torch.from_numpy(theirs.explained_variance_))
    torch.testing.assert_close(ours.mean_, torch.from_numpy(theirs.mean_))
    z_ours, z_theirs = ours.transform(test), torch.from_numpy(theirs.transform(test.numpy()))
    torch.testing.assert_close(z_ours, aligned(z_ours, z_theirs))
    torch.testing.assert_close(ours.components_.abs(), torch.from_numpy(theirs.components_).abs())


def test_whitened_data_has_identity_covariance_and_zca_stays_near_the_axes():
    x = cloud()
    for pca in (PCA(whiten=True), PCA(zca=True)):
        z = pca.fit_transform(x)
        torch.testing.assert_close(z.mean(0), torch.zeros(4, dtype=f64), atol=1e-12, rtol=0)
        torch.testing.assert_close(torch.cov(z.T), torch.eye(4, dtype=f64))
        torch.testing.assert_close(pca.inverse_transform(z), x)
    # ZCA's matrix U^T diag(1/sqrt(lambda)) U is symmetric: the whitening that moves the data least
    zca = PCA(zca=True).fit(x)
    W = zca.components_.T @ torch.diag(zca.explained_variance_.rsqrt()) @ zca.components_
    torch.testing.assert_close(W, W.T)
    torch.testing.assert_close(zca.transform(x), (x - x.mean(0)) @ W)


def test_components_are_orthonormal_sorted_and_sign_fixed():
    pca = PCA().fit(cloud())
    U = pca.components_
    torch.testing.assert_close(U @ U.T, torch.eye(4, dtype=f64))
    assert torch.all(pca.explained_variance_[:-1] >= pca.explained_variance_[1:])
    assert torch.all(U.gather(1, U.abs().argmax(1, keepdim=True)) > 0)


def test_eps_keeps_a_constant_direction_finite():
    x = cloud()
    x[:, 3] = 1.0
    z = PCA(whiten=True, eps=1e-5).fit_transform(x)
    assert torch.isfinite(z).all()


def test_pca_works_on_the_device_and_dtype_of_its_input(device):
    x = cloud().float().to(device)
    z = PCA(2, whiten=True).fit(x).transform(x)
    assert z.device.type == device.type and z.dtype == torch.float32 and z.shape == (200, 2)
    cpu = PCA(2, whiten=True).fit(x.cpu())
    torch.testing.assert_close(z.cpu(), cpu.transform(x.cpu()), rtol=1e-3, atol=1e-3)


def _as_if_on_mps(monkeypatch):
    """Make float64_device answer "another device" for the CPU, as it answers "cpu" for MPS.

    torch.device("cpu:0") differs from torch.device("cpu") as a device *name*, yet tensors moved
    there are ordinary CPU tensors: the MPS path of PCA.fit (compute elsewhere in float64, store
    back in the input's device and dtype) then runs on a machine without MPS.
    """
    import dlbook.preprocessing

    seen = []

    def spy(device):
        seen.append(torch.device(device))
        return torch.device("cpu:0")

    monkeypatch.setattr(dlbook.preprocessing, "float64_device", spy)
    return seen


def test_pca_fit_on_mps_computes_in_float64_elsewhere_and_returns_to_the_input(monkeypatch):
    x = cloud().float()
    seen = _as_if_on_mps(monkeypatch)
    pca = PCA(3, whiten=True).fit(x)
    assert seen == [torch.device("cpu")]
    reference = PCA(3, whiten=True).fit(x.double())  # what the rerouted fit computes: float64
    for got, want in [(pca.mean_, reference.mean_), (pca.components_, reference.components_),
                      (pca.explained_variance_, reference.explained_variance_)]:
        assert got.dtype == torch.float32 and got.device == x.device
        assert torch.equal(got, want.float())
    assert pca.transform(x).dtype == torch.float32


def test_mean_image_and_channel_mean():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(10, 3, 5, 4, generator=g, dtype=f64) + torch.tensor([0.0, 1.0, 2.0], dtype=f64).view(1, 3, 1, 1)
    m = mean_image(x)
    c = channel_mean(x)
    assert m.shape == (3, 5, 4) and c.shape == (3,)
    torch.testing.assert_close(c, m.mean(dim=(1, 2)))
    torch.testing.assert_close(mean_image(subtract_mean(x, m)), torch.zeros(3, 5, 4, dtype=f64), atol=1e-12, rtol=0)
    torch.testing.assert_close(channel_mean(subtract_mean(x, c)), torch.zeros(3, dtype=f64), atol=1e-12, rtol=0)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"x must be a batch of images of shape \(N, C, H, W\), got shape \(3, 4\)"):
        mean_image(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"mean must be a mean image of shape \(3, 2, 2\) or a per-channel mean"):
        subtract_mean(torch.zeros(1, 3, 2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        PCA().fit(torch.zeros(5))
    with pytest.raises(ValueError, match="at least 2 rows"):
        PCA().fit(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="n_components must be at most the number of features 3, got 4"):
        PCA(4).fit(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="zca=True .* needs every component"):
        PCA(2, zca=True)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        PCA().transform(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="x must have 4 features"):
        PCA().fit(cloud()).transform(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="n_components must be an integer"):
        PCA(1.5)
