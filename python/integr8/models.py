"""Reference models for 28x28 digits, sized for a Cortex-M4-class device.

Budget: int8 weights <= 128 KiB in flash and every int8 activation tensor <= 32 KiB in RAM.
Both models take float input [N, 1, 28, 28] with x = pixel / 255 (see integr8.train) and
return 10 logits. They use only layers the exporter maps onto integr8 kernels; BatchNorm2d is
folded into the preceding convolution at export.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "INPUT_SHAPE",
    "NUM_CLASSES",
    "WEIGHT_BUDGET_BYTES",
    "ACTIVATION_BUDGET_BYTES",
    "MnistMlp",
    "MnistConvNet",
    "MODELS",
    "Footprint",
    "footprint",
]

INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10
WEIGHT_BUDGET_BYTES = 128 * 1024
ACTIVATION_BUDGET_BYTES = 32 * 1024


class MnistMlp(nn.Sequential):
    """784-128-64-10 with ReLU: about 107 KiB of int8 weights; the largest activation is the
    input."""

    def __init__(self) -> None:
        super().__init__(
            nn.Flatten(),
            nn.Linear(28 * 28, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, NUM_CLASSES),
        )


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    # No conv bias: BatchNorm's shift replaces it, and folding BatchNorm yields the bias.
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


class MnistConvNet(nn.Sequential):
    """Three 3x3 conv blocks (16, 32, 32 channels) and a linear classifier.

    About 17 KiB of int8 weights; the largest activation is the first conv's 28x28x16 output
    (12.25 KiB). The last pool leaves 3x3x32, so the final Linear follows a Flatten of a feature
    map (the exporter permutes its columns from NCHW to NHWC order).
    """

    def __init__(self) -> None:
        super().__init__(
            *_conv_block(1, 16),  # 28x28 -> 14x14
            *_conv_block(16, 32),  # 14x14 -> 7x7
            *_conv_block(32, 32),  # 7x7 -> 3x3
            nn.Flatten(),
            nn.Linear(32 * 3 * 3, NUM_CLASSES),
        )


MODELS = {"mlp": MnistMlp, "convnet": MnistConvNet}


@dataclass(frozen=True)
class Footprint:
    """What a model costs on the device once exported to int8."""

    parameters: int  # trainable float parameters, BatchNorm included
    int8_weight_bytes: int  # Conv2d and Linear weights, one byte each
    int32_bias_bytes: int  # one int32 per output channel of each Conv2d and Linear
    largest_activation_bytes: int  # largest int8 tensor of one sample, input included

    def within_budget(self) -> bool:
        return (
            self.int8_weight_bytes <= WEIGHT_BUDGET_BYTES
            and self.largest_activation_bytes <= ACTIVATION_BUDGET_BYTES
        )


def footprint(model: nn.Module, input_shape: tuple[int, ...] = INPUT_SHAPE) -> Footprint:
    """Measures a model's device footprint by running one zero sample of ``input_shape``.

    Every Conv2d and Linear gets a bias on the device (folding the input zero point and
    BatchNorm creates one), hence the bias bytes count all of them.
    """
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    activation_sizes = [torch.Size(input_shape).numel()]

    def record(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        activation_sizes.append(output[0].numel())  # one sample of the batch of one

    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [leaf.register_forward_hook(record) for leaf in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()

    return Footprint(
        parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        int8_weight_bytes=sum(m.weight.numel() for m in weighted),
        int32_bias_bytes=4 * sum(m.weight.shape[0] for m in weighted),
        largest_activation_bytes=max(activation_sizes),
    )
