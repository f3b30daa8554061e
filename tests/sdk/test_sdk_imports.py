"""Import stays light: `import mnist_infer` loads no onnxruntime, no model; nothing loads torch."""

from __future__ import annotations

import subprocess
import sys


def python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_mnist_infer_is_light() -> None:
    code = (
        "import sys, mnist_infer\n"
        "print(sorted(m for m in ('onnxruntime', 'torch', 'PIL', 'numpy') if m in sys.modules))\n"
        "print(mnist_infer.__version__, 'Classifier' in dir(mnist_infer))"
    )
    modules, version = python(code).splitlines()
    assert modules == "[]"
    assert version.split()[1] == "True"


def test_onnxruntime_loads_on_first_use_and_torch_never() -> None:
    code = (
        "import sys, numpy as np, mnist_infer\n"
        "cls = mnist_infer.Classifier\n"
        "print('onnxruntime' in sys.modules)\n"
        "print(cls().predict(np.zeros((28, 28), np.uint8)) in range(10))\n"
        "from mnist_infer import cli, preprocess, load_image, Prediction, ModelInfo\n"
        "print('torch' in sys.modules)"
    )
    assert python(code).splitlines() == ["True", "True", "False"]


def test_unknown_attribute_is_an_attribute_error() -> None:
    code = (
        "import mnist_infer\n"
        "try:\n"
        "    mnist_infer.nope\n"
        "except AttributeError as error:\n"
        "    print(error)"
    )
    assert python(code) == "module 'mnist_infer' has no attribute 'nope'"


def test_every_public_name_is_what_its_name_says() -> None:
    """No module shares its name with a public function, so importing modules changes nothing."""
    code = (
        "import numpy as np, types\n"
        "import mnist_infer.frontend.framing, mnist_infer.frontend.pipeline\n"
        "import mnist_infer.frontend.decode\n"
        "import mnist_infer\n"
        "from mnist_infer import preprocess, load_image\n"
        "print(callable(preprocess), not isinstance(preprocess, types.ModuleType))\n"
        "print(preprocess is mnist_infer.frontend.pipeline.preprocess,"
        " load_image is mnist_infer.frontend.decode.load_image)\n"
        "print(preprocess(np.zeros((28, 28), np.uint8)).shape)"
    )
    assert python(code).splitlines() == ["True True", "True True", "(28, 28)"]
