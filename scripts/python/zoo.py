"""Torchvision-style CNNs for ptq's parity fixtures and benchmarks (random weights, randomized BN stats).

torchvision's wheel on PyPI is built against CUDA torch; its models are pure Python, so stubbing the
custom-op registration module lets them import with CPU torch.
"""
import sys
import types

sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision.models as models  # noqa: E402
from torchvision.models import efficientnet as efficientnet_module  # noqa: E402
from torchvision.models.resnet import BasicBlock, ResNet  # noqa: E402
from torchvision.models.squeezenet import Fire  # noqa: E402


class NarrowResNet18(ResNet):
    """ResNet-18's architecture at a fraction of its width (torchvision has no width knob)."""

    def __init__(self, width=16, num_classes=10):
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
        planes = [width, width * 2, width * 4, width * 8]
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(BasicBlock, planes[0], 2)
        self.layer2 = self._make_layer(BasicBlock, planes[1], 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, planes[2], 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, planes[3], 2, stride=2)
        self.fc = nn.Linear(planes[3], num_classes)


class NarrowSqueezeNet11(nn.Module):
    """SqueezeNet 1.1's architecture with every Fire module's widths divided by `divisor`."""

    def __init__(self, divisor=4, num_classes=10):
        super().__init__()
        d = divisor
        self.features = nn.Sequential(
            nn.Conv2d(3, 64 // d, kernel_size=3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(64 // d, 16 // d, 64 // d, 64 // d), Fire(128 // d, 16 // d, 64 // d, 64 // d),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(128 // d, 32 // d, 128 // d, 128 // d), Fire(256 // d, 32 // d, 128 // d, 128 // d),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(256 // d, 48 // d, 192 // d, 192 // d), Fire(384 // d, 48 // d, 192 // d, 192 // d),
            Fire(384 // d, 64 // d, 256 // d, 256 // d), Fire(512 // d, 64 // d, 256 // d, 256 // d),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5), nn.Conv2d(512 // d, num_classes, kernel_size=1), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


def small_efficientnet_b0(num_classes=10):
    settings, last_channel = efficientnet_module._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    return efficientnet_module.EfficientNet(settings, 0.2, num_classes=num_classes, last_channel=last_channel)


def build(name, small):
    """The model `name`, at fixture size (small) or full torchvision size."""
    if small:
        table = {
            "mobilenet_v2": lambda: models.mobilenet_v2(num_classes=10, width_mult=0.25),
            "mnasnet0_5": lambda: models.MNASNet(0.2, num_classes=10),
            "resnet18": lambda: NarrowResNet18(width=8),
            "squeezenet1_1": lambda: NarrowSqueezeNet11(divisor=4),
            "efficientnet_b0": small_efficientnet_b0,
            "shufflenet_v2_x0_5": lambda: models.ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 512], num_classes=10),
        }
    else:
        table = {
            "mobilenet_v2": models.mobilenet_v2, "mnasnet0_5": models.mnasnet0_5, "resnet18": models.resnet18,
            "squeezenet1_1": models.squeezenet1_1, "efficientnet_b0": models.efficientnet_b0,
            "shufflenet_v2_x0_5": models.shufflenet_v2_x0_5,
        }
    return table[name]()


def randomize_batchnorm(model, seed):
    """Non-trivial BN statistics, so folding them is really tested."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator) * 0.2)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(n, generator=generator) * 0.2)
    return model


def export(model, path, resolution, keep_batchnorm, opset):
    model.eval()
    sample = torch.zeros(1, 3, resolution, resolution)
    kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=opset, dynamo=False,
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    if keep_batchnorm:
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, sample, path, **kwargs)
    graph = onnx.load(path).graph
    batchnorms = sum(node.op_type == "BatchNormalization" for node in graph.node)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    if keep_batchnorm and has_bn:
        assert batchnorms > 0, f"{path}: BatchNormalization nodes did not survive export"
    if not keep_batchnorm:
        assert batchnorms == 0, f"{path}: {batchnorms} BatchNormalization nodes were not folded"
    return batchnorms


def run_onnxruntime(path, x, threads=1):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]
