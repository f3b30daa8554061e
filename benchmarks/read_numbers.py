"""Reading written numbers: ``mnist-infer read`` and RapidOCR on the same files, in one run.

Renders numbers of 1 to 8 MNIST digits (``benchmarks/number_images.py``: five spacing classes
from wide to overlapping, equal and natural heights, slanted and upright, seven styles) into one
folder, numbers of USPS digits (other writers) into another, and a few hostile lines, and reads
them with:

* ``mnist-infer read --json FOLDER``: the real command in a subprocess, one call for the whole
  folder, timed wall-clock (start-up and model load included: what a user waits for);
* RapidOCR (``rapidocr_onnxruntime``, its PP-OCR models), in a side environment's python
  (``--rapidocr-python``, or ``$RAPIDOCR_PYTHON``; skipped with a note when neither is given),
  timed inside its process after loading and one warm-up file. Only the digits of the text it
  recognises are kept, its text boxes taken left to right. ``--rapidocr-count N`` has it read
  the first N numbers only (it is slow): ``read`` is then also scored on those N, in its own
  columns; a multiple of 280 keeps the classes balanced.

Printed, as Markdown tables: sequence accuracy (the whole number right), per-digit accuracy and
the share read with the right number of digits, overall, per spacing class (numbers of 2-8
digits: a single digit has no spacing; the touching class also split by whether every pair's
strokes meet, see ``number_images.py``), per height mode, slant, length and style, and for the
USPS numbers; images per second, on the whole folder and on a separate folder of 4-digit
numbers (``--four-count``, read ``--speed-rounds`` times, the median printed), in wall seconds
and in CPU seconds (the command and its worker processes: what a loaded machine inflates less);
``SeveralDigitsError``: ``mnist-infer predict --json`` on the multi-digit numbers (the share
refused as several digits) and on ``--single-count`` files of the single-digit realistic suite
(``benchmarks/realistic_images.py``, its rows taking turns), and ``read`` on those same
single-digit files against ``predict``; what ``read`` and ``predict`` answer for each hostile
line (30 identical bars, an underline alone, a solid rectangle, "3.14", a column of digits, a
strip of 100 digits); and, with ``--before CHECKOUT``, ``predict``'s files per second on the
single-digit suite with this checkout's ``mnist_infer`` and with that one's, rounds taking turns.

Definitions:

* **sequence accuracy**: the digits read are exactly the number's digits;
* **per-digit accuracy**: ``1 - sum(min(edits, n)) / sum(n)`` over the numbers, where ``n`` is a
  number's count of digits and ``edits`` the edit distance (insertions, deletions,
  substitutions) from its digits to the digits read; a refused file has all its digits wrong;
* **position accuracy** (for the numbers read with the right count of digits only): the share
  of their digits right position by position;
* a file **refused as several digits**: ``predict`` gave an error line whose message names
  several digits (it contains "digits" and "read");
* ``read`` **agrees** with ``predict`` on a single-digit file when both give the same digit, or
  both give no digit (an error line, or ``read``'s empty text).

Digits: ``--split val`` draws MNIST validation digits (the 5,000 ``train.data`` holds out, for
choosing), ``--split test`` test digits (for the report). Every file is a function of
(``--seed``, its index): number ``k`` has style ``k % 7``, spacing class ``(k // 7) % 5`` (a
comb field is written one digit per cell, so its numbers are spaced ones), length
``1 + (k // 35) % 8`` and height mode ``(k // 280) % 2``, so every block of 560 numbers holds
each style, spacing class, length and height mode alike; the slant (upright for 40%, else
-0.15 to 0.45) and the digit height (28-100 px) are drawn. Nothing here is tuned on the
report's files.

    python benchmarks/read_numbers.py --split val --count 280                # a quick look
    python benchmarks/read_numbers.py --split test --count 1120 \\
        --rapidocr-python /tmp/rapidocr-venv/bin/python --before ../main       # the report

The RapidOCR environment::

    python -m venv /tmp/rapidocr-venv && /tmp/rapidocr-venv/bin/pip install rapidocr_onnxruntime
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from number_images import HEIGHT_MODES, SPACINGS, STYLES, number_rng, write_number
from PIL import Image
from realistic_images import Rendered, pen_shape, render_mixed  # beside this one

CLI: Final = str(Path(sys.executable).with_name("mnist-infer"))
STYLE_NAMES: Final = tuple(STYLES)
LENGTHS: Final = (1, 2, 3, 4, 5, 6, 7, 8)
#: Digit height in pixels (the 20-pixel box of each MNIST digit), drawn per number.
HEIGHTS: Final = (28.0, 100.0)
#: Share of upright numbers; the others lean by a slant drawn from ``SLANTS``.
UPRIGHT: Final = 0.4
SLANTS: Final = (-0.15, 0.45)
#: The list of a folder's numbers, written beside them.
MANIFEST: Final = "manifest.json"
#: Index offsets of the 4-digit speed folder and of the USPS numbers: numbers of their own.
FOUR_DIGIT_BASE: Final = 1_000_000
USPS_BASE: Final = 2_000_000
#: Small numbers (2-4 digits 12-24 px tall, as "012" at 62x30) start here: ``predict`` must
#: refuse them as several digits too.
SMALL_BASE: Final = 3_000_000
SMALL_HEIGHTS: Final = (12.0, 24.0)
#: The "must show" thresholds, printed beside the measured figures.
TARGETS: Final = {
    "sequence": 0.97,
    "spaced": 0.98,
    "close": 0.97,
    "touching": 0.94,
    "length": 0.93,
    "per_digit": 0.994,
    "usps": 0.92,
    "several_multi": 0.99,
    "several_single": 0.002,
    "not_digit_single": 0.003,
    "four_digit_rate": 300.0,
    "predict_speed_ratio": 0.9,
}

#: Runs in RapidOCR's environment: read the files listed in argv[1]; print one JSON line
#: {"load_seconds", "texts", "seconds", "cpu_seconds"} (per-file wall seconds after loading and
#: one warm-up file, and the process's CPU seconds over them; a text is null where RapidOCR
#: raised on the file).
RAPIDOCR_DRIVER: Final = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
started = time.perf_counter()
from rapidocr_onnxruntime import RapidOCR
paths = [line for line in open(sys.argv[1]).read().splitlines() if line]
engine = RapidOCR()
engine(paths[0])
load_seconds = time.perf_counter() - started
texts, seconds = [], []
cpu_started = time.process_time()
for path in paths:
    start = time.perf_counter()
    try:
        result, _ = engine(path)
    except Exception:  # a file it cannot take counts as refused (null), not as a crash
        result = None
        texts.append(None)
    seconds.append(time.perf_counter() - start)
    if len(texts) < len(seconds):
        boxes = sorted(result or [], key=lambda r: min(point[0] for point in r[0]))
        texts.append("".join(c for r in boxes for c in str(r[1]) if c in "0123456789"))
cpu_seconds = time.process_time() - cpu_started
print(json.dumps({"load_seconds": load_seconds, "texts": texts, "seconds": seconds,
                  "cpu_seconds": cpu_seconds}))
"""


# --- the numbers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What number ``index`` is: its length, spacing class, style, heights, slant and digits."""

    index: int
    length: int
    spacing: str
    style: str
    height: float
    digits: tuple[int, ...]  # indices into the split's images
    heights: str = "natural"
    slant: float = 0.0


def plan_number(seed: int, index: int, split_size: int, length: int | None = None) -> Plan:
    """Number ``index``'s plan (classes cycle with the index; the rest from ``number_rng``)."""
    return _draw_plan(index, number_rng(seed, index), split_size, length)


def _draw_plan(index: int, rng: np.random.Generator, split_size: int, length: int | None) -> Plan:
    styles, spacings = len(STYLE_NAMES), len(SPACINGS)
    style = STYLE_NAMES[index % styles]
    spacing = "spaced" if style == "comb" else SPACINGS[(index // styles) % spacings]
    block = styles * spacings
    small = index >= SMALL_BASE
    if length is None:
        length = 2 + index % 3 if small else LENGTHS[(index // block) % len(LENGTHS)]
    heights = HEIGHT_MODES[(index // (block * len(LENGTHS))) % len(HEIGHT_MODES)]
    height = float(rng.uniform(*(SMALL_HEIGHTS if small else HEIGHTS)))
    digits = tuple(int(d) for d in rng.integers(split_size, size=length))
    slant = 0.0 if rng.random() < UPRIGHT or style == "comb" else float(rng.uniform(*SLANTS))
    return Plan(index, length, spacing, style, height, digits, heights, slant)


@dataclass(frozen=True)
class NumberFile:
    """A rendered number: its plan, its true digits and the file to write."""

    plan: Plan
    text: str
    suffix: str  # the file's: ".png" or ".jpg"
    merged: tuple[bool, ...] = ()  # touching numbers: per neighbouring pair, strokes meet
    writers: str = "mnist"  # whose digits: "mnist" or "usps"
    #: The picture, when rendered in this run (None: read back from a kept folder's manifest).
    rendered: Rendered | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The file name: index, style, spacing class and digits."""
        p = self.plan
        return f"{p.index:07d}_{self.writers}_{p.style}_{p.spacing}_{self.text}{self.suffix}"


def render_number(
    seed: int,
    index: int,
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.uint8],
    length: int | None = None,
    writers: str = "mnist",
) -> NumberFile:
    """Render number ``index``: a function of (seed, index, length) and the split alone."""
    rng = number_rng(seed, index)
    plan = _draw_plan(index, rng, len(images), length)  # as plan_number, then the drawing
    number, rendered = write_number(
        [images[d] for d in plan.digits],
        [int(labels[d]) for d in plan.digits],
        plan.spacing,
        plan.style,
        rng,
        height=plan.height,
        heights=plan.heights,
        slant=plan.slant,
    )
    return NumberFile(plan, number.text, rendered.suffix, number.merged, writers, rendered)


def render_folder(
    folder: Path,
    indices: Iterable[int],
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.uint8],
    seed: int,
    length: int | None = None,
    writers: str = "mnist",
) -> dict[str, NumberFile]:
    """Write the numbers into ``folder``; {file name: number}.

    The numbers are also listed in ``folder/manifest.json``, so a kept folder can be read again
    without rendering (``kept_numbers``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, NumberFile] = {}
    for index in indices:
        number = render_number(seed, index, images, labels, length, writers)
        assert number.rendered is not None
        number.rendered.save(folder / number.name)
        written[number.name] = number
    listed = kept_numbers(folder) if (folder / MANIFEST).exists() else {}
    listed.update(written)
    records = {
        name: {"plan": asdict(n.plan), "text": n.text, "suffix": n.suffix,
               "merged": list(n.merged), "writers": n.writers}
        for name, n in listed.items()
    }  # fmt: skip
    (folder / MANIFEST).write_text(json.dumps(records) + "\n")
    return written


def kept_numbers(folder: Path) -> dict[str, NumberFile]:
    """The numbers a kept folder's manifest lists: {file name: number}."""
    numbers: dict[str, NumberFile] = {}
    for name, record in json.loads((folder / MANIFEST).read_text()).items():
        plan = Plan(**{**record["plan"], "digits": tuple(record["plan"]["digits"])})
        numbers[name] = NumberFile(
            plan, record["text"], record["suffix"], tuple(record["merged"]), record["writers"]
        )
    return numbers


# --- scoring ----------------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions turning ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def digit_errors(truth: str, read: str | None) -> int:
    """The digits of ``truth`` counted wrong in ``read``: edits, at most ``len(truth)``."""
    return len(truth) if read is None else min(edit_distance(truth, read), len(truth))


def digits_only(text: str) -> str:
    """The ASCII digits of ``text``, in order."""
    return "".join(c for c in text if c in "0123456789")


@dataclass(frozen=True)
class Score:
    """Accuracy of one group of readings (``nan`` where the group is empty)."""

    n: int
    sequence: float
    per_digit: float
    length_right: float
    position: float  # per-digit by position, numbers read with the right count of digits only
    refused: int


def score(pairs: Sequence[tuple[str, str | None]]) -> Score:
    """Score (truth, read) pairs; ``read`` is None where the reader refused the file."""
    if not pairs:
        nan = float("nan")
        return Score(0, nan, nan, nan, nan, 0)
    digits = sum(len(truth) for truth, _ in pairs)
    same_length = [(t, r) for t, r in pairs if r is not None and len(r) == len(t)]
    position_digits = sum(len(t) for t, _ in same_length)
    position_right = sum(a == b for t, r in same_length for a, b in zip(t, r, strict=True))
    return Score(
        n=len(pairs),
        sequence=sum(read == truth for truth, read in pairs) / len(pairs),
        per_digit=1.0 - sum(digit_errors(t, r) for t, r in pairs) / max(digits, 1),
        length_right=len(same_length) / len(pairs),
        position=position_right / position_digits if position_digits else float("nan"),
        refused=sum(read is None for _, read in pairs),
    )


def several_digits(error: str | None) -> bool:
    """Whether an error line is the several-digits refusal (it names digits and points to read)."""
    if error is None:
        return False
    lowered = error.lower()
    return "digits" in lowered and "read" in lowered


def agrees(predicted: int | None, read: str | None) -> bool:
    """``read`` agrees with ``predict`` on a single digit: the same digit, or neither gives one."""
    if predicted is None:
        return not read
    return read == str(predicted)


# --- the readers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliRun:
    """One ``mnist-infer`` command: wall and CPU seconds, and its JSON lines by file name."""

    seconds: float
    cpu_seconds: float  # user + system, the command and its worker processes
    lines: dict[str, dict[str, Any]]


def run_cli(arguments: list[str], checkout: Path | None = None) -> CliRun:
    """Run ``mnist-infer ARGUMENTS``, timed wall-clock and in CPU time.

    With ``checkout``, that folder's ``mnist_infer`` is imported instead (``PYTHONPATH``).
    """
    env = None
    if checkout is not None:
        env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([CLI, *arguments], capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode not in (0, 1):
        raise RuntimeError(f"mnist-infer {arguments[0]} failed: {done.stderr[-2000:]}")
    lines = {}
    for line in done.stdout.splitlines():
        if line.strip():
            record = json.loads(line)
            lines[Path(record["path"]).name] = record
    return CliRun(seconds, cpu, lines)


def run_rapidocr(python: str, paths: list[Path], listing: Path) -> dict[str, Any]:
    """RapidOCR on ``paths`` in its own environment: {"load_seconds", "texts", "seconds"}."""
    listing.write_text("".join(f"{path}\n" for path in paths))
    done = subprocess.run(
        [python, "-c", RAPIDOCR_DRIVER, str(listing)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"RapidOCR failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def read_texts(lines: dict[str, dict[str, Any]], names: Iterable[str]) -> dict[str, str | None]:
    """``read``'s text per file name; None for an error line or a file with no line."""
    out: dict[str, str | None] = {}
    for name in names:
        record = lines.get(name, {})
        out[name] = str(record["text"]) if "text" in record else None
    return out


# --- the report -------------------------------------------------------------------------------


def percent(value: float, digits: int = 2) -> str:
    """A share as a percentage, ``-`` when undefined."""
    return "-" if value != value else f"{100 * value:.{digits}f}%"


def markdown(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def groups(numbers: dict[str, NumberFile]) -> list[tuple[str, list[str]]]:
    """The table's rows: (title, file names) overall, per spacing, heights, slant, length and
    style; then the USPS numbers, overall and per spacing."""
    names = [n for n in numbers if numbers[n].writers == "mnist"]
    rows: list[tuple[str, list[str]]] = [("**all numbers**", names)]
    for spacing in SPACINGS:
        rows.append(
            (
                f"spacing: {spacing} (2-8 digits)",
                [
                    n
                    for n in names
                    if numbers[n].plan.spacing == spacing and numbers[n].plan.length > 1
                ],
            )
        )
    touching = [n for n in names if numbers[n].plan.spacing == "touching" and numbers[n].merged]
    rows.append(
        (
            "... touching, every pair's strokes merged",
            [n for n in touching if all(numbers[n].merged)],
        )
    )
    rows.append(
        (
            "... touching, some pair's strokes apart (boxes overlapping)",
            [n for n in touching if not all(numbers[n].merged)],
        )
    )
    for mode in HEIGHT_MODES:
        rows.append((f"heights: {mode}", [n for n in names if numbers[n].plan.heights == mode]))
    rows.append(("upright", [n for n in names if numbers[n].plan.slant == 0.0]))
    rows.append(("slanted right (slant > 0.2)", [n for n in names if numbers[n].plan.slant > 0.2]))
    rows.append(("slanted left", [n for n in names if numbers[n].plan.slant < 0.0]))
    for length in LENGTHS:
        rows.append((f"length {length}", [n for n in names if numbers[n].plan.length == length]))
    for style in STYLE_NAMES:
        rows.append((f"style: {style}", [n for n in names if numbers[n].plan.style == style]))
    usps = [n for n in numbers if numbers[n].writers == "usps"]
    rows.append(("**USPS numbers**", usps))
    for spacing in SPACINGS:
        rows.append(
            (
                f"USPS, {spacing} (2-8 digits)",
                [
                    n
                    for n in usps
                    if numbers[n].plan.spacing == spacing and numbers[n].plan.length > 1
                ],
            )
        )
    return [(title, members) for title, members in rows if members]


def accuracy_table(
    numbers: dict[str, NumberFile],
    readers: dict[str, dict[str, str | None]],
) -> tuple[str, dict[str, dict[str, dict[str, Any]]]]:
    """The accuracy table (Markdown) and its figures {reader: {group: score}}.

    ``readers`` maps a reader to its text per file name (None: refused), each over the files it
    read: a reader that read only some of the files is scored on those (its own ``n``).
    """
    header = ["numbers"]
    for reader in readers:
        header += [f"{reader}: n", "sequence", "per digit", "length right", "refused"]
    rows: list[list[str]] = []
    figures: dict[str, dict[str, dict[str, Any]]] = {reader: {} for reader in readers}
    for title, members in groups(numbers):
        row = [title]
        for reader, texts in readers.items():
            result = score([(numbers[n].text, texts[n]) for n in members if n in texts])
            figures[reader][title] = asdict(result)
            row += [
                str(result.n),
                percent(result.sequence),
                percent(result.per_digit),
                percent(result.length_right, 1),
                str(result.refused),
            ]
        rows.append(row)
    return markdown(header, rows), figures


@dataclass(frozen=True)
class SingleDigitFigures:
    """``predict`` and ``read`` on the single-digit suite."""

    n: int
    several: int  # predict refused the file as several digits
    not_digit: int  # predict refused the file as not a digit
    agree: int
    both_none: int
    predict_right: int
    read_right: int


def single_digit_figures(
    truth: dict[str, int],
    predicted_lines: dict[str, dict[str, Any]],
    read_lines: dict[str, dict[str, Any]],
) -> SingleDigitFigures:
    """Score ``predict`` and ``read`` on single-digit files against the truth and each other."""
    names = list(truth)
    predicted = {n: predicted_lines.get(n, {}).get("digit") for n in names}
    texts = read_texts(read_lines, names)
    return SingleDigitFigures(
        n=len(names),
        several=sum(several_digits(predicted_lines.get(n, {}).get("error")) for n in names),
        not_digit=sum(
            "not a digit" in str(predicted_lines.get(n, {}).get("error", "")) for n in names
        ),
        agree=sum(agrees(predicted[n], texts[n]) for n in names),
        both_none=sum(predicted[n] is None and not texts[n] for n in names),
        predict_right=sum(predicted[n] == truth[n] for n in names),
        read_right=sum(texts[n] == str(truth[n]) for n in names),
    )


def must_show_rows(
    overall: dict[str, Any],
    by_group: dict[str, dict[str, Any]],
    several_multi: float,
    single: SingleDigitFigures,
    four_rate: float,
    predict_ratio: float,
) -> list[list[str]]:
    """The "must show" figures beside their targets."""
    nan = float("nan")

    def sequence(group: str) -> float:
        return float(by_group.get(group, {}).get("sequence", nan))

    figures: list[tuple[str, float, str, str]] = [
        ("sequence accuracy, overall", overall["sequence"], "sequence", ">="),
        ("sequence accuracy, spaced", sequence("spacing: spaced (2-8 digits)"), "spaced", ">="),
        ("sequence accuracy, close", sequence("spacing: close (2-8 digits)"), "close", ">="),
        ("sequence accuracy, touching", sequence("spacing: touching (2-8 digits)"),
         "touching", ">="),
        ("sequence accuracy, the worst length (1-8)",
         min((sequence(f"length {n}") for n in LENGTHS), default=nan), "length", ">="),
        ("per-digit accuracy", overall["per_digit"], "per_digit", ">="),
        ("sequence accuracy, USPS numbers", sequence("**USPS numbers**"), "usps", ">="),
        ("SeveralDigitsError on the multi-digit numbers", several_multi, "several_multi", ">="),
        ("SeveralDigitsError on the single-digit suite", single.several / single.n,
         "several_single", "<="),
        ("NotADigitError on the single-digit suite", single.not_digit / single.n,
         "not_digit_single", "<="),
    ]  # fmt: skip
    rows = []
    for title, value, key, sense in figures:
        target = TARGETS[key]
        met = value >= target if sense == ">=" else value <= target
        verdict = "-" if value != value else _yes(met)  # nan: no such numbers in this run
        rows.append([title, percent(value), f"{sense} {percent(target, 1)}", verdict])
    rows.append(
        ["`read` right as often as `predict`, single-digit suite",
         f"{single.read_right} vs {single.predict_right}", ">=",
         _yes(single.read_right >= single.predict_right)]
    )  # fmt: skip
    target = TARGETS["four_digit_rate"]
    rows.append(
        [
            "4-digit images/s, `mnist-infer read` (whole command)",
            f"{four_rate:.0f}",
            f">= {target:.0f}",
            _yes(four_rate >= target),
        ]
    )
    target = TARGETS["predict_speed_ratio"]
    rows.append(
        [
            "`predict` files/s, this checkout over --before",
            "-" if predict_ratio != predict_ratio else f"{predict_ratio:.2f}x",
            f">= {target:.1f}x",
            "-" if predict_ratio != predict_ratio else _yes(predict_ratio >= target),
        ]
    )
    return rows


# --- hostile lines ----------------------------------------------------------------------------


def hostile_lines(
    images: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8], seed: int
) -> dict[str, tuple[str, Rendered]]:
    """Lines no reader should answer with a confident number: {file name: (what, image)}.

    Dark ink on light paper, PNG: 30 identical bars, an underline alone, a solid rectangle,
    "3.14" (digits with a point), a column of four digits, and a strip of 100 digits.
    """
    rng = np.random.default_rng([seed, 31337])
    height = 40.0

    def digit_ink(k: int) -> npt.NDArray[np.float64]:
        return np.asarray(pen_shape(images[k], height), dtype=np.float64)

    def page(ink: npt.NDArray[np.float64]) -> Rendered:
        ink = np.pad(ink, 20)
        grey = (1.0 - 0.9 * np.clip(ink, 0.0, 1.0)) * 255.0 + 0.5
        return Rendered(Image.fromarray(grey.astype(np.uint8), mode="L"), ".png")

    def side_by_side(parts: list[npt.NDArray[np.float64]], gap: int) -> npt.NDArray[np.float64]:
        tall = max(part.shape[0] for part in parts)
        width = sum(part.shape[1] for part in parts) + gap * (len(parts) - 1)
        line = np.zeros((tall, width))
        x = 0
        for part in parts:
            h, w = part.shape
            line[tall - h : tall, x : x + w] = np.maximum(line[tall - h : tall, x : x + w], part)
            x += w + gap
        return line

    bar = np.ones((48, 5))
    picks = [int(k) for k in rng.integers(len(images), size=100)]
    found = {d: int(np.flatnonzero(labels == d)[seed % 50]) for d in (1, 3, 4)}
    point = np.zeros((10, 10))
    yy, xx = np.mgrid[0:10, 0:10]
    point[(yy - 4.5) ** 2 + (xx - 4.5) ** 2 <= 16] = 1.0
    column_digits = [int(k) for k in rng.integers(len(images), size=4)]
    column_parts = [digit_ink(k) for k in column_digits]
    column_w = max(part.shape[1] for part in column_parts)
    column = np.concatenate(
        [np.pad(part, ((4, 4), (0, column_w - part.shape[1]))) for part in column_parts]
    )
    lines = {
        "bars": ("30 identical bars", side_by_side([bar] * 30, 14)),
        "underline": ("an underline alone", np.ones((5, 400))),
        "rectangle": ("a solid rectangle", np.ones((60, 140))),
        "pi": (
            f"3.14 ({labels[found[3]]}, a point, {labels[found[1]]}, {labels[found[4]]})",
            side_by_side([digit_ink(found[3]), point, digit_ink(found[1]), digit_ink(found[4])], 8),
        ),
        "column": (
            "a column of 4 digits (" + "".join(str(int(labels[k])) for k in column_digits) + ")",
            column,
        ),
        "strip100": (
            "a strip of 100 digits (" + "".join(str(int(labels[k])) for k in picks[:8]) + "...)",
            side_by_side([digit_ink(k) for k in picks], 10),
        ),
    }
    return {f"hostile_{key}.png": (what, page(ink)) for key, (what, ink) in lines.items()}


def outcome_text(record: dict[str, Any]) -> str:
    """What one JSON line says, in a table cell: the text or digit, or the error's class."""
    if "text" in record:
        return f"`{record['text']}` ({100 * float(record['confidence']):.0f}%)"
    if "digit" in record:
        return f"{record['digit']} ({100 * float(record['confidence']):.0f}%)"
    error = str(record.get("error", "no line"))
    return error.split(": ", 1)[-1][:90].replace("|", "/")


def speed_row(title: str, files: int, seconds: float, cpu_seconds: float) -> list[str]:
    """One row of the speed table."""
    return [
        title,
        str(files),
        f"{seconds:.2f}",
        f"{files / seconds:.1f}",
        f"{cpu_seconds:.1f}",
        f"{1000 * cpu_seconds / files:.1f}",
    ]


def _median_run(runs: Sequence[CliRun]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the median run by wall seconds."""
    run = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    return run.seconds, run.cpu_seconds


def _median_rate(runs: Sequence[CliRun], files: int) -> float:
    """Files per second of the median run."""
    return files / _median_run(runs)[0]


def _kept(
    root: Path,
) -> tuple[dict[str, NumberFile], dict[str, NumberFile], dict[str, NumberFile], dict[str, int]]:
    """The numbers, small numbers, 4-digit numbers and single digits a kept folder holds."""
    single = {
        path.name: int(path.stem.rsplit("_", 1)[1])
        for path in sorted((root / "single").iterdir())
        if path.suffix in (".png", ".jpg")
    }
    return (
        kept_numbers(root / "numbers"),
        kept_numbers(root / "small"),
        kept_numbers(root / "four_digits"),
        single,
    )


def _usps(folder: Path | None, notes: list[str]) -> tuple[Any, Any] | None:
    """USPS digits in MNIST framing (images, labels), or None with a note when not found."""
    from train.data import DataError, load_usps

    try:
        data = load_usps(folder)
    except DataError as error:
        notes.append(f"USPS numbers skipped: {error}")
        return None
    return data.images, data.labels


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--count", type=int, default=1120, help="numbers to render and read")
    parser.add_argument("--usps-count", type=int, default=280, help="numbers of USPS digits")
    parser.add_argument("--usps-dir", type=Path, default=None, help="USPS (or USPS_DATA_DIR)")
    parser.add_argument("--four-count", type=int, default=2000, help="4-digit numbers, for speed")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="a checkout whose mnist_infer `predict` is timed against this one's",
    )
    parser.add_argument("--single-count", type=int, default=2000, help="single-digit suite files")
    parser.add_argument(
        "--small-count", type=int, default=140, help="small numbers of 2-4 digits, for predict"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--speed-rounds", type=int, default=3, help="reads of the 4-digit folder (median)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="mnist-infer worker processes (its --jobs)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="read the files an earlier run kept in --keep again instead of rendering them",
    )
    parser.add_argument(
        "--rapidocr-python",
        default=os.environ.get("RAPIDOCR_PYTHON"),
        help="python of the RapidOCR environment [default: $RAPIDOCR_PYTHON; none: skipped]",
    )
    parser.add_argument(
        "--rapidocr-count",
        type=int,
        default=None,
        help="RapidOCR reads the first N numbers only [default: all]; `read` is then also"
        " scored on those N",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="MNIST (or MNIST_DATA_DIR)")
    parser.add_argument("--report", type=Path, default=None, help="JSON report path")
    args = parser.parse_args(argv)
    if args.reuse and args.keep is None:
        parser.error("--reuse reads the files of --keep: give --keep too")
    if min(args.count, args.four_count, args.single_count, args.speed_rounds) < 1:
        parser.error("--count, --four-count, --single-count and --speed-rounds must be >= 1")

    from train.data import load_mnist

    data = load_mnist(args.data_dir)
    images = data.test_images if args.split == "test" else data.val_images
    labels = data.test_labels if args.split == "test" else data.val_labels
    workers = [] if args.workers is None else ["--jobs", str(args.workers)]
    notes: list[str] = []
    usps = _usps(args.usps_dir, notes) if args.usps_count > 0 else None
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="read-numbers-") as temporary:
        root = args.keep if args.keep is not None else Path(temporary)
        started = time.perf_counter()
        if args.reuse:
            numbers, small, four, single_truth = _kept(root)
            notes.append(f"the files of {root} were read again, not rendered in this run")
        else:
            numbers = render_folder(root / "numbers", range(args.count), images, labels, args.seed)
            if usps is not None:
                usps_indices = range(USPS_BASE, USPS_BASE + args.usps_count)
                numbers.update(
                    render_folder(root / "numbers", usps_indices, *usps, args.seed, writers="usps")
                )
            small_indices = range(SMALL_BASE, SMALL_BASE + args.small_count)
            small = render_folder(root / "small", small_indices, images, labels, args.seed)
            four_indices = range(FOUR_DIGIT_BASE, FOUR_DIGIT_BASE + args.four_count)
            four = render_folder(root / "four_digits", four_indices, images, labels, args.seed, 4)
            (root / "single").mkdir(parents=True, exist_ok=True)
            mixed = render_mixed(root / "single", args.single_count, images, labels, args.seed)
            single_truth = {Path(path).name: label for path, label in mixed.items()}
        hostile = hostile_lines(images, labels, args.seed)
        (root / "hostile").mkdir(parents=True, exist_ok=True)
        for name, (_, rendered) in hostile.items():
            rendered.save(root / "hostile" / name)
        render_seconds = time.perf_counter() - started
        print(
            f"{len(numbers)} numbers, {len(four)} 4-digit numbers and {len(single_truth)}"
            f" single-digit suite files from MNIST {args.split} digits (seed {args.seed}),"
            f" rendered in {render_seconds:.0f} s; running mnist-infer",
            file=sys.stderr,
        )
        read_run = run_cli(["read", "--json", *workers, str(root / "numbers")])
        four_runs = [
            run_cli(["read", "--json", *workers, str(root / "four_digits")])
            for _ in range(args.speed_rounds)
        ]
        predict_lines = run_cli(["predict", "--json", *workers, str(root / "numbers")]).lines
        small_predict = run_cli(["predict", "--json", str(root / "small")]).lines
        small_read = run_cli(["read", "--json", str(root / "small")]).lines
        predict_single = ["predict", "--json", *workers, str(root / "single")]
        # With --before, its rounds and this checkout's take turns; either way the first of this
        # checkout's runs gives the single-digit figures.
        predict_runs: list[CliRun] = []
        before_runs: list[CliRun] = []
        for _ in range(args.speed_rounds if args.before is not None else 1):
            if args.before is not None:
                before_runs.append(run_cli(predict_single, args.before))
            predict_runs.append(run_cli(predict_single))
        single_predict = predict_runs[0].lines
        single_read = run_cli(["read", "--json", *workers, str(root / "single")]).lines
        hostile_read = run_cli(["read", "--json", str(root / "hostile")]).lines
        hostile_predict = run_cli(["predict", "--json", str(root / "hostile")]).lines
        rapidocr: dict[str, Any] | None = None
        ocr_names = list(numbers)[: args.rapidocr_count]
        if args.rapidocr_python:
            print(f"running RapidOCR on {len(ocr_names)} numbers", file=sys.stderr)
            rapidocr = run_rapidocr(
                args.rapidocr_python,
                [root / "numbers" / name for name in ocr_names],
                root / "rapidocr_files.txt",
            )
        else:
            notes.append(
                "RapidOCR skipped: no --rapidocr-python and no RAPIDOCR_PYTHON (the python of"
                " an environment with rapidocr_onnxruntime installed)."
            )
    load_after = os.getloadavg()[0]

    read_lines = read_run.lines
    four_lines = four_runs[0].lines
    four_run = sorted(four_runs, key=lambda run: run.seconds)[len(four_runs) // 2]  # median
    four_seconds = four_run.seconds
    readers: dict[str, dict[str, str | None]] = {"read": read_texts(read_lines, numbers)}
    if rapidocr is not None:
        readers["RapidOCR"] = dict(zip(ocr_names, rapidocr["texts"], strict=True))
        if len(ocr_names) < len(numbers):
            readers["read, RapidOCR's files"] = {n: readers["read"][n] for n in ocr_names}
    table, figures = accuracy_table(numbers, readers)
    four_texts = read_texts(four_lines, four)
    four_score = score([(four[n].text, four_texts[n]) for n in four])
    four_rate = len(four) / four_seconds

    rounds = f", median of {len(four_runs)}" if len(four_runs) > 1 else ""
    speed_rows = [
        speed_row("`mnist-infer read --json`, the numbers folder (whole command)",
                  len(numbers), read_run.seconds, read_run.cpu_seconds),
        speed_row(f"`mnist-infer read --json`, the 4-digit folder (whole command{rounds})",
                  len(four), four_run.seconds, four_run.cpu_seconds),
    ]  # fmt: skip
    if len(four_runs) > 1:
        notes.append(
            "4-digit folder, wall seconds of each round: "
            + ", ".join(f"{run.seconds:.2f}" for run in four_runs)
        )
    if rapidocr is not None:
        seconds = [float(x) for x in rapidocr["seconds"]]
        cpu_share = float(rapidocr["cpu_seconds"]) / sum(seconds)
        fours = [i for i, n in enumerate(ocr_names) if numbers[n].plan.length == 4]
        speed_rows.append(
            speed_row("RapidOCR, its numbers (in its process, loaded and warmed up)",
                      len(ocr_names), sum(seconds), float(rapidocr["cpu_seconds"]))
        )  # fmt: skip
        if fours:
            four_sum = sum(seconds[i] for i in fours)
            speed_rows.append(
                speed_row("RapidOCR, the 4-digit numbers among those (same run; CPU pro rata)",
                          len(fours), four_sum, four_sum * cpu_share)
            )  # fmt: skip
        notes.append(
            f"RapidOCR's start-up (import, model load, one warm-up file),"
            f" {rapidocr['load_seconds']:.1f} s, is not counted; `mnist-infer`'s is."
        )

    predict_ratio = float("nan")
    if before_runs:
        after_rate = _median_rate(predict_runs, len(single_truth))
        before_rate = _median_rate(before_runs, len(single_truth))
        predict_ratio = after_rate / before_rate
        speed_rows += [
            speed_row(f"`mnist-infer predict --json`, single-digit suite, --before ({args.before})",
                      len(single_truth), *_median_run(before_runs)),
            speed_row("`mnist-infer predict --json`, single-digit suite, this checkout",
                      len(single_truth), *_median_run(predict_runs)),
        ]  # fmt: skip
    multi = [n for n in numbers if numbers[n].plan.length > 1]
    small_texts = read_texts(small_read, small)
    multi_errors = [predict_lines.get(n, {}).get("error") for n in multi]
    multi_several = sum(several_digits(e) for e in multi_errors)
    multi_other = sum(e is not None and not several_digits(e) for e in multi_errors)
    multi_digit = sum("digit" in predict_lines.get(n, {}) for n in multi)
    several_multi = multi_several / max(len(multi), 1)
    single = single_digit_figures(single_truth, single_predict, single_read)
    several_rows = [
        ["`predict` on the multi-digit numbers (2-8 digits): refused as several digits",
         str(len(multi)), percent(several_multi), f">= {percent(TARGETS['several_multi'], 0)}"],
        ["`predict` on small numbers (2-4 digits 12-24 px tall): refused as several digits",
         str(len(small)), percent(sum(several_digits(small_predict.get(n, {}).get("error"))
                                      for n in small) / max(len(small), 1)), ""],
        ["`read` on those small numbers: the whole number right", str(len(small)),
         percent(sum(small_texts[n] == small[n].text for n in small) / max(len(small), 1)),
         ""],
        ["`predict` on the multi-digit numbers: another error", str(len(multi)),
         percent(multi_other / max(len(multi), 1)), ""],
        ["`predict` on the multi-digit numbers: a digit given", str(len(multi)),
         percent(multi_digit / max(len(multi), 1)), ""],
        ["`predict` on the single-digit suite: refused as several digits", str(single.n),
         percent(single.several / single.n), f"<= {percent(TARGETS['several_single'], 1)}"],
        ["`predict` on the single-digit suite: refused as not a digit", str(single.n),
         percent(single.not_digit / single.n),
         f"<= {percent(TARGETS['not_digit_single'], 1)}"],
        ["`read` agrees with `predict` on the single-digit suite", str(single.n),
         percent(single.agree / single.n), ""],
        ["... of which neither gives a digit", str(single.n), str(single.both_none), ""],
        ["`predict` right on the single-digit suite", str(single.n),
         percent(single.predict_right / single.n), ""],
        ["`read` right on the single-digit suite (its text is the digit)", str(single.n),
         percent(single.read_right / single.n), ""],
    ]  # fmt: skip
    overall = figures["read"]["**all numbers**"]

    print(
        f"## Reading numbers: {len(numbers)} numbers of MNIST {args.split} digits"
        f" (seed {args.seed}); {os.cpu_count()} cores, load average {load_before:.1f} before,"
        f" {load_after:.1f} after\n"
    )
    print(table + "\n")
    print(
        f"`read` on the 4-digit folder ({len(four)} numbers): sequence"
        f" {percent(four_score.sequence)}, per digit {percent(four_score.per_digit)}."
        f" `read`'s position accuracy (the numbers read with the right count of digits):"
        f" {percent(overall['position'])}.\n"
    )
    header = ["speed", "files", "wall seconds", "files/s", "CPU seconds", "CPU ms per file"]
    print(markdown(header, speed_rows) + "\n")
    print(markdown(["SeveralDigitsError, and `read` on single digits", "files", "measured",
                    "target"], several_rows) + "\n")  # fmt: skip
    hostile_rows = [
        [name, what, outcome_text(hostile_read.get(name, {})),
         outcome_text(hostile_predict.get(name, {}))]
        for name, (what, _) in hostile.items()
    ]  # fmt: skip
    print(markdown(["hostile line", "what", "`read` gives", "`predict` gives"], hostile_rows))
    print()
    must = must_show_rows(overall, figures["read"], several_multi, single, four_rate, predict_ratio)
    print(markdown(["must show", "measured", "target", "met"], must) + "\n")
    for note in notes:
        print(f"Note: {note}")

    payload = {
        "split": args.split,
        "seed": args.seed,
        "counts": {"numbers": len(numbers), "four": len(four), "single": single.n,
                   "rapidocr": len(ocr_names) if rapidocr is not None else 0},
        "figures": figures,
        "four_digit": {"seconds": four_seconds, "rate": four_rate, **asdict(four_score)},
        "read_seconds": read_run.seconds,
        "read_cpu_seconds": read_run.cpu_seconds,
        "four_digit_rounds": [[run.seconds, run.cpu_seconds] for run in four_runs],
        "rapidocr_seconds": None if rapidocr is None else float(sum(rapidocr["seconds"])),
        "several_digits": {"multi": multi_several, "multi_other": multi_other,
                           "multi_digit": multi_digit, "multi_n": len(multi)},
        "single": asdict(single),
        "hostile": {name: {"what": what, "read": hostile_read.get(name),
                           "predict": hostile_predict.get(name)}
                    for name, (what, _) in hostile.items()},
        "predict_speed": {"before": [[r.seconds, r.cpu_seconds] for r in before_runs],
                          "after": [[r.seconds, r.cpu_seconds] for r in predict_runs],
                          "ratio": predict_ratio},
        "load_average": [load_before, load_after],
        "render_seconds": render_seconds,
        "read_wrong": [
            {"file": n, "truth": numbers[n].text, "read": readers["read"][n],
             "error": read_lines.get(n, {}).get("error"),
             "rapidocr": readers.get("RapidOCR", {}).get(n)}
            for n in numbers if readers["read"][n] != numbers[n].text
        ],
    }  # fmt: skip
    out = args.report or Path("runs") / f"read_numbers_{args.split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"report: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
