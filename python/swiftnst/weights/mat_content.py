"""How much a MATLAB v5 file holds once inflated, measured without keeping any of it.

A v5 ``.mat`` file is a 128-byte header followed by one data element per variable: an 8-byte tag
(type, byte count) and the bytes; a ``miCOMPRESSED`` element holds a zlib stream of the variable, so
a small file can hold gigabytes. :func:`check_content_size` walks the top-level tags and inflates each
compressed stream into a counter, in 1 MiB steps, refusing the file as soon as the total passes ``MAX_CONTENT_BYTES``.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import BinaryIO

from . import WeightsError

#: Largest accepted content: the published imagenet-vgg-verydeep-19.mat holds 143.7 M float32
#: parameters (the classifier included), 575 MB; this leaves a third more for MATLAB's own records.
MAX_CONTENT_BYTES = 768 * 2**20

_HEADER_BYTES = 128
_COMPRESSED = 15  # miCOMPRESSED
_STEP = 1 << 20


def check_content_size(stream: BinaryIO, where: str) -> None:
    """Raise ``WeightsError`` when the variables of the v5 file ``stream`` exceed ``MAX_CONTENT_BYTES``.

    Anything that is not a well-formed v5 element sequence is left for ``mat5_reader`` to refuse.
    """
    end = os.fstat(stream.fileno()).st_size
    stream.seek(_HEADER_BYTES - 2)
    order = {b"IM": "<", b"MI": ">"}.get(stream.read(2))
    if order is None:
        return
    position, total = _HEADER_BYTES, 0
    while position + 8 <= end:
        stream.seek(position)
        kind, size = struct.unpack(f"{order}II", stream.read(8))
        if kind == _COMPRESSED:
            total += _inflated_size(stream, size, MAX_CONTENT_BYTES - total)
            position += 8 + size
        else:
            total += size
            position += 8 + size + (-size % 8)  # uncompressed elements are padded to 8 bytes
        if total > MAX_CONTENT_BYTES:
            raise WeightsError(f"{where}: the MATLAB variables hold over {total} bytes once inflated, more than "
                               f"the {MAX_CONTENT_BYTES} of any VGG network; refusing to parse it")


def _inflated_size(stream: BinaryIO, size: int, allowance: int) -> int:
    """Bytes the zlib stream of ``size`` bytes at the current position inflates to, counting stops
    just past ``allowance``; a damaged stream counts what it gave (the reader will refuse it)."""
    inflater, produced = zlib.decompressobj(), 0
    left = size
    try:
        while left > 0 and produced <= allowance and not inflater.eof:
            chunk = stream.read(min(_STEP, left))
            if not chunk:
                break
            left -= len(chunk)
            produced += len(inflater.decompress(chunk, _STEP))
            while inflater.unconsumed_tail and produced <= allowance:
                produced += len(inflater.decompress(inflater.unconsumed_tail, _STEP))
    except zlib.error:
        pass
    return produced
