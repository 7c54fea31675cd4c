"""The QR PNG decodes back to the exact string WhatsApp showed."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from functions.qr import CONTENT_TYPE, qr_image, qr_png
from tests.support.qr import SAMPLE_QR, decode_png

# Real WhatsApp Web QR strings are about 240 characters of base64 separated by commas.
LONG_QR = "2@" + ",".join(["QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw" * 2] * 4) + ",1"


@pytest.mark.parametrize("text", [SAMPLE_QR, LONG_QR, "x"])
def test_png_decodes_back_to_the_qr_string(text):
    image = qr_image(text)

    assert image["contentType"] == CONTENT_TYPE == "image/png"
    assert decode_png(image["base64"]) == text


def test_the_image_is_a_png_with_a_quiet_zone():
    png = qr_png(SAMPLE_QR)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert base64.b64decode(qr_image(SAMPLE_QR)["base64"]) == png
    # phones need a white margin of four modules (8 px each) around the code
    image = Image.open(io.BytesIO(png)).convert("L")
    margin = image.crop((0, 0, image.width, 32))
    assert margin.getextrema() == (255, 255)
