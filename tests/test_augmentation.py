import pytest
import torch
from torch import nn

from dlbook import augmentation as aug


def images(n=6, c=2, h=5, w=7, device="cpu", dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, h, w, generator=g, dtype=dtype).to(device)


# ---------------------------------------------------------------- flips
def test_flip_mirrors_the_last_or_second_to_last_dimension(device):
    x = images(device=device)
    assert torch.equal(aug.flip(x), x.flip(-1))
    assert torch.equal(aug.flip(x, "vertical"), x.flip(-2))
    assert torch.equal(aug.flip(aug.flip(x)), x)


def test_random_flip_flips_exactly_the_images_whose_draw_is_below_p(device):
    x = images(n=50, device=device)
    out = aug.random_flip(x, 0.5, generator=torch.Generator().manual_seed(3))
    chosen = torch.rand(50, generator=torch.Generator().manual_seed(3)) < 0.5
    for i in range(50):  # reference loop
        expected = x[i].flip(-1) if chosen[i] else x[i]
        assert torch.equal(out[i], expected)
    assert 0 < chosen.sum() < 50
    assert out.device == x.device and out.dtype == x.dtype


def test_random_flip_p_zero_and_one(device):
    x = images(device=device)
    assert torch.equal(aug.random_flip(x, 0.0), x)
    assert torch.equal(aug.random_flip(x, 1.0, "vertical"), x.flip(-2))


# ---------------------------------------------------------------- crops
def reference_crop(x, size, padding, fill, seed):
    """Loop version with the documented draw order: N row offsets, then N column offsets."""
    n, _, H, W = x.shape
    h, w = size
    g = torch.Generator().manual_seed(seed)
    Hp, Wp = H + 2 * padding, W + 2 * padding
    top = torch.randint(0, Hp - h + 1, (n,), generator=g)
    left = torch.randint(0, Wp - w + 1, (n,), generator=g)
    padded = torch.nn.functional.pad(x, (padding,) * 4, value=fill)
    return torch.stack([padded[i, :, top[i]:top[i] + h, left[i]:left[i] + w] for i in range(n)])


@pytest.mark.parametrize("size, padding", [(None, 2), ((3, 4), 0), (4, 1), ((5, 7), 0)])
def test_random_crop_matches_a_loop_over_images(device, size, padding):
    x = images(device=device)
    out = aug.random_crop(x, size, padding, fill=0.5, generator=torch.Generator().manual_seed(11))
    hw = (5, 7) if size is None else ((size, size) if isinstance(size, int) else size)
    expected = reference_crop(x.cpu(), hw, padding, 0.5, 11)
    assert out.shape == (6, 2, *hw)
    assert out.device == x.device
    assert torch.equal(out.cpu(), expected)


def test_random_crop_without_padding_at_full_size_is_the_identity():
    x = images()
    assert torch.equal(aug.random_crop(x), x)


def test_random_crop_is_a_shift_that_keeps_the_pixel_values():
    x = images(n=20, c=1, h=8, w=8, dtype=torch.float64)
    out = aug.random_crop(x, padding=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    # every output pixel is either a border zero or one of the image's own pixels
    for i in range(20):
        values = set(x[i].flatten().tolist()) | {0.0}
        assert set(out[i].flatten().tolist()) <= values
    assert not torch.equal(out, x)  # some image moved


def test_random_crop_keeps_the_gradient_path():
    x = images(n=3, c=1).requires_grad_()
    out = aug.random_crop(x, padding=1, generator=torch.Generator().manual_seed(0))
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0}


def test_random_crop_errors():
    x = images()
    with pytest.raises(ValueError, match=r"size \(9, 9\) does not fit in the padded image of size \(7, 9\)"):
        aug.random_crop(x, 9, padding=1)
    with pytest.raises(TypeError, match="size must be None, an int or a pair"):
        aug.random_crop(x, "big")
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        aug.random_crop(x, padding=-1)
    with pytest.raises(ValueError, match="x must have 4 dimension"):
        aug.random_crop(torch.zeros(5, 5))
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        aug.random_crop(x, padding=1, generator=3)


# ---------------------------------------------------------------- noise
def test_add_noise_matches_the_formula_and_clips(device):
    x = images(device=device, dtype=torch.float64)
    out = aug.add_noise(x, 0.3, clip=None, generator=torch.Generator().manual_seed(2))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.allclose(out.cpu(), x.cpu() + 0.3 * noise)
    clipped = aug.add_noise(x, 0.3, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(clipped.cpu(), (x.cpu() + 0.3 * noise).clamp(0, 1))
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_add_noise_statistics():
    x = torch.full((200_000,), 0.5, dtype=torch.float64)
    out = aug.add_noise(x, 0.1, clip=None, generator=torch.Generator().manual_seed(0))
    assert abs(out.mean().item() - 0.5) < 1e-3
    assert abs(out.std().item() - 0.1) < 1e-3
    assert torch.equal(aug.add_noise(x, 0.0), x)


def test_add_noise_errors():
    with pytest.raises(ValueError, match="std must be >= 0"):
        aug.add_noise(torch.zeros(3), -0.1)
    with pytest.raises(ValueError, match="clip must be"):
        aug.add_noise(torch.zeros(3), 0.1, clip=(1.0, 0.0))
    with pytest.raises(TypeError, match="clip must be None or a pair"):
        aug.add_noise(torch.zeros(3), 0.1, clip=1.0)


def test_flip_errors():
    with pytest.raises(ValueError, match="direction must be 'horizontal' or 'vertical'"):
        aug.flip(images(), "diagonal")
    with pytest.raises(ValueError, match=r"p must be <= 1"):
        aug.random_flip(images(), 1.5)


# ---------------------------------------------------------------- layers
@pytest.mark.parametrize("layer", [aug.RandomFlip(1.0), aug.RandomCrop(padding=2), aug.GaussianNoise(0.2)])
def test_layers_act_in_training_mode_only(layer, device):
    x = images(device=device)
    layer.train()
    torch.manual_seed(0)
    changed = layer(x)
    assert changed.shape == x.shape and not torch.equal(changed, x)
    layer.eval()
    assert layer(x) is x


def test_layers_with_a_generator_are_reproducible():
    x = images()
    a = aug.RandomCrop(padding=2, generator=torch.Generator().manual_seed(5))(x)
    b = aug.random_crop(x, padding=2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert "padding=2" in repr(aug.RandomCrop(padding=2))


def test_an_augmentation_layer_in_front_of_a_model_follows_train_and_eval():
    model = nn.Sequential(aug.RandomCrop(padding=2), nn.Flatten(), nn.Linear(2 * 5 * 7, 3))
    x = images()
    model.eval()
    assert torch.equal(model(x), model[2](x.flatten(1)))
    model.train()
    torch.manual_seed(1)
    assert not torch.allclose(model(x), model[2](x.flatten(1)))
