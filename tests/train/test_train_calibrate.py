"""Temperature fitting finds a known temperature; ECE measures known miscalibration."""

from __future__ import annotations

import numpy as np
import torch

from train.calibrate import calibration_error, expected_calibration_error, fit_temperature


def test_fit_temperature_recovers_the_temperature_that_made_the_labels() -> None:
    generator = torch.Generator().manual_seed(0)
    true_logits = 3 * torch.randn(20_000, 10, generator=generator)
    labels = torch.multinomial(torch.softmax(true_logits, 1), 1, generator=generator).squeeze(1)
    overconfident = true_logits * 2.5  # as if divided by T = 0.4 ... so the fit must give 2.5
    assert abs(fit_temperature(overconfident, labels) - 2.5) < 0.1
    assert abs(fit_temperature(true_logits, labels) - 1.0) < 0.05


def test_ece_of_overconfident_and_calibrated_predictions() -> None:
    labels = np.zeros(1000, dtype=np.int64)
    certain = np.zeros((1000, 10))
    certain[:, 0] = 1.0
    certain[800:, 0], certain[800:, 1] = 0.0, 1.0  # 100% sure, 80% right
    assert abs(expected_calibration_error(certain, labels) - 0.2) < 1e-9
    calibrated = np.full((1000, 10), 0.2 / 9)
    calibrated[:, 0] = 0.8
    labels_80 = np.where(np.arange(1000) < 800, 0, 1)  # 80% sure, 80% right
    assert expected_calibration_error(calibrated, labels_80) < 1e-9


def test_calibration_error_weights_each_bin_by_its_size() -> None:
    confidence = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False, True, False])
    # Bin of 0.95: accuracy 0.75 (gap 0.2, 4 items); bin of 0.55: accuracy 0.5 (gap 0.05, 2 items).
    assert abs(calibration_error(confidence, correct) - (0.8 + 0.1) / 6) < 1e-12
    assert calibration_error(np.array([1.0, 1.0]), np.array([True, True])) == 0.0
    assert np.isnan(calibration_error(np.array([]), np.array([], dtype=bool)))
