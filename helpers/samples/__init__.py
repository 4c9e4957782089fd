"""Seeded generators of the sample businesses, with the ground truth planted in them.

``generate(name, out_dir)`` writes a complete business folder: ``business.yaml``, the data files
and ``truth.json``, which records every planted effect (parameters, ids involved, and what a
correct analysis should find). harbor_coffee and bloom_yoga write ``data/`` (one file per canonical
table); summit_outdoor writes ``exports/`` (native platform exports: Shopify, Mailchimp, Meta Ads,
Google Ads, GA4). The same name, scale and seed always give byte-identical files.

>>> from helpers.samples import generate
>>> generate("harbor_coffee", "/tmp/harbor")          # doctest: +SKIP
PosixPath('/tmp/harbor')
"""

from __future__ import annotations

import importlib
from pathlib import Path

SAMPLES = ("harbor_coffee", "bloom_yoga", "summit_outdoor")


def generate(name: str, out_dir: str | Path, *, scale: float = 1, seed: int | None = None) -> Path:
    """Write sample business ``name`` into ``out_dir``.

    Parameters
    ----------
    name : str
        One of ``SAMPLES``.
    out_dir : str or Path
        The business folder to write (created if missing; files in it are overwritten).
    scale : float, default 1
        Multiplies the number of customers and leads (and so orders, events, spend), keeping the
        time span; ``1`` is the committed sample.
    seed : int, optional
        Random seed; each business has its own fixed default.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ValueError
        When ``name`` is not a known sample, or ``scale`` is not positive.
    """
    if name not in SAMPLES:
        raise ValueError(
            f"Unknown sample business {name!r}; valid names are: {', '.join(SAMPLES)}."
        )
    if not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}.")
    module = importlib.import_module(f"helpers.samples.{name}")
    return module.generate(Path(out_dir), scale=float(scale), seed=seed)


def regenerate_all(root: str | Path = "sample_data") -> list[Path]:
    """Rewrite every sample business at scale 1 with its default seed into ``root/<name>``."""
    return [generate(name, Path(root) / name) for name in SAMPLES]


__all__ = ["SAMPLES", "generate", "regenerate_all"]
