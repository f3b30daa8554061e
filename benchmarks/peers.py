"""The peers a user would find, side by side with ``mnist-infer predict``, on the same files.

Renders one folder of realistic-suite files (mixed rows, ``benchmarks/realistic_images.py``)
and classifies it with each recognizer in turn, in one run, the rounds interleaved so that
machine load hits all alike; prints accuracy and files per second for each.

* ``mnist-infer predict --json FOLDER``: the whole command, start-up and model load included
  (what a user waits for), with its default worker processes.
* ``digit-recognizer-py`` (a torch CNN behind a plain 28x28 resize): ``DigitRecognizer.predict``
  on each file, its public API (it has no batch call).
* ``ccexam`` (a torch CNN, its MNIST model, a plain resize): ``InferenceFactory.create("mnist")``
  then ``predict_batch(paths, batch_size=64)``.

The peers' rates are measured inside their process after the model is loaded and one file has
been classified (start-up excluded, which favours them). They need torch, so they run in a side
environment, never in the project's (they pin odd versions, hence ``--no-deps``)::

    python -m venv .venv-peers
    .venv-peers/bin/pip install torch==2.14.1 torchvision==0.29.1 pillow numpy
    .venv-peers/bin/pip install --no-deps digit-recognizer-py ccexam
    python benchmarks/peers.py --peers-python .venv-peers/bin/python            # 2,000 files
    python benchmarks/peers.py --peers-python .venv-peers/bin/python --files 200 --rounds 1

Files are rendered from MNIST test digits (``--split``), as the suite's report is; nothing here
is tuned.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from realistic_images import VARIATIONS, render_mixed  # the module beside this one

from train.data import load_mnist

CLI = str(Path(sys.executable).with_name("mnist-infer"))

#: Runs inside the peers' environment: classify the files listed in argv[2] with peer argv[1];
#: print {"seconds": ..., "digits": [...]} (seconds after loading and one warm-up file).
DRIVER = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
peer, listing = sys.argv[1], sys.argv[2]
paths = [line for line in open(listing).read().splitlines() if line]
if peer == "digit-recognizer-py":
    from digit_recognizer import DigitRecognizer
    recognizer = DigitRecognizer(device="cpu")
    recognizer.predict(paths[0])
    start = time.perf_counter()
    digits = [int(recognizer.predict(path)) for path in paths]
elif peer == "ccexam":
    from ccexam.inference import InferenceFactory
    inference = InferenceFactory.create("mnist", device="cpu")
    inference.predict(paths[0])
    start = time.perf_counter()
    digits = [int(d) for d in inference.predict_batch(paths, batch_size=64)]
else:
    raise SystemExit("unknown peer " + peer)
print(json.dumps({"seconds": time.perf_counter() - start, "digits": digits}))
"""

PEERS = ("digit-recognizer-py", "ccexam")


def run_ours(folder: Path, paths: list[str]) -> tuple[float, list[int | None]]:
    """Wall seconds of ``mnist-infer predict --json FOLDER`` and its digit per path."""
    start = time.perf_counter()
    done = subprocess.run([CLI, "predict", "--json", str(folder)], capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"mnist-infer failed: {done.stderr.decode()[-2000:]}")
    answers = {}
    for line in done.stdout.decode().splitlines():
        record = json.loads(line)
        answers[record["path"]] = record.get("digit")
    return seconds, [answers.get(path) for path in paths]


def run_peer(python: str, peer: str, listing: Path) -> tuple[float, list[int | None]]:
    """In-process seconds of one peer on the listed files, and its digit per file."""
    done = subprocess.run(
        [python, "-c", DRIVER, peer, str(listing)], capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{peer} failed: {done.stderr.decode()[-2000:]}")
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return float(result["seconds"]), list(result["digits"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers-python", required=True, help="python of the peers' venv")
    parser.add_argument("--files", type=int, default=2000, help="suite files to render")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--split", choices=("test", "val"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mnist-infer-peers-") as temporary:
        folder = Path(temporary) / "files"
        folder.mkdir()
        data = load_mnist(None)
        images = data.test_images if args.split == "test" else data.val_images
        labels = data.test_labels if args.split == "test" else data.val_labels
        truth = render_mixed(folder, args.files, images, labels, args.seed)
        paths = sorted(truth)
        listing = Path(temporary) / "files.txt"
        listing.write_text("\n".join(paths) + "\n")
        sizes = [max(int(v) for v in _size(p)) for p in paths[:200]]
        print(
            f"{len(paths)} files of {len(VARIATIONS)} suite rows ({args.split} digits), longer "
            f"side median {statistics.median(sizes):.0f} px; {args.rounds} interleaved rounds"
        )
        seconds: dict[str, list[float]] = {"mnist-infer predict": [], **{p: [] for p in PEERS}}
        digits: dict[str, list[int | None]] = {}
        for _ in range(args.rounds):
            took, digits["mnist-infer predict"] = run_ours(folder, paths)
            seconds["mnist-infer predict"].append(took)
            for peer in PEERS:
                took, digits[peer] = run_peer(args.peers_python, peer, listing)
                seconds[peer].append(took)

    truths = [truth[path] for path in paths]
    rates = {name: len(paths) / statistics.median(times) for name, times in seconds.items()}
    fastest_peer = max(rates[peer] for peer in PEERS)
    print(f"{'recognizer':<22}{'accuracy':>10}{'files/s':>10}{'vs fastest peer':>18}")
    for name in seconds:
        correct = sum(d == label for d, label in zip(digits[name], truths, strict=True))
        print(
            f"{name:<22}{100 * correct / len(paths):9.2f}%{rates[name]:10.0f}"
            f"{rates[name] / fastest_peer:17.2f}x"
        )
    print(
        "mnist-infer: the whole command (start-up, model load, worker processes); "
        "peers: in their process after loading and one warm-up file."
    )


def _size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


if __name__ == "__main__":
    main()
