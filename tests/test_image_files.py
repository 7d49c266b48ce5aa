"""Image files as untrusted input: one decoding rule for every mode and depth, a pixel limit.

``classify``, the image-folder source and ``evaluate``'s folders all read files through
:func:`edge_arasl.preprocess.read_image_file`; these tests make real files with Pillow.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_arasl.cli import main
from edge_arasl.errors import UserError
from edge_arasl.preprocess import MAX_IMAGE_PIXELS, read_image_file
from edge_arasl.sources.images import ImageFolder

#: Gray levels 0..255 as a 16x16 ramp, the 8-bit truth every deeper file below encodes.
RAMP = np.arange(256, dtype=np.uint8).reshape(16, 16)
COLOUR = np.dstack([RAMP, RAMP[::-1], np.full_like(RAMP, 77)])  # RGB


def _save(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path


def sixteen_bit(path: Path, image: np.ndarray = RAMP) -> Path:
    return _save(Image.fromarray(image.astype(np.uint16) * 257), path)  # 255 -> 65535


#: name -> (file maker, the gray or BGR array it must decode to)
FILES = {
    "L.png": (lambda p: _save(Image.fromarray(RAMP), p), RAMP),
    "I16.png": (sixteen_bit, RAMP),
    "I32.tif": (lambda p: _save(Image.fromarray(RAMP.astype(np.int32) * 257), p), RAMP),
    "F.tif": (lambda p: _save(Image.fromarray(RAMP.astype(np.float32) / 255), p), RAMP),
    "LA.png": (lambda p: _save(Image.fromarray(RAMP).convert("LA"), p), RAMP),
    "RGB.png": (lambda p: _save(Image.fromarray(COLOUR), p), COLOUR[:, :, ::-1]),
    "RGBA.png": (lambda p: _save(Image.fromarray(COLOUR).convert("RGBA"), p), COLOUR[:, :, ::-1]),
    "P.png": (
        lambda p: _save(
            Image.fromarray(COLOUR).quantize(256, method=Image.Quantize.MAXCOVERAGE), p
        ),
        None,  # a palette of 256 colours need not hold all 256 of the ramp: compared below
    ),
    "CMYK.tif": (lambda p: _save(Image.fromarray(COLOUR).convert("CMYK"), p), COLOUR[:, :, ::-1]),
}


@pytest.mark.parametrize("name", FILES)
def test_every_mode_decodes_to_8_bit_gray_or_bgr(tmp_path, name):
    make, expected = FILES[name]
    path = make(tmp_path / name)
    image = read_image_file(path)
    assert image.dtype == np.uint8
    if expected is None:  # palette: exactly the palette's colours, in BGR
        with Image.open(path) as original:
            expected = np.asarray(original.convert("RGB"))[:, :, ::-1]
    np.testing.assert_array_equal(image, expected)


def test_16_bit_scale_is_fixed_not_stretched_to_the_image(tmp_path):
    """A dark 16-bit frame stays dark (its own maximum does not become white)."""
    dark = np.full((8, 8), 257 * 10, dtype=np.uint16)
    Image.fromarray(dark).save(tmp_path / "dark.png")
    np.testing.assert_array_equal(read_image_file(tmp_path / "dark.png"), np.full((8, 8), 10))


def test_image_folder_and_classify_read_a_16_bit_file_as_its_8_bit_twin(tmp_path, capfd):
    folder = tmp_path / "frames"
    folder.mkdir()
    dim = RAMP // 2  # not the full range: a per-image stretch would brighten it
    sixteen_bit(folder / "a16.png", dim)
    Image.fromarray(dim).save(tmp_path / "a8.png")
    source = ImageFolder(folder)
    source.open()
    np.testing.assert_array_equal(source.read().image, read_image_file(tmp_path / "a8.png"))
    assert main(["classify", str(folder / "a16.png"), str(tmp_path / "a8.png")]) == 0
    first, second = capfd.readouterr().out.splitlines()
    assert first.split("\t")[1:] == second.split("\t")[1:]


def big_png(path: Path, width: int, height: int) -> Path:
    """A valid all-black gray PNG, compressed row by row (the file stays small)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then black pixels
    rows = 1000
    idat = b"".join(packer.compress(row * rows) for _ in range(height // rows))
    idat += packer.compress(row * (height % rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with path.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat))
        f.write(chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """20000 x 20000 pixels: 400 MB decoded, 400 kB on disk."""
    return big_png(tmp_path_factory.mktemp("bomb") / "bomb.png", 20000, 20000)


def test_a_file_over_the_pixel_limit_is_refused_before_decoding(tmp_path, bomb):
    side = int(MAX_IMAGE_PIXELS**0.5) + 1  # just over the limit, under Pillow's own guard
    with pytest.raises(UserError, match=rf"over\.png: {side}x{side} is more than .* pixels"):
        read_image_file(big_png(tmp_path / "over.png", side, side))
    with pytest.raises(UserError, match=r"bomb\.png: more than \d+ pixels, too big to read"):
        read_image_file(bomb)


#: Runs ``main()`` and writes its peak memory (kB) as the last line on stderr: VmHWM, which
#: starts afresh at exec (ru_maxrss would keep the forking test process's size).
WITH_PEAK_MEMORY = (
    "import re, sys; from edge_arasl.cli import main; code = main(sys.argv[1:]); "
    "status = open('/proc/self/status').read(); "
    "print(re.search(r'VmHWM:\\s+(\\d+) kB', status)[1], file=sys.stderr); sys.exit(code)"
)


def test_classify_refuses_the_bomb_in_little_memory_and_reads_the_rest(tmp_path, bomb):
    Image.fromarray(RAMP).save(tmp_path / "ok.png")
    result = subprocess.run(
        [sys.executable, "-c", WITH_PEAK_MEMORY, "classify", str(bomb), str(tmp_path / "ok.png")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    *errors, peak_kb = result.stderr.strip().splitlines()
    assert errors == [
        f"edge-arasl: error: {bomb}: more than {MAX_IMAGE_PIXELS} pixels, too big to read"
    ]
    assert int(peak_kb) < 1_000_000  # decoding it would take 400 MB gray, 1.2 GB as BGR
    assert result.stdout.startswith(f"{tmp_path / 'ok.png'}\t")


def test_image_folder_refuses_the_bomb_naming_it(bomb):
    source = ImageFolder(bomb.parent)
    source.open()
    with pytest.raises(UserError, match=r"bomb\.png: more than"):
        source.read()


def test_damaged_and_non_image_files_name_the_file(tmp_path):
    good = sixteen_bit(tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "text.png").write_text("not an image")
    for name in ("cut.png", "text.png"):
        with pytest.raises(UserError, match=rf"{name}: not a readable image"):
            read_image_file(tmp_path / name)
    with pytest.raises(UserError, match=r"missing\.png: no such file"):
        read_image_file(tmp_path / "missing.png")
