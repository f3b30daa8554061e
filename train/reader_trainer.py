"""The line reader's training loop, top to bottom: composed lines, CTC, AdamW, cosine schedule.

Each step's batch is composed from its own generator, seeded by (seed, step), so the lines
follow from the seed alone: a stopped run goes on to the same weights, and batches can be
composed ahead in a worker process without changing a number. The best step is chosen on
fixed validation lines (``train.reader_measure``).
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mnist_infer.contract import ReaderContract
from train.ctc_decode import greedy_decode
from train.data import MnistData
from train.lines import LineBatch, LineComposer, LineSet, glyphs, make_batch, mark_glyphs
from train.progress import resume_progress, write_progress
from train.reader_measure import digit_line_set, read_log_probs, sequence_accuracy
from train.reader_runs import ReaderResult, StepLog, build_reader
from train.recipes import ReaderConfig

#: Batches composed ahead of the loop by the worker process.
PREFETCH = 6


def step_batch(composer: LineComposer, config: ReaderConfig, step: int) -> LineBatch:
    """Compose the batch of ``step`` from a generator seeded by (seed, step) alone."""
    rng = np.random.default_rng([config.seed, step])
    return make_batch(composer, rng, config.batch_size)


_worker: tuple[LineComposer, ReaderConfig] | None = None


def _worker_batch(step: int) -> LineBatch:
    torch.set_num_threads(1)
    assert _worker is not None
    return step_batch(*_worker, step)


def batches(
    composer: LineComposer, config: ReaderConfig, first: int, *, prefetch: bool
) -> Iterator[LineBatch]:
    """Yield the batches of steps ``first`` to ``config.steps - 1`` in order.

    With ``prefetch`` a forked worker process composes up to ``PREFETCH`` batches ahead while
    the model trains: the same batches, in less time.
    """
    steps = range(first, config.steps)
    if not prefetch or "fork" not in multiprocessing.get_all_start_methods():
        yield from (step_batch(composer, config, step) for step in steps)
        return
    global _worker
    _worker = (composer, config)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        pending: deque[Any] = deque()
        upcoming = iter(steps)
        for step in upcoming:
            pending.append(pool.apply_async(_worker_batch, (step,)))
            if len(pending) >= PREFETCH:
                break
        while pending:
            batch = pending.popleft().get()
            following = next(upcoming, None)
            if following is not None:
                pending.append(pool.apply_async(_worker_batch, (following,)))
            yield batch
    _worker = None


def learning_rate_factor(config: ReaderConfig, step: int) -> float:
    """Linear warm-up over ``warmup_steps``, then a cosine from 1 to 0 at ``steps``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def ctc_loss(model: nn.Module, batch: LineBatch) -> torch.Tensor:
    """Mean CTC loss of a batch; every line's input length is the padded batch's columns."""
    log_probs = model(batch.images)  # [N, T, 11]
    columns = torch.full((len(log_probs),), log_probs.shape[1], dtype=torch.int64)
    return nn.functional.ctc_loss(
        log_probs.transpose(0, 1),
        batch.targets,
        columns,
        batch.target_lengths,
        blank=ReaderContract.BLANK,
        zero_infinity=True,  # a line too narrow for its digits teaches nothing, not NaN
    )


def validation_accuracy(model: nn.Module, lines: LineSet) -> float:
    """Whole lines read right by greedy decoding."""
    read = [greedy_decode(lp) for lp in read_log_probs(model, lines.images)]
    return sequence_accuracy(read, lines.labels)


def train_composer(config: ReaderConfig, data: MnistData) -> LineComposer:
    """Return the composer of training lines: MNIST training digits, training-font marks."""
    marks = mark_glyphs("train", config.lines.mark_pool, config.seed)
    return LineComposer(config.lines, glyphs(data.train_images, data.train_labels), marks)


def train_reader(
    config: ReaderConfig,
    data: MnistData,
    on_measure: Callable[[StepLog], None] | None = None,
    progress: Path | None = None,
    *,
    prefetch: bool = True,
    val_lines: LineSet | None = None,
) -> ReaderResult:
    """Train a line reader per ``config`` on lines of ``data.train_*``.

    Every ``eval_every`` steps (and at the end) it reads the validation lines (``val_lines``, by
    default ``config.val_lines`` lines of validation digits), calls ``on_measure(log)`` and keeps
    the best weights. With ``progress``, the state is written there every ``save_every`` steps,
    and a run that finds the file goes on from it to the same weights.
    """
    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = build_reader(config)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(config, step)
    )
    composer = train_composer(config, data)
    if val_lines is None:
        val_lines = digit_line_set("validation", data, config.val_lines)

    result = ReaderResult(model=model, config=config, val_sequence_accuracy=-1.0)
    best_state = copy.deepcopy(model.state_dict())
    first_step, loss_sum, loss_count = 0, 0.0, 0
    if progress is not None and progress.is_file():  # go on where a stopped run left off
        saved = resume_progress(progress, config.to_dict(), model, optimizer, schedule)
        best_state = saved["best_state"]
        result.history = [StepLog(**log) for log in saved["history"]]
        result.val_sequence_accuracy, result.best_step = saved["val_accuracy"], saved["best_step"]
        first_step, loss_sum, loss_count = saved["step"], saved["loss_sum"], saved["loss_count"]
        started -= saved["seconds"]

    for step, batch in enumerate(batches(composer, config, first_step, prefetch=prefetch),
                                 start=first_step):  # fmt: skip
        model.train()
        loss = ctc_loss(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        loss_sum, loss_count = loss_sum + float(loss.detach()), loss_count + 1
        done = step + 1
        if done % config.eval_every == 0 or done == config.steps:
            log = StepLog(
                step=done,
                train_loss=loss_sum / loss_count,
                val_sequence_accuracy=validation_accuracy(model, val_lines),
                seconds=time.perf_counter() - started,
            )
            result.history.append(log)
            loss_sum, loss_count = 0.0, 0
            if log.val_sequence_accuracy >= result.val_sequence_accuracy:  # ties: the later
                result.val_sequence_accuracy, result.best_step = log.val_sequence_accuracy, done
                best_state = copy.deepcopy(model.state_dict())
            if on_measure is not None:
                on_measure(log)
        if progress is not None and (done % config.save_every == 0 or done == config.steps):
            write_progress(progress, {
                "step": done,
                "config": config.to_dict(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "best_state": best_state,
                "history": [asdict(log) for log in result.history],
                "val_accuracy": result.val_sequence_accuracy,
                "best_step": result.best_step,
                "loss_sum": loss_sum,
                "loss_count": loss_count,
                "seconds": time.perf_counter() - started,
            })  # fmt: skip

    model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - started
    return result
