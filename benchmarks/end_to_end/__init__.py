"""The end-to-end benchmark: camera -> preprocess -> classifier on real processes and DDS.

Run it as `.venv/bin/python benchmarks/end_to_end` (see __main__.py and benchmarks/README.md).
Not called pipeline: the package has a module and an executable of that name.
"""
