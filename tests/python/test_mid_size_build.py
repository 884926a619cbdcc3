"""integr8.build() compiles models whose arena is larger than the binding's stack buffer.

The minimal case of a failure users met: a 3x32x32 stem conv, one residual block (two 3x3
convs, add, ReLU), global average pool and a Linear. Its arena is well above the binding's
4 KiB stack arena, and g++ used to reject the module with -Werror=array-bounds for the stack
branch it can never take. Each compiler found on the machine builds it, and the module's
outputs equal the NumPy reference's on every sample, run one at a time and as a batch.
"""

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import integr8  # noqa: E402
from integr8 import calibrate, export, interpreter  # noqa: E402

STACK_ARENA_BYTES = 4096  # model_internal::kStackArenaBytes in python/src/model_binding.h


class _ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(x))) + x)


class _TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.block = _ResidualBlock(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.block(self.stem(x))), 1))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = _TinyResNet().eval()
    images = torch.randn(24, 3, 32, 32)
    graph = calibrate.calibrate(model, images[:16], name="tiny_resnet")
    out_dir = tmp_path_factory.mktemp("tiny_resnet")
    header = export.export_header(graph, out_dir, command="test_mid_size_build",
                                  checkpoint_sha256=None)
    inputs = np.ascontiguousarray(calibrate.quantize_input(images, graph))
    return graph, header, inputs


@pytest.mark.parametrize("compiler", ["g++", "clang++"])
def test_builds_and_is_bit_exact(exported, compiler, monkeypatch, tmp_path):
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    graph, header, inputs = exported
    monkeypatch.setenv("CXX", compiler)
    monkeypatch.setenv("INTEGR8_CACHE_DIR", str(tmp_path))
    module = integr8.build(header)
    model = module.Model()
    assert model.arena_bytes > STACK_ARENA_BYTES  # the case the stack branch must not see

    expected = interpreter.run(graph, inputs)
    np.testing.assert_array_equal(model.run(inputs), expected)
    np.testing.assert_array_equal(model.run(inputs, threads=1), expected)
    for sample in range(3):
        one = inputs[sample:sample + 1]
        np.testing.assert_array_equal(model.run(one), expected[sample:sample + 1])
