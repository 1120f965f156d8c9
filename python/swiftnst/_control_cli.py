"""The command line's "spatial and colour control" options (``--style-masks``, ``--content-mask``,
``--color-control``, ``--style-size``, ``--normalize-gradients``)."""

from __future__ import annotations

import argparse

from .color_control import COLOR_CONTROLS
from .options import StyleTransferOptions

__all__ = ["add_control_arguments", "control_options"]


def add_control_arguments(parser: argparse.ArgumentParser, *, single_render: bool = True) -> None:
    """Add the "spatial and colour control" group to the main command's parser; without ``single_render``
    (a batch, whose renders pair every content with every style) the masks are left out."""
    d = StyleTransferOptions()
    group = parser.add_argument_group("spatial and colour control")
    if single_render:
        group.add_argument("--style-masks", metavar="M1,M2,...", default=None,
                           help="one grayscale mask image per STYLE, resized to the result: style i is matched "
                                "only where mask i is bright, with its statistics over that region (default: the "
                                "styles are blended everywhere)")
        group.add_argument("--content-mask", metavar="MASK", default=None,
                           help="grayscale mask image of where the content is kept: bright fully, dark not at all. "
                                "An RGBA CONTENT's alpha also limits both terms, and the result keeps that alpha (in "
                                ".png, .webp, .tif); a STYLE's alpha limits it to its opaque pixels (default: "
                                "everywhere)")
    group.add_argument("--color-control", choices=COLOR_CONTROLS, default=d.color_control,
                       help="'post': the result's luminance with the content's colours (= --preserve-colors); "
                            "'luminance': only luminance is optimised (the style's matched to the content's mean and "
                            "variance), then the content's colours; 'histogram': the styles' colours matched to "
                            "the content's distribution first (default: %(default)s)")
    group.add_argument("--style-size", metavar="PX", type=int, default=d.style_size,
                       help="longest side of the style images at the result's size, instead of --style-scale "
                            "(default: --style-scale decides)")
    group.add_argument("--normalize-gradients", action="store_true",
                       help="divide each layer's gradient by its L1 norm, as jcjohnson/neural-style's "
                            "-normalize_gradients (raise the weights to compensate) (default: off)")


def control_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``StyleTransferOptions`` fields set by this group."""
    fields: dict[str, object] = dict(color_control=args.color_control, style_size=args.style_size,
                                     normalize_gradients=args.normalize_gradients)
    if "style_masks" not in args:  # a batch's parser
        return fields
    masks = None if args.style_masks is None else [m.strip() for m in args.style_masks.split(",")]
    if masks is not None and len(masks) != len(args.styles):
        raise ValueError(f"--style-masks has {len(masks)} masks for {len(args.styles)} style images")
    return fields | dict(style_masks=masks, content_mask=args.content_mask)
