"""One Classifier shared by 8 threads gives exactly what one thread gets."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from mnist_infer import Classifier

THREADS = 8


def test_eight_threads_share_one_classifier(classifier: Classifier, tmp_path: Path, draw) -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8) for n in (1, 7, 300, 2500)]
    files = []
    for index, digit in enumerate((0, 3, 7, 3, 0, 7, 7, 3)):
        path = tmp_path / f"{index}.png"
        draw.digit(digit).save(path)
        files.append(path)
    jobs = [*arrays, *files, files[:4], [arrays[0][0], files[5]]] * 3

    expected = [classifier.predict_proba(job) for job in jobs]  # one thread
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in range(3):
            results = list(pool.map(classifier.predict_proba, jobs))
            for got, want in zip(results, expected, strict=True):
                np.testing.assert_array_equal(got, want)
