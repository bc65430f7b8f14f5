"""Imports a helper needs from the project's Python, or an ImportError naming the helper and
what to install."""
import importlib
import sys


def troposphere_modules(helper, *names):
    found = []
    for name in names:
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            raise ImportError(
                "%s needs troposphere, which the project's Python (%s) does not have: install it there "
                "(pip install troposphere) or name a Python that has it in the config's `python` key"
                % (helper, sys.executable), name=name)
    return found
