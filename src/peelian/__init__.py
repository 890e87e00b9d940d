"""peelian: crime and serious-violence prevention analytics for UK police forces.

The name is Peel's principle: the test of police efficiency is the absence of crime and
disorder, not the visible evidence of police action.

Layers (see ``docs/architecture.md``): vocabulary (``schemas``, ``offences``, ``errors``) <-
``config`` <- ``data`` <- ``analysis`` <- ``casework`` <- surfaces (``reports``, ``web``, ``cli``).
Nothing connects, reads files or touches the network at import time.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
