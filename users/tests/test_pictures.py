import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

ME = "/api/auth/me/"
pytestmark = pytest.mark.django_db


def image_bytes(fmt: str, size: tuple[int, int] = (32, 24), mode: str = "RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "red").save(buffer, format=fmt, **save)
    return buffer.getvalue()


def upload(content: bytes, name: str = "me.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares huge dimensions: decoding it would allocate width*height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 0.0)
    return image_bytes("JPEG", exif=exif.tobytes())


@pytest.mark.parametrize(
    ("fmt", "name", "content_type", "extension"),
    [
        ("JPEG", "a.jpg", "image/jpeg", ".jpg"),
        ("PNG", "a.png", "image/png", ".png"),
        ("WEBP", "a.webp", "image/webp", ".webp"),
    ],
)
def test_user_upload_picture_stores_reencoded_copy_under_random_name(
    client_for, patient, settings, fmt, name, content_type, extension
):
    response = client_for(patient).patch(
        ME, {"profile_picture": upload(image_bytes(fmt), name, content_type)}, format="multipart"
    )

    assert response.status_code == 200, response.content
    url = response.json()["profile_picture"]
    assert url.startswith("http://testserver/media/profile_pictures/")
    patient.refresh_from_db()
    stored = Path(settings.MEDIA_ROOT) / patient.profile_picture.name
    assert stored.suffix == extension
    assert len(stored.stem) == 32  # uuid4 hex, nothing of the uploaded name
    with Image.open(stored) as saved:
        assert (saved.format, saved.size) == (fmt, (32, 24))


def test_user_upload_jpeg_strips_exif_and_gps(client_for, patient, settings):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as probe:
        assert probe.getexif().get_ifd(0x8825)  # the fixture really carries GPS

    response = client_for(patient).patch(ME, {"profile_picture": upload(original)}, format="multipart")

    assert response.status_code == 200
    patient.refresh_from_db()
    data = (Path(settings.MEDIA_ROOT) / patient.profile_picture.name).read_bytes()
    with Image.open(io.BytesIO(data)) as saved:
        assert dict(saved.getexif()) == {}
        assert "exif" not in saved.info
    assert b"SpyCam" not in data
    assert b"Exif" not in data


def test_user_replace_picture_deletes_old_file(client_for, patient, settings, django_capture_on_commit_callbacks):
    client = client_for(patient)
    client.patch(ME, {"profile_picture": upload(image_bytes("PNG"), "a.png")}, format="multipart")
    patient.refresh_from_db()
    first = Path(settings.MEDIA_ROOT) / patient.profile_picture.name

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(ME, {"profile_picture": upload(image_bytes("JPEG"))}, format="multipart")

    assert response.status_code == 200
    assert not first.exists()


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_user_remove_picture_with_null(client_for, patient, fmt):
    client = client_for(patient)
    client.patch(ME, {"profile_picture": upload(image_bytes("JPEG"))}, format="multipart")

    body = {"profile_picture": None} if fmt == "json" else {"profile_picture": ""}
    response = client.patch(ME, body, format=fmt)

    assert response.status_code == 200
    assert response.json()["profile_picture"] is None
    patient.refresh_from_db()
    assert not patient.profile_picture


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (image_bytes("GIF", mode="P"), "a.gif"),
        (image_bytes("BMP"), "a.bmp"),
        (image_bytes("TIFF"), "a.tiff"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "a.svg"),
        (b"%PDF-1.4 not an image", "a.jpg"),
        (b"", "empty.jpg"),
        (image_bytes("JPEG")[:40], "truncated.jpg"),
    ],
)
def test_user_upload_non_allowed_file_returns_400(client_for, patient, content, name):
    response = client_for(patient).patch(ME, {"profile_picture": upload(content, name)}, format="multipart")

    assert response.status_code == 400
    assert "profile_picture" in response.json()
    patient.refresh_from_db()
    assert not patient.profile_picture


def test_user_upload_too_many_pixels_returns_400(client_for, patient):
    response = client_for(patient).patch(
        ME, {"profile_picture": upload(image_bytes("PNG", size=(4097, 8)), "wide.png")}, format="multipart"
    )

    assert response.status_code == 400


def test_user_upload_over_5_mib_returns_400(client_for, patient):
    big = image_bytes("JPEG") + b"\0" * (5 * 1024 * 1024)

    response = client_for(patient).patch(ME, {"profile_picture": upload(big)}, format="multipart")

    assert response.status_code == 400
    assert "5 MiB" in response.json()["profile_picture"][0]


def test_user_upload_decompression_bomb_rejected_before_decoding(client_for, patient, monkeypatch):
    bomb = png_header_only(12000, 12000)
    assert len(bomb) < 200

    def never_decode(self, *args, **kwargs):
        raise AssertionError("decoded a picture whose header was too big")

    monkeypatch.setattr(Image.Image, "load", never_decode)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", never_decode)

    response = client_for(patient).patch(ME, {"profile_picture": upload(bomb, "bomb.png")}, format="multipart")

    assert response.status_code == 400
    assert "profile_picture" in response.json()


def test_user_upload_text_instead_of_file_returns_400(client_for, patient):
    response = client_for(patient).patch(ME, {"profile_picture": "not a file"}, format="json")

    assert response.status_code == 400
