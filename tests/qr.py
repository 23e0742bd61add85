"""Reads back a QR code from the SVG the app serves, with a real decoder (zxing-cpp)."""

from __future__ import annotations

import re

import zxingcpp
from PIL import Image, ImageDraw

_SQUARE = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z")
_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
SCALE = 8


def decode_svg(svg: bytes) -> str:
    """Draw the SVG's one-module squares on a bitmap and decode it."""
    text = svg.decode()
    width, height = (int(v) for v in _VIEWBOX.search(text).groups())  # type: ignore[union-attr]
    image = Image.new("L", (width * SCALE, height * SCALE), 255)
    draw = ImageDraw.Draw(image)
    for x1, y1, x2, y2 in _SQUARE.findall(text):
        draw.rectangle(
            (int(x1) * SCALE, int(y1) * SCALE, int(x2) * SCALE - 1, int(y2) * SCALE - 1), fill=0
        )
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code could be read from the SVG"
    return found[0].text
