import math

import numpy as np
import pytest
import torch

from dlbook import features as F
from dlbook.data import make_shapes


def test_pixel_features_of_the_lecture_image():
    assert F.pixel_features(283, 354) == 100_182
    assert F.pixel_features(283, 354, 3) == 300_546
    with pytest.raises(ValueError, match="channels must be an integer >= 1"):
        F.pixel_features(2, 2, 0)


@pytest.mark.parametrize("d, degree", [(1, 1), (2, 2), (3, 3), (5, 2), (4, 4)])
def test_polynomial_features_match_sklearn(d, degree, device):
    from sklearn.preprocessing import PolynomialFeatures

    x = torch.randn(7, d, dtype=torch.float64)
    ref = PolynomialFeatures(degree, include_bias=False).fit_transform(x.numpy())
    got = F.polynomial_features(x.to(device), degree)
    assert got.device.type == device.type
    np.testing.assert_allclose(got.cpu().numpy(), ref, rtol=1e-12)
    assert got.shape[1] == F.polynomial_feature_count(d, degree)


def test_polynomial_feature_count_closed_form():
    assert F.polynomial_feature_count(2, 2) == 5  # x1, x2, x1², x1x2, x2²
    assert F.polynomial_feature_count(100_182, 2) == 100_182 * 100_185 // 2
    with pytest.raises(ValueError, match="more than max_features"):
        F.polynomial_features(torch.zeros(1, 1000), 2, max_features=1000)
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        F.polynomial_features(torch.zeros(3), 2)


def test_count_corners_on_clean_shapes(device):
    x, y = make_shapes(400, size=48, seed=2)
    corners = F.count_corners(x.to(device))
    assert corners.dtype == torch.int64 and corners.device.type == device.type
    assert torch.all(corners[y.to(device) == 0] == 0) and torch.all(corners[y.to(device) == 1] == 3)


def test_count_corners_breaks_on_noise():
    x, y = make_shapes(400, size=48, noise=0.3, seed=2)
    accuracy = ((F.count_corners(x) > 0).long() == y).double().mean().item()
    assert accuracy < 0.7


def test_radial_profile_of_a_square_by_hand():
    img = torch.zeros(1, 6, 6)
    img[0, 1:5, 1:5] = 1.0  # a 4×4 square centred at (3, 3)
    p = F.radial_profile(img, bins=4)
    # every pixel centre of the square is at most √(1.5² + 1.5²) from the centre; corners sit on sector borders
    assert p.shape == (1, 4)
    assert torch.allclose(p, torch.full((1, 4), math.sqrt(4.5), dtype=torch.float64))


def test_roundness_separates_discs_and_triangles():
    x, y = make_shapes(600, size=28, seed=4)
    r = F.roundness(x)
    assert r[y == 0].min() > 0.7 > r[y == 1].max()
    # a large digital disc approaches 1, a large equilateral triangle 3√3/(4π)
    yy, xx = torch.meshgrid(torch.arange(201.0) + 0.5, torch.arange(201.0) + 0.5, indexing="ij")
    disc = ((xx - 100.5) ** 2 + (yy - 100.5) ** 2 <= 90**2).double().unsqueeze(0)
    assert F.roundness(disc).item() == pytest.approx(1.0, abs=0.02)
    big, by = make_shapes(40, size=200, seed=0)
    tri = F.roundness(big[by == 1])
    assert torch.allclose(tri, torch.full_like(tri, 3 * math.sqrt(3) / (4 * math.pi)), atol=0.02)


def test_shape_features_reject_bad_images():
    with pytest.raises(ValueError, match="no pixel above threshold"):
        F.roundness(torch.zeros(2, 8, 8))
    with pytest.raises(ValueError, match="one channel"):
        F.count_corners(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match="images must have 3 dimension"):
        F.ink_mask(torch.zeros(8, 8))
    assert F.ink_mask(torch.tensor([[[0.2, 0.7]]])).tolist() == [[[False, True]]]


# ---------------------------------------------------------------- devices and float64
def test_shape_descriptors_on_any_device_match_the_cpu(device):
    x, _ = make_shapes(30, size=28, seed=1)
    profile = F.radial_profile(x.to(device))
    assert profile.device.type == F.float64_device(device).type and profile.dtype == torch.float64
    torch.testing.assert_close(profile.cpu(), F.radial_profile(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(F.roundness(x.to(device)).cpu(), F.roundness(x), rtol=1e-12, atol=1e-12)


def test_shape_descriptors_compute_on_float64_device(monkeypatch):
    seen = []

    def spy(device):  # stands in for the helper; on MPS it would answer "cpu"
        seen.append(torch.device(device))
        return torch.device("cpu")

    monkeypatch.setattr(F, "float64_device", spy)
    x, _ = make_shapes(4, size=28, seed=1)
    for fn in (F.radial_profile, F.count_corners, F.roundness):
        seen.clear()
        fn(x)
        assert seen == [torch.device("cpu")]
