"""Copy Fashion-MNIST into data/ from Debian's `dataset-fashion-mnist` package.

Run with `make data` (or `python data/build_fashion_mnist.py`) after
`apt-get install dataset-fashion-mnist` (Debian 12 and later; MIT licence, Zalando SE 2017).
The four IDX files (60,000 training and 10,000 test images of 28x28 grey pixels, with their
labels) are copied byte for byte into `data/fashion_mnist/`, after checking the MD5 of their
decompressed contents against the ones Zalando publishes (Debian re-compressed the files, so
the .gz bytes differ from upstream but the payload does not). Their SHA-256 lines are written
into `data/SHA256SUMS`, which the loader in attention_course.data checks before use.
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bible import MANIFEST, update_manifest  # noqa: E402  (one manifest writer)

HERE = Path(__file__).resolve().parent
OUT = HERE / "fashion_mnist"
SOURCE = Path("/usr/share/datasets/fashion-mnist")

# MD5 of the decompressed files, from the README of zalandoresearch/fashion-mnist.
PAYLOAD_MD5 = {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
}


def main() -> None:
    if not SOURCE.is_dir():
        sys.exit(f"{SOURCE} is missing: install Debian's package with "
                 "`sudo apt-get install dataset-fashion-mnist`, then run `make data` again.")
    OUT.mkdir(exist_ok=True)
    sums = {}
    for name, md5 in PAYLOAD_MD5.items():
        src = SOURCE / name
        got = hashlib.md5(gzip.decompress(src.read_bytes())).hexdigest()
        if got != md5:
            sys.exit(f"{src}: decompressed MD5 {got}, Zalando publishes {md5}; "
                     "reinstall the package (`apt-get install --reinstall dataset-fashion-mnist`)")
        shutil.copyfile(src, OUT / name)
        sums[f"fashion_mnist/{name}"] = hashlib.sha256((OUT / name).read_bytes()).hexdigest()
        print(f"wrote data/fashion_mnist/{name} ({(OUT / name).stat().st_size / 1e6:.1f} MB)")
    update_manifest(sums)
    print(f"updated {MANIFEST.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
