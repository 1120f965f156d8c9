"""The VGG conv-layer tables every converter and the safetensors reader check against.

Layer names follow docs/ARCHITECTURE.md: block ``B`` (1..5) holds convs ``convB_1 .. convB_n``, each
followed by ``reluB_I``; the block ends with ``poolB``.
"""

from __future__ import annotations

#: Number of 3x3 convs in each of the five blocks.
BLOCK_SIZES: dict[str, tuple[int, ...]] = {
    "vgg19": (2, 2, 4, 4, 4),
    "vgg16": (2, 2, 3, 3, 3),
}

#: Output channels of every conv in block B (the same for both architectures).
BLOCK_CHANNELS: tuple[int, ...] = (64, 128, 256, 512, 512)

ARCHITECTURES: tuple[str, ...] = tuple(BLOCK_SIZES)


def check_architecture(architecture: str) -> str:
    """Return ``architecture`` if it is known; raise ``ValueError`` naming the known ones otherwise."""
    if architecture not in BLOCK_SIZES:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {', '.join(ARCHITECTURES)}")
    return architecture


def layer_names(architecture: str) -> list[str]:
    """All layer names in network order: ``conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ...``."""
    names: list[str] = []
    for block, size in enumerate(BLOCK_SIZES[check_architecture(architecture)], start=1):
        for index in range(1, size + 1):
            names += [f"conv{block}_{index}", f"relu{block}_{index}"]
        names.append(f"pool{block}")
    return names


def conv_layer_names(architecture: str) -> list[str]:
    """The conv layers only, in network order."""
    return [name for name in layer_names(architecture) if name.startswith("conv")]


def conv_weight_shapes(architecture: str) -> dict[str, tuple[int, int, int, int]]:
    """``{convB_I: (out, in, 3, 3)}`` for every conv layer (OIHW; the first conv reads 3 image channels)."""
    shapes: dict[str, tuple[int, int, int, int]] = {}
    in_channels = 3
    for block, size in enumerate(BLOCK_SIZES[check_architecture(architecture)], start=1):
        out_channels = BLOCK_CHANNELS[block - 1]
        for index in range(1, size + 1):
            shapes[f"conv{block}_{index}"] = (out_channels, in_channels, 3, 3)
            in_channels = out_channels
    return shapes


def architecture_for_conv_count(count: int) -> str | None:
    """The architecture with ``count`` conv layers (16 -> vgg19, 13 -> vgg16), or None."""
    for architecture, sizes in BLOCK_SIZES.items():
        if sum(sizes) == count:
            return architecture
    return None
