"""Read QR images back in tests, with a real decoder (zxing-cpp)."""

from __future__ import annotations

import base64
import io

import zxingcpp
from PIL import Image

# Shaped like what WhatsApp Web puts in its QR: ref, public key, identity key, secret.
SAMPLE_QR = "2@Yf3kQ2w9Zx,8xNq0S1hT4+kqfY=,Kq7dW0wZ1mQ=,abcDEF123="


def decode_png(b64: str) -> str:
    """Return the text of the one QR code in a base64 PNG."""
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    [result] = zxingcpp.read_barcodes(image)
    return result.text
