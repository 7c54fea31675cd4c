"""Render a WhatsApp QR string as a PNG image."""

from __future__ import annotations

import base64
import io

CONTENT_TYPE = "image/png"


def qr_png(text: str) -> bytes:
    """Return a PNG of the QR code for `text` (quiet zone kept so phones scan it)."""
    # qrcode pulls in Pillow (~90 ms, most of it ImageFont): paid by the first QR, not each cold start.
    import qrcode
    from qrcode import ERROR_CORRECT_L

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_image(text: str) -> dict[str, str]:
    """Return the API's `{contentType, base64}` object for a QR string."""
    return {"contentType": CONTENT_TYPE, "base64": base64.b64encode(qr_png(text)).decode()}
