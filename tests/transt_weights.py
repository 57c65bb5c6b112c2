"""Random TransT-R50 weights from a fixed recipe, for the reference test against TransT's code.

The reference boxes in ``tests/fixtures/transt`` were computed by TransT's own tracker with these
weights; the recipe depends only on each tensor's name and shape (not on torch's random
initialisation or the order modules are built in), so the weights stay the same as the code
changes. Kept out of the test module so the recipe is one definition shared by everything that
makes or checks the fixture.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import torch

#: the head's size bias: sigmoid(log 1/3) = 1/4, boxes near a quarter of the search region,
#: which keeps the box size steady from frame to frame (a factor 4 crop of a square target)
SIZE_BIAS = math.log(1.0 / 3.0)
#: the box layer's weights are scaled down so the boxes vary around that bias from frame to
#: frame instead of jumping to the image's size
BOX_LAYER_SCALE = 0.05


def _uniform(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """U(-1, 1) from a PCG64 stream seeded by the tensor's name (stable across versions)."""
    generator = np.random.Generator(np.random.PCG64(zlib.crc32(name.encode())))
    return 2.0 * generator.random(shape) - 1.0


def random_transt_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights for a TransT state dict (its keys and shapes): He-scaled uniform matrices and
    kernels, norm weights near 1, small biases, BatchNorm statistics near (0, 1)."""
    weights: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            weights[name] = tensor.clone()  # num_batches_tracked
            continue
        shape = tuple(tensor.shape)
        u = _uniform(name, shape)
        if name.endswith("running_var"):
            values = 1.0 + 0.5 * u
        elif name.endswith("running_mean") or (len(shape) == 1 and name.endswith("bias")):
            values = 0.1 * u
        elif len(shape) == 1:  # BatchNorm and LayerNorm weights
            values = 1.0 + 0.1 * u
        else:
            fan_in = math.prod(shape[1:])
            values = u * math.sqrt(3.0) * math.sqrt(2.0 / fan_in)
        weights[name] = torch.from_numpy(values.astype(np.float32))
    weights["bbox_embed.layers.2.weight"] *= BOX_LAYER_SCALE
    weights["bbox_embed.layers.2.bias"][2:] = SIZE_BIAS
    return weights
