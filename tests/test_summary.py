import pytest
import torch
from torch import nn

from dlbook import models
from dlbook.summary import count_parameters, summary


def test_count_parameters_counts_every_scalar_even_on_the_meta_device():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert count_parameters(net) == 4 * 3 + 3 + 3 * 2 + 2
    with torch.device("meta"):
        assert count_parameters(models.VGG(16)) == 138_357_544


def test_count_parameters_trainable_only_and_errors():
    net = models.MnistCNN()
    net.fc1.requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == 3_274_634 - (3136 * 1024 + 1024)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        count_parameters([1, 2])


def test_summary_lists_layers_with_shapes_and_parameters():
    net = models.MnistCNN()
    rows = summary(net, (1, 28, 28))
    by_name = {name: (kind, shape, n) for name, kind, shape, n in rows}
    assert by_name["conv1"] == ("Conv2d", (32, 28, 28), 832)
    assert by_name["pool2"] == ("MaxPool2d", (64, 7, 7), 0)
    assert by_name["fc2"] == ("Linear", (10,), 10_250)
    assert net.training                                        # mode restored
    with pytest.raises(ValueError, match=r"input_shape must be one image's \(C, H, W\)"):
        summary(net, (28, 28))
