"""``python -m mnist_infer``: the same command line as the ``mnist-infer`` script."""

from mnist_infer.cli import main

main()
