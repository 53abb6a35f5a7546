"""Shared by the benchmarks: time composer, not Python's compiler."""

from __future__ import annotations


def compile_composer() -> None:
    """Compile composer's bytecode before timing it, as installing a wheel does. An
    editable install run with ``PYTHONDONTWRITEBYTECODE=1`` (as on our CI machine)
    never writes ``.pyc`` files, so every run would recompile each module: about
    0.2 s of CPU that times Python's compiler, not composer."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("composer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)
