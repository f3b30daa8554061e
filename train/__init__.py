"""Training package for the mnist-infer model: data, the 784-256-10 MLP, recipes, export.

Run from a checkout as ``python -m train fit|evaluate|export``; not shipped in the wheel.
"""
