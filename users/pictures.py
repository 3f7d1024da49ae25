"""Profile-picture sanitizing: accept only small JPEG/PNG/WebP images and re-encode them without metadata."""

import io
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
# Pillow format name -> (file extension, save options)
ALLOWED_FORMATS: dict[str, tuple[str, dict]] = {
    "JPEG": ("jpg", {"quality": 90, "optimize": True}),
    "PNG": ("png", {"optimize": True}),
    "WEBP": ("webp", {"quality": 90}),
}

# Pillow format -> (modes it saves as they are, mode to convert anything else to)
SAVE_MODES: dict[str, tuple[tuple[str, ...], str]] = {
    "JPEG": (("RGB", "L"), "RGB"),
    "PNG": (("RGB", "RGBA", "L", "LA"), "RGBA"),
    "WEBP": (("RGB", "RGBA"), "RGBA"),
}


def picture_clean(upload: UploadedFile) -> ContentFile:
    """Validate an uploaded picture and return a re-encoded copy under a random name.

    The size and the declared dimensions are checked from the header, before any pixel is decoded,
    so a small file that would expand to gigabytes (a decompression bomb) is refused cheaply.
    """
    if upload.size is None or upload.size > MAX_BYTES:
        raise ValidationError(f"The picture must be at most {MAX_BYTES // (1024 * 1024)} MiB.")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Image.open reads only the header; formats limits the decoders that may even look at it.
            image = Image.open(upload, formats=list(ALLOWED_FORMATS))
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError, OSError) as exc:
        raise ValidationError("Upload a JPEG, PNG or WebP image.") from exc
    with image:
        width, height = image.size
        if width > MAX_SIDE or height > MAX_SIDE or width < 1 or height < 1:
            raise ValidationError(f"The picture must be at most {MAX_SIDE}x{MAX_SIDE} pixels.")
        extension, options = ALLOWED_FORMATS[image.format]
        try:
            image.load()
            # Apply the EXIF orientation to the pixels, since the EXIF itself is about to be dropped.
            cleaned = ImageOps.exif_transpose(image)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise ValidationError("The picture is damaged and cannot be read.") from exc
        return _encode(cleaned, image.format, extension, options)


def _encode(image: Image.Image, fmt: str, extension: str, options: dict) -> ContentFile:
    keep_modes, fallback = SAVE_MODES[fmt]
    if image.mode not in keep_modes:
        image = image.convert(fallback)
    # A fresh image carries pixels only: no EXIF, GPS, XMP, ICC or text chunks from the upload.
    bare = Image.new(image.mode, image.size)
    bare.paste(image)
    buffer = io.BytesIO()
    bare.save(buffer, format=fmt, **options)
    return ContentFile(buffer.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")
