import itertools

import pytest
import torch
import torch.nn.functional as F

from dlbook import conv

f64 = torch.float64


# ---------------------------------------------------------------- sizes and counts
@pytest.mark.parametrize("W, F_, S, P, expected", [
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (7, 3, 1, 1, 7), (32, 5, 1, 2, 32), (227, 11, 4, 0, 55),
    (28, 2, 2, 0, 14), (5, 5, 1, 0, 1),
])
def test_conv_output_size(W, F_, S, P, expected):
    assert conv.conv_output_size(W, F_, S, P) == expected


def test_conv_output_size_rejects_non_integer_and_non_positive():
    with pytest.raises(ValueError, match=r"\(7 − 3 \+ 2·0\)/3 \+ 1 = 4/3 \+ 1 = 2.33333 is not an integer"):
        conv.conv_output_size(7, 3, 3)
    with pytest.raises(ValueError, match="not an integer"):
        conv.conv_output_size(224, 11, 4, 2)       # AlexNet's famous 224 vs 227
    with pytest.raises(ValueError, match="filter does not fit: F=5 is larger than the padded input W \\+ 2P = 3"):
        conv.conv_output_size(3, 5)
    with pytest.raises(TypeError, match="S must be an integer"):
        conv.conv_output_size(7, 3, 1.5)
    with pytest.raises(ValueError, match="P must be an integer >= 0, got -1"):
        conv.conv_output_size(7, 3, 1, -1)


def test_conv_output_size_floor_matches_pytorch():
    assert conv.conv_output_size(224, 11, 4, 2, floor=True) == 55
    x = torch.zeros(1, 1, 224, 224)
    assert F.conv2d(x, torch.zeros(1, 1, 11, 11), stride=4, padding=2).shape[-1] == 55
    with pytest.raises(ValueError, match="does not fit"):
        conv.conv_output_size(3, 5, floor=True)


def test_same_padding_and_param_count():
    assert [conv.same_padding(f) for f in (1, 3, 5, 7)] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="F must be odd"):
        conv.same_padding(4)
    assert conv.conv_param_count(5, 1, 32) == 5 * 5 * 1 * 32 + 32 == 832
    assert conv.conv_param_count(5, 32, 64) == 51_264
    assert conv.conv_param_count(3, 3, 10, bias=False) == 270
    assert conv.conv_param_count(5, 32, 64) == sum(p.numel() for p in torch.nn.Conv2d(32, 64, 5).parameters())


def test_receptive_field():
    assert conv.receptive_field([3, 3]) == 5
    assert conv.receptive_field([3, 3, 3]) == 7
    assert conv.receptive_field([3, 3], [2, 1]) == 1 + 2 + 2 * 2
    with pytest.raises(ValueError, match="one entry per layer"):
        conv.receptive_field([3, 3], [1])


# ---------------------------------------------------------------- im2col / col2im
GEOMETRIES = [  # (H, W, kernel, stride, padding)
    (5, 5, 3, 1, 0), (6, 7, 3, 2, 1), (7, 6, (2, 3), (1, 2), (1, 0)), (8, 8, 5, 1, 2), (4, 4, 4, 4, 0),
    (9, 9, 3, 3, 1),
]


@pytest.mark.parametrize("H, W, kernel, stride, padding", GEOMETRIES)
def test_im2col_matches_unfold_and_col2im_matches_fold(device, H, W, kernel, stride, padding):
    x = torch.randn(2, 3, H, W, dtype=f64, device=device)
    cols = conv.im2col(x, kernel, stride, padding)
    torch.testing.assert_close(cols, F.unfold(x, kernel, padding=padding, stride=stride))
    back = F.fold(cols, (H, W), kernel, padding=padding, stride=stride)
    torch.testing.assert_close(conv.col2im(cols, x.shape, kernel, stride, padding), back)


def test_col2im_is_the_adjoint_of_im2col():
    x, kernel, stride, padding = torch.randn(2, 2, 7, 7, dtype=f64), 3, 2, 1
    c = torch.randn_like(conv.im2col(x, kernel, stride, padding))
    lhs = (conv.im2col(x, kernel, stride, padding) * c).sum()
    rhs = (x * conv.col2im(c, x.shape, kernel, stride, padding)).sum()
    torch.testing.assert_close(lhs, rhs)


def test_col2im_errors():
    with pytest.raises(ValueError, match=r"cols must have shape \(N, C·FH·FW, OH·OW\) = \(1, 9, 9\)"):
        conv.col2im(torch.zeros(1, 9, 8), (1, 1, 5, 5), 3)
    with pytest.raises(ValueError, match=r"input_shape must be \(N, C, H, W\)"):
        conv.col2im(torch.zeros(1, 9, 9), (5, 5), 3)


# ---------------------------------------------------------------- convolution
CONV_CASES = list(itertools.product(
    [(2, 3, 7, 7, 4, 3, 3), (1, 1, 8, 6, 2, 5, 5), (3, 2, 6, 9, 3, 2, 3), (2, 4, 5, 5, 1, 1, 1)],  # N,C,H,W,K,FH,FW
    [1, 2, (2, 1)],
    [0, 1, (2, 0)],
))


@pytest.mark.parametrize("shape, stride, padding", CONV_CASES)
def test_conv2d_forward_backward_match_torch(device, shape, stride, padding):
    N, C, H, W, K, FH, FW = shape
    x = torch.randn(N, C, H, W, dtype=f64, device=device, requires_grad=True)
    w = torch.randn(K, C, FH, FW, dtype=f64, device=device, requires_grad=True)
    b = torch.randn(K, dtype=f64, device=device, requires_grad=True)
    ref = F.conv2d(x, w, b, stride, padding)
    dout = torch.randn_like(ref)
    ref_grads = torch.autograd.grad(ref, (x, w, b), dout)

    out, cache = conv.conv2d_forward(x.detach(), w.detach(), b.detach(), stride, padding)
    torch.testing.assert_close(out, ref.detach())
    for ours, theirs in zip(conv.conv2d_backward(dout, cache), ref_grads):
        torch.testing.assert_close(ours, theirs)

    out = conv.conv2d(x, w, b, stride, padding)            # the autograd.Function wrapper
    torch.testing.assert_close(out, ref)
    for ours, theirs in zip(torch.autograd.grad(out, (x, w, b), dout), ref_grads):
        torch.testing.assert_close(ours, theirs)


def test_conv2d_cache_holds_the_columns_and_bias_free_gradients():
    x = torch.randn(5, 3, 6, 6, dtype=f64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=f64, requires_grad=True)
    out, cache = conv.conv2d_forward(x, w, None, 1, 1)
    torch.testing.assert_close(cache.cols, F.unfold(x.detach(), 3, padding=1))     # (N, C·FH·FW, OH·OW)
    torch.testing.assert_close(out, F.conv2d(x, w, None, 1, 1))
    dout = torch.randn_like(out)
    dx, dW, db = conv.conv2d_backward(dout, cache)
    rx, rw = torch.autograd.grad(F.conv2d(x, w, None, 1, 1), (x, w), dout)
    torch.testing.assert_close(dx, rx)
    torch.testing.assert_close(dW, rw)
    assert db is None
    dx, dW2, _ = conv.conv2d_backward(dout, cache, input_grad=False)
    assert dx is None and torch.equal(dW2, dW)


def test_conv2d_without_input_gradient():
    x = torch.randn(2, 1, 6, 6, dtype=f64)                  # images: no gradient wanted
    w = torch.randn(3, 1, 3, 3, dtype=f64, requires_grad=True)
    (dw,) = torch.autograd.grad(conv.conv2d(x, w, None, 1, 1).square().sum(), w)
    (ref,) = torch.autograd.grad(F.conv2d(x, w, None, 1, 1).square().sum(), w)
    torch.testing.assert_close(dw, ref)


def test_conv2d_gradcheck():
    x = torch.randn(1, 2, 5, 4, dtype=f64, requires_grad=True)
    w = torch.randn(3, 2, 3, 2, dtype=f64, requires_grad=True)
    b = torch.randn(3, dtype=f64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: conv.conv2d(x, w, b, 2, 1), (x, w, b))


def test_conv2d_same_and_valid_padding():
    x, w = torch.randn(2, 3, 9, 9, dtype=f64), torch.randn(4, 3, 5, 5, dtype=f64)
    same, _ = conv.conv2d_forward(x, w, padding="same")
    assert same.shape == (2, 4, 9, 9)
    torch.testing.assert_close(same, F.conv2d(x, w, padding=2))
    valid, _ = conv.conv2d_forward(x, w, padding="valid")
    torch.testing.assert_close(valid, F.conv2d(x, w))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        conv.conv2d_forward(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a pair, 'same' or 'valid'"):
        conv.conv2d_forward(x, w, padding="full")


def test_conv2d_argument_errors():
    x = torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"filter depth must equal the input depth: W has shape \(4, 2, 3, 3\)"):
        conv.conv2d_forward(x, torch.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match="x must have 4 dimension"):
        conv.conv2d_forward(x[0], torch.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"b must have shape \(K,\) = \(4,\)"):
        conv.conv2d_forward(x, torch.randn(4, 3, 3, 3), torch.randn(3))
    with pytest.raises(ValueError, match="filter does not fit"):
        conv.conv2d_forward(x, torch.randn(4, 3, 9, 9))
    with pytest.raises(TypeError, match="W must have x's dtype and device"):
        conv.conv2d_forward(x, torch.randn(4, 3, 3, 3, dtype=f64))
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv.conv2d_forward(x, torch.randn(4, 3, 3, 3), stride=0)
    _, cache = conv.conv2d_forward(x, torch.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="dout must be the shape of the forward output"):
        conv.conv2d_backward(torch.randn(2, 4, 5, 5), cache)


def test_conv2d_module_matches_nn_conv2d_with_the_same_weights():
    ref = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1).double()
    ours = conv.Conv2d(3, 5, 3, stride=2, padding=1, dtype=f64)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 7, 7, dtype=f64)
    torch.testing.assert_close(ours(x), ref(x))
    ours(x).square().sum().backward()
    ref(x).square().sum().backward()
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad)


def test_conv2d_module_initialisation():
    a = conv.Conv2d(4, 8, 3, generator=torch.Generator().manual_seed(1))
    b = conv.Conv2d(4, 8, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a.weight, b.weight)
    bound = 1 / (4 * 3 * 3) ** 0.5
    assert a.weight.abs().max() <= bound and a.weight.abs().max() > 0.8 * bound
    assert conv.Conv2d(4, 8, 3, bias=False).bias is None


@pytest.mark.parametrize("dtype", [torch.float32, f64])
def test_conv2d_initialises_on_any_device_from_a_cpu_generator(device, dtype):
    layer = conv.Conv2d(4, 8, 3, generator=torch.Generator().manual_seed(1), device=device, dtype=dtype)
    assert layer.weight.device.type == device.type and layer.weight.dtype == dtype
    g = torch.Generator().manual_seed(1)  # closed form: the weight's draws first, then the bias's, on the CPU
    bound = 1 / (4 * 3 * 3) ** 0.5
    weight = torch.empty(8, 4, 3, 3, dtype=dtype).uniform_(-bound, bound, generator=g)
    bias = torch.empty(8, dtype=dtype).uniform_(-bound, bound, generator=g)
    torch.testing.assert_close(layer.weight.detach().cpu(), weight, rtol=0, atol=0)
    torch.testing.assert_close(layer.bias.detach().cpu(), bias, rtol=0, atol=0)
    x = torch.randn(2, 4, 6, 6, dtype=dtype)
    out = layer(x.to(device))
    assert out.device.type == device.type
    ref = F.conv2d(x, weight, bias)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4 if dtype == torch.float32 else 1e-10, atol=1e-5)


# ---------------------------------------------------------------- pooling
POOL_CASES = [  # (kernel, stride, padding, H, W)
    (2, None, 0, 8, 8), (2, 2, 0, 7, 9), (3, 2, 0, 9, 9), (3, 2, 1, 8, 7), (3, 1, 1, 5, 6),
    ((2, 3), (1, 2), (1, 1), 6, 7), (4, 4, 2, 9, 9),
]


@pytest.mark.parametrize("kernel, stride, padding, H, W", POOL_CASES)
def test_max_pool_matches_torch(device, kernel, stride, padding, H, W):
    x = torch.randn(2, 3, H, W, dtype=f64, device=device, requires_grad=True)
    ref = F.max_pool2d(x, kernel, stride, padding)
    dout = torch.randn_like(ref)
    (ref_dx,) = torch.autograd.grad(ref, x, dout)
    out, cache = conv.max_pool2d_forward(x.detach(), kernel, stride, padding)
    torch.testing.assert_close(out, ref.detach())
    torch.testing.assert_close(conv.max_pool2d_backward(dout, cache), ref_dx)
    out = conv.max_pool2d(x, kernel, stride, padding)
    (dx,) = torch.autograd.grad(out, x, dout)
    torch.testing.assert_close(dx, ref_dx)


def test_max_pool_routes_gradient_to_the_argmax():
    x = torch.tensor([[1.0, 2.0, 5.0, 6.0], [3.0, 4.0, 7.0, 8.0],
                      [9.0, 0.0, 1.0, 1.5], [0.5, 0.2, 2.0, 0.1]], dtype=f64).view(1, 1, 4, 4)
    out, cache = conv.max_pool2d_forward(x, 2)
    torch.testing.assert_close(out.view(2, 2), torch.tensor([[4.0, 8.0], [9.0, 2.0]], dtype=f64))
    dx = conv.max_pool2d_backward(torch.tensor([[10.0, 20.0], [30.0, 40.0]], dtype=f64).view(1, 1, 2, 2), cache)
    expected = torch.zeros(4, 4, dtype=f64)
    expected[1, 1], expected[1, 3], expected[2, 0], expected[3, 2] = 10, 20, 30, 40
    torch.testing.assert_close(dx.view(4, 4), expected)


@pytest.mark.parametrize("kernel, stride, padding, H, W", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_matches_torch(device, kernel, stride, padding, H, W, count_include_pad):
    x = torch.randn(2, 3, H, W, dtype=f64, device=device, requires_grad=True)
    ref = F.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad)
    dout = torch.randn_like(ref)
    (ref_dx,) = torch.autograd.grad(ref, x, dout)
    out, cache = conv.avg_pool2d_forward(x.detach(), kernel, stride, padding, count_include_pad)
    torch.testing.assert_close(out, ref.detach())
    torch.testing.assert_close(conv.avg_pool2d_backward(dout, cache), ref_dx)
    (dx,) = torch.autograd.grad(conv.avg_pool2d(x, kernel, stride, padding, count_include_pad), x, dout)
    torch.testing.assert_close(dx, ref_dx)


def test_avg_pool_spreads_one_over_m():
    _, cache = conv.avg_pool2d_forward(torch.zeros(1, 1, 4, 4), 2)
    dx = conv.avg_pool2d_backward(torch.ones(1, 1, 2, 2), cache)
    torch.testing.assert_close(dx, torch.full((1, 1, 4, 4), 0.25))


def test_pool_errors():
    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel size \(2, 2\)"):
        conv.max_pool2d_forward(x, 2, padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        conv.avg_pool2d_forward(x, 0)
    _, cache = conv.max_pool2d_forward(x, 2)
    with pytest.raises(ValueError, match="dout must have the forward output's shape"):
        conv.max_pool2d_backward(torch.zeros(1, 1, 2, 2), cache)


@pytest.mark.parametrize("p", [1, 2, 3, 1.5])
def test_lp_pool_matches_torch(p):
    x = (torch.rand(2, 3, 6, 7, dtype=f64) + 0.1).requires_grad_()
    ref = F.lp_pool2d(x, p, 2, 2)
    out = conv.lp_pool2d(x, p, 2, 2)
    torch.testing.assert_close(out, ref)
    dout = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(out, x, dout)[0], torch.autograd.grad(ref, x, dout)[0])


def test_lp_pool_limits():
    x = torch.rand(1, 2, 4, 4, dtype=f64)
    torch.testing.assert_close(conv.lp_pool2d(x, 1, 2), 4 * F.avg_pool2d(x, 2))        # sum pooling
    torch.testing.assert_close(conv.lp_pool2d(x, 200, 2), F.max_pool2d(x, 2), atol=1e-2, rtol=0)
    with pytest.raises(ValueError, match="p must be > 0.0"):
        conv.lp_pool2d(x, 0, 2)


def test_pool_modules():
    x = torch.randn(2, 3, 8, 8, dtype=f64)
    torch.testing.assert_close(conv.MaxPool2d(3, 2, 1)(x), torch.nn.MaxPool2d(3, 2, 1)(x))
    torch.testing.assert_close(conv.AvgPool2d(2)(x), torch.nn.AvgPool2d(2)(x))
    torch.testing.assert_close(conv.LPPool2d(2, 2)(x.abs()), torch.nn.LPPool2d(2, 2)(x.abs()))


# ---------------------------------------------------------------- local response normalisation
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("shape", [(2, 7, 3, 3), (2, 6, 5), (1, 4, 2, 3, 2)])
def test_lrn_matches_torch(size, shape):
    x = torch.randn(*shape, dtype=f64, requires_grad=True)
    ref = F.local_response_norm(x, size, alpha=1e-2, beta=0.75, k=2.0)
    out = conv.local_response_norm(x, size, alpha=1e-2, beta=0.75, k=2.0)
    torch.testing.assert_close(out, ref)
    dout = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(out, x, dout)[0], torch.autograd.grad(ref, x, dout)[0])


def test_lrn_paper_convention():
    x = torch.randn(2, 8, 3, 3, dtype=f64)
    size, alpha, beta, k = 5, 1e-2, 0.75, 2.0
    paper = conv.local_response_norm_paper(x, size, alpha, beta, k)
    torch.testing.assert_close(paper, F.local_response_norm(x, size, alpha=alpha * size, beta=beta, k=k))
    c = 4  # closed form for one channel: neighbours 2 … 6
    expected = x[:, c] / (k + alpha * x[:, 2:7].square().sum(dim=1)) ** beta
    torch.testing.assert_close(paper[:, c], expected)
    torch.testing.assert_close(conv.LocalResponseNorm(convention="paper")(x), conv.local_response_norm_paper(x))
    with pytest.raises(ValueError, match="convention must be 'torch' or 'paper'"):
        conv.local_response_norm(x, convention="alexnet")
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        conv.local_response_norm(torch.zeros(2, 3))


# ---------------------------------------------------------------- kernels on images
def test_edge_kernel_and_filter2d():
    kernel = conv.edge_kernel()
    assert kernel.tolist() == [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]
    assert kernel.sum() == 0
    flat = torch.full((6, 6), 3.0)
    assert torch.equal(conv.filter2d(flat, kernel), torch.zeros(4, 4))         # no edges, no response
    image = torch.rand(10, 12, dtype=f64)
    out = conv.filter2d(image, kernel, padding="same")
    assert out.shape == (10, 12)
    torch.testing.assert_close(out, F.conv2d(image[None, None], kernel.to(f64)[None, None], padding=1)[0, 0])
    with pytest.raises(ValueError, match="image must have 2 dimension"):
        conv.filter2d(torch.zeros(1, 5, 5), kernel)
