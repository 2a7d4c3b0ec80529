"""Evidence photos: only real images, re-encoded upright without metadata, with a thumbnail."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image, ImageDraw

from credits.errors import ValidationError
from credits.evidence import (
    MAX_BYTES,
    MAX_EDGE,
    LocalPhotoStore,
    check_photo_count,
    clean_photo,
)

ORIENTATION, MAKE, MODEL, GPS_IFD = 0x0112, 0x010F, 0x0110, 0x8825


def two_tone(size=(400, 200), left=(220, 20, 20), right=(20, 20, 220)) -> Image.Image:
    """Left half red, right half blue: a rotation moves the colours somewhere else."""
    image = Image.new("RGB", size, right)
    ImageDraw.Draw(image).rectangle([0, 0, size[0] // 2 - 1, size[1]], fill=left)
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def camera_jpeg() -> bytes:
    """A JPEG as a phone writes it: sideways pixels, orientation 6, camera model and GPS."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # display rotated 90° clockwise
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Pocket Camera 12"
    exif[GPS_IFD] = {1: "N", 2: (30.0, 15.0, 7.5), 3: "E", 4: (120.0, 9.0, 1.25)}
    return encode(two_tone(), "JPEG", exif=exif.tobytes(), quality=95)


def dominant(pixel: tuple[int, int, int]) -> str:
    return "red" if pixel[0] > pixel[2] else "blue"


def test_the_test_photo_really_carries_gps_and_camera_model():
    original = Image.open(io.BytesIO(camera_jpeg()))
    exif = original.getexif()
    assert exif[MODEL] == "Pocket Camera 12"
    assert exif.get_ifd(GPS_IFD)[1] == "N"
    assert exif[ORIENTATION] == 6


def test_jpeg_is_turned_upright_and_loses_all_metadata():
    photo = clean_photo(camera_jpeg())
    out = Image.open(io.BytesIO(photo.data))
    assert out.format == "JPEG"
    # 400×200 stored sideways with orientation 6 shows as 200×400.
    assert out.size == (200, 400) == (photo.width, photo.height)
    rgb = out.convert("RGB")
    assert dominant(rgb.getpixel((100, 20))) == "red"  # the left half is now on top
    assert dominant(rgb.getpixel((100, 380))) == "blue"
    assert dict(out.getexif()) == {}
    assert "exif" not in out.info and "icc_profile" not in out.info and "xmp" not in out.info
    assert b"Pocket Camera" not in photo.data and b"PhoneMaker" not in photo.data


def test_png_is_accepted_and_becomes_a_jpeg_with_transparency_on_white():
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle([0, 0, 149, 99], fill=(0, 128, 0, 255))
    photo = clean_photo(encode(image, "PNG"))
    out = Image.open(io.BytesIO(photo.data)).convert("RGB")
    assert out.size == (300, 100)
    green, clear = out.getpixel((50, 50)), out.getpixel((250, 50))
    assert green[1] > 100 and green[0] < 60
    assert min(clear) > 240  # transparent parts turn white, not black


def test_webp_is_accepted():
    photo = clean_photo(encode(two_tone(), "WEBP"))
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"


def test_thumbnail_is_about_320_pixels_on_its_long_side():
    photo = clean_photo(encode(two_tone((1000, 500)), "JPEG"))
    thumb = Image.open(io.BytesIO(photo.thumb))
    assert thumb.size == (320, 160) == (photo.thumb_width, photo.thumb_height)
    assert dict(thumb.getexif()) == {}


def test_huge_photos_are_scaled_down_for_storage():
    photo = clean_photo(encode(two_tone((4000, 1000)), "JPEG", quality=60))
    assert (photo.width, photo.height) == (MAX_EDGE, MAX_EDGE // 4)


@pytest.mark.parametrize(
    "data",
    [
        b"This is a text file someone renamed to photo.jpg\n" * 20,
        b"",
        b"%PDF-1.4\n1 0 obj << >> endobj\n",
    ],
    ids=["text-renamed-jpg", "empty", "pdf"],
)
def test_files_that_are_not_images_are_refused(data):
    with pytest.raises(ValidationError):
        clean_photo(data)


def test_not_an_image_says_so():
    with pytest.raises(ValidationError) as caught:
        clean_photo(b"hello, I am plain text pretending to be a JPEG")
    assert caught.value.message.startswith("This file is not a photo")


def test_a_truncated_jpeg_is_refused():
    data = encode(two_tone((800, 600)), "JPEG")
    with pytest.raises(ValidationError):
        clean_photo(data[: len(data) // 2])


def test_a_gif_is_not_a_camera_photo():
    with pytest.raises(ValidationError):
        clean_photo(encode(two_tone(), "GIF"))


def test_more_than_10_mb_is_refused_even_when_it_is_a_real_image():
    noise = Image.frombytes("RGB", (2000, 2000), os.urandom(2000 * 2000 * 3))
    data = encode(noise, "PNG", compress_level=0)
    assert len(data) > MAX_BYTES
    Image.open(io.BytesIO(data)).verify()  # a genuine PNG
    with pytest.raises(ValidationError) as caught:
        clean_photo(data)
    assert "too large" in caught.value.message


def test_a_decompression_bomb_is_refused():
    data = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(data) < 1_000_000
    with pytest.raises(ValidationError):
        clean_photo(data)


def test_at_most_five_photos_per_claim():
    check_photo_count(5)
    with pytest.raises(ValidationError):
        check_photo_count(6)


def test_local_store_saves_reads_and_deletes(tmp_path):
    store = LocalPhotoStore(tmp_path)
    key = "7/" + "a" * 32 + ".jpg"
    store.save(key, b"jpeg bytes")
    assert (tmp_path / "7" / ("a" * 32 + ".jpg")).read_bytes() == b"jpeg bytes"
    assert store.read(key) == b"jpeg bytes"
    store.delete(key)
    assert not (tmp_path / key).exists()


@pytest.mark.parametrize("key", ["../secret_key", "7/../../x.jpg", "/etc/passwd", "7/abc.jpg"])
def test_local_store_refuses_keys_outside_its_pattern(tmp_path, key):
    with pytest.raises(ValueError):
        LocalPhotoStore(tmp_path).read(key)
