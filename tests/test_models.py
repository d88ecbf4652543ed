import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import conv, models
from dlbook.summary import count_parameters

f64 = torch.float64


def on_meta(build):
    """Build a model without allocating its weights."""
    with torch.device("meta"):
        return build()


# ---------------------------------------------------------------- parameter counts (torchvision's reference numbers)
@pytest.mark.parametrize("build, expected", [
    (lambda: models.ResNet(18), 11_689_512),
    (lambda: models.ResNet(34), 21_797_672),
    (lambda: models.ResNet(50), 25_557_032),
    (lambda: models.VGG(11), 132_863_336),
    (lambda: models.VGG(16), 138_357_544),
    (lambda: models.DenseNet121(), 7_978_856),
    (lambda: models.AlexNet(), 61_100_840),
    (lambda: models.GoogLeNet(aux_logits=False, large_kernel=3), 6_624_904),
], ids=["resnet18", "resnet34", "resnet50", "vgg11", "vgg16", "densenet121", "alexnet", "googlenet"])
def test_parameter_counts_match_torchvision(build, expected):
    assert count_parameters(on_meta(build)) == expected


def test_googlenet_paper_five_by_five_adds_the_expected_weights():
    paper = count_parameters(on_meta(lambda: models.GoogLeNet(aux_logits=False)))
    extra = sum(red5 * out5 * (5 * 5 - 3 * 3) for _, _, _, _, _, red5, out5, _ in models.INCEPTION_CONFIG)
    assert paper == 6_624_904 + extra


def test_googlenet_aux_heads_add_parameters_only_to_training():
    with_aux = on_meta(lambda: models.GoogLeNet(large_kernel=3))
    head = lambda c: (c * 128 + 2 * 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)  # noqa: E731
    assert count_parameters(with_aux) == 6_624_904 + head(512) + head(528)


def test_small_model_parameter_counts_from_the_formula():
    assert count_parameters(models.LeNet5()) == (
        conv.conv_param_count(5, 1, 6) + conv.conv_param_count(5, 6, 16) + 400 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    ) == 61_706
    assert count_parameters(models.MnistCNN()) == (
        conv.conv_param_count(5, 1, 32) + conv.conv_param_count(5, 32, 64) + 7 * 7 * 64 * 1024 + 1024 + 1024 * 10 + 10
    ) == 3_274_634
    assert count_parameters(models.resnet_cifar(20)) == count_parameters(models.plain_net(20)) == 269_722


def test_densenet121_channels_grow_by_k_and_halve_at_transitions():
    net = on_meta(models.DenseNet121)
    blocks = [m for m in net.features if isinstance(m, models.DenseBlock)]
    assert [b.out_channels for b in blocks] == [64 + 6 * 32, 128 + 12 * 32, 256 + 24 * 32, 512 + 16 * 32]
    assert net.classifier.in_features == 1024


# ---------------------------------------------------------------- residual blocks
def test_basic_block_passes_the_identity_when_the_residual_is_zeroed():
    block = models.BasicBlock(8, 8).double()
    x = torch.randn(2, 8, 5, 5, dtype=f64).relu()           # block inputs follow a ReLU
    assert not torch.allclose(block(x), x)
    nn.init.zeros_(block.bn2.weight)
    nn.init.zeros_(block.bn2.bias)
    for mode in (True, False):
        block.train(mode)
        torch.testing.assert_close(block.residual(x), torch.zeros_like(x))
        torch.testing.assert_close(block(x), x)


def test_bottleneck_and_preact_blocks_pass_the_identity():
    bottleneck = models.Bottleneck(32, 8).double()          # 8·4 = 32 channels: identity shortcut
    x = torch.randn(2, 32, 4, 4, dtype=f64).relu()
    nn.init.zeros_(bottleneck.bn3.weight)
    torch.testing.assert_close(bottleneck(x), x)
    for block, c in [(models.PreActBasicBlock(6, 6), 6), (models.PreActBottleneck(16, 4), 16)]:
        block = block.double()
        x = torch.randn(2, c, 4, 4, dtype=f64)              # any sign: nothing follows the addition
        assert not torch.allclose(block(x), x)
        nn.init.zeros_(block.conv2.weight if isinstance(block, models.PreActBasicBlock) else block.conv3.weight)
        torch.testing.assert_close(block(x), x)


def test_zero_init_residual_makes_every_block_an_identity():
    net = models.ResNet(18, 10, width=4, small_input=True, zero_init_residual=True).double().eval()
    x = torch.randn(2, 4, 6, 6, dtype=f64).relu()
    torch.testing.assert_close(net.layer1(x), x)
    assert not net.layer2[0].bn2.weight.any()


def test_downsampling_shortcuts():
    proj = models.BasicBlock(4, 8, stride=2)
    assert isinstance(proj.downsample[0], nn.Conv2d) and proj.downsample[0].stride == (2, 2)
    zero_pad = models.BasicBlock(4, 8, stride=2, shortcut="A")
    x = torch.randn(1, 4, 6, 6)
    y = zero_pad.downsample(x)
    assert y.shape == (1, 8, 3, 3)
    torch.testing.assert_close(y[:, 2:6], x[:, :, ::2, ::2])
    assert y[:, :2].abs().sum() == 0 and y[:, 6:].abs().sum() == 0
    with pytest.raises(ValueError, match="shortcut must be 'A'"):
        models.BasicBlock(4, 8, stride=2, shortcut="C")


def test_plain_net_has_no_shortcuts():
    plain, residual = models.plain_net(8), models.resnet_cifar(8)
    assert all(not b.residual_connection for b in plain.layers)
    assert all(b.residual_connection for b in residual.layers)
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2"):
        models.plain_net(21)


# ---------------------------------------------------------------- forward passes on small inputs
SMALL = [
    ("lenet5", lambda: models.LeNet5(10), (1, 28, 28)),
    ("mnist_cnn", lambda: models.MnistCNN(10), (1, 28, 28)),
    ("alexnet", lambda: models.AlexNet(10, hidden=32, pool_size=2, small_input=True), (3, 32, 32)),
    ("alexnet_lrn", lambda: models.AlexNet(10, 1, lrn=True, hidden=32, pool_size=1, small_input=True), (1, 28, 28)),
    ("vgg11_bn", lambda: models.VGG(11, 10, batch_norm=True, width=0.125, hidden=32, pool_size=1), (3, 32, 32)),
    ("resnet18", lambda: models.ResNet(18, 10, width=8, small_input=True), (3, 32, 32)),
    ("resnet50_preact", lambda: models.ResNet(50, 7, 1, width=4, preact=True), (1, 20, 20)),
    ("densenet", lambda: models.DenseNet((2, 2), 8, 16, num_classes=10, small_input=True), (3, 32, 32)),
    ("resnet_cifar", lambda: models.resnet_cifar(8), (3, 32, 32)),
    ("plain_net", lambda: models.plain_net(8), (3, 32, 32)),
]


@pytest.mark.parametrize("name, build, shape", SMALL, ids=[s[0] for s in SMALL])
def test_small_input_forward_shapes(name, build, shape):
    net = build()
    x = torch.randn(2, *shape)
    out = net(x)
    assert out.shape == (2, 7 if name == "resnet50_preact" else 10)
    assert torch.isfinite(out).all()
    out.sum().backward()                                      # every parameter gets a gradient
    assert all(p.grad is not None for p in net.parameters())


def test_googlenet_returns_aux_logits_only_in_training():
    net = models.GoogLeNet(5, 1, seed=0)
    x, target = torch.randn(2, 1, 20, 20), torch.tensor([1, 3])
    with torch.no_grad():
        out = net.train()(x)
    assert isinstance(out, models.GoogLeNetOutput) and all(t.shape == (2, 5) for t in out)
    expected = F.cross_entropy(out.logits, target) + 0.3 * (F.cross_entropy(out.aux1, target) + F.cross_entropy(out.aux2, target))
    torch.testing.assert_close(models.googlenet_loss(out, target), expected)
    with torch.no_grad():
        logits = net.eval()(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 5)
    torch.testing.assert_close(models.googlenet_loss(logits, target), F.cross_entropy(logits, target))


def test_mnist_cnn_feature_shapes():
    net = models.MnistCNN()
    assert net.feature_shapes() == [
        ("input", (1, 28, 28)), ("conv1", (32, 28, 28)), ("pool1", (32, 14, 14)), ("conv2", (64, 14, 14)),
        ("pool2", (64, 7, 7)), ("fc1", (1024,)), ("logits", (10,)),
    ]
    maps = net.feature_maps(torch.randn(3, 1, 28, 28))
    assert {k: tuple(v.shape[1:]) for k, v in maps.items()} == dict(net.feature_shapes()[1:5])
    assert net.dropout.p == 0.25                               # keep_prob 0.75
    assert dict(models.MnistCNN(input_size=32).feature_shapes())["pool2"] == (64, 8, 8)


# ---------------------------------------------------------------- from-scratch layers inside the models
@pytest.mark.parametrize("build, shape", [
    (lambda **kw: models.MnistCNN(input_size=16, **kw), (1, 16, 16)),
    (lambda **kw: models.LeNet5(pooling="avg", **kw), (1, 28, 28)),
    (lambda **kw: models.ResNet(18, 10, width=2, **kw), (3, 32, 32)),
    (lambda **kw: models.DenseNet((2, 2), 4, 8, num_classes=10, **kw), (3, 16, 16)),
    (lambda **kw: models.AlexNet(10, lrn=True, hidden=16, pool_size=1, small_input=True, **kw), (3, 16, 16)),
    (lambda **kw: models.Inception(8, 4, 4, 6, 2, 3, 3, **kw), (8, 6, 6)),
], ids=["mnist_cnn", "lenet5", "resnet18", "densenet", "alexnet", "inception"])
def test_from_scratch_layers_give_the_same_model(build, shape):
    ref, ours = build().double().eval(), build(from_scratch=True).double().eval()
    assert any(isinstance(m, conv.Conv2d) for m in ours.modules())
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, *shape, dtype=f64)
    torch.testing.assert_close(ours(x), ref(x))
    ours(x).square().sum().backward()
    ref(x).square().sum().backward()
    for (name, p), q in zip(ref.named_parameters(), ours.parameters()):
        torch.testing.assert_close(q.grad, p.grad, msg=name)


# ---------------------------------------------------------------- construction
def test_seed_makes_initialisation_reproducible_without_touching_the_global_rng():
    state = torch.random.get_rng_state()
    a, b = models.ResNet(18, 10, width=4, seed=3), models.ResNet(18, 10, width=4, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    c = models.ResNet(18, 10, width=4, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_seed_leaves_every_cuda_and_mps_generator_alone(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a seeded constructor must not seed an accelerator's generator")

    monkeypatch.setattr(torch.cuda, "manual_seed_all", refuse)
    monkeypatch.setattr(torch.cuda, "manual_seed", refuse)
    monkeypatch.setattr(torch.mps, "manual_seed", refuse)
    state = torch.random.get_rng_state()
    models.LeNet5(seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_seeded_models_built_on_a_device_equal_the_cpu_ones(device):
    cuda_state = torch.cuda.get_rng_state_all() if device.type == "cuda" else None
    with torch.device(device):
        ours = models.MnistCNN(seed=5)
    cpu = models.MnistCNN(seed=5)
    for (name, p), q in zip(ours.state_dict().items(), cpu.state_dict().values()):
        assert p.device.type == device.type, name
        assert torch.equal(p.cpu(), q), name
    if cuda_state is not None:
        assert all(torch.equal(a, b) for a, b in zip(torch.cuda.get_rng_state_all(), cuda_state))
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(ours.eval()(x.to(device)).cpu(), cpu.eval()(x), rtol=1e-4, atol=1e-5)


def test_seeded_models_on_the_meta_device_allocate_nothing():
    with torch.device("meta"):
        net = models.VGG(11, seed=0)
    assert all(p.device.type == "meta" for p in net.parameters())


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"depth must be one of \[11, 13, 16, 19\], got 12"):
        models.VGG(12)
    with pytest.raises(ValueError, match="depth must be one of"):
        models.ResNet(20)
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        models.LeNet5(activation="softplus")
    with pytest.raises(ValueError, match="'step' is not available in dlbook.models"):
        models.LeNet5(activation="step")
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        models.MnistCNN(0)
    with pytest.raises(ValueError, match="F must be odd"):
        models.GoogLeNet(large_kernel=4)
