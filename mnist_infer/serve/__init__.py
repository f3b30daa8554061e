"""The HTTP face of mnist-infer: a FastAPI app with a JSON API and a draw-a-digit page.

``create_app(ServeSettings(...))`` builds the app; ``mnist-infer serve`` runs it with uvicorn.
FastAPI and uvicorn come with the ``serve`` extra.
"""

from mnist_infer.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> object:
    """``create_app`` imports FastAPI: only on first use, so the settings stay light."""
    if name == "create_app":
        from mnist_infer.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'mnist_infer.serve' has no attribute {name!r}")
