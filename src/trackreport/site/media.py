"""Images logged with ``log_image``: per key, one site file per step, for the compare page
and the run page's image rows."""

from __future__ import annotations

from collections.abc import Iterable

from ..records import ArtifactRecord
from .previews import COPY_LIMIT, IMAGE_LIMIT, is_image, keeps_name, site_paths


def image_steps(run_dir: str, records: Iterable[ArtifactRecord]
                ) -> dict[str, list[tuple[int, ArtifactRecord, str]]]:
    """Image key -> ``[(step, artifact, site path), ...]`` sorted by step, for the images
    a page can show.

    Only images the site copies under their own name (PNG, JPEG and other inert
    raster files up to the preview size limit) count; at a step logged twice
    (two processes), the first logged wins. ``run_dir`` is ``runs/<run_id>``;
    the site paths are the ones the run page copies the files to.
    """
    records = list(records)
    paths = site_paths(run_dir, records)
    out: dict[str, dict[int, tuple[ArtifactRecord, str]]] = {}
    for record in records:
        image = record.image
        if not isinstance(image, dict):
            continue
        key, step = image.get("key"), image.get("step")
        if not isinstance(key, str) or not isinstance(step, int) or isinstance(step, bool):
            continue
        if not (is_image(record.path, record.media_type)
                and keeps_name(record.path, record.media_type)
                and record.size <= min(COPY_LIMIT, IMAGE_LIMIT)):
            continue
        out.setdefault(key, {}).setdefault(step, (record, paths[record.path][0]))
    return {key: [(step, *steps[step]) for step in sorted(steps)]
            for key, steps in sorted(out.items())}
