# The Python package: `make install` puts it in $(pythondir)/k8snet (see
# AM_PATH_PYTHON in configure.ac); bindings/python/pyproject.toml builds the
# same files for pip.  A new module goes in this list (tests/python/
# test-install.sh fails when one is missing).
if HAVE_PYTHON
k8snetpydir = $(pythondir)/k8snet
k8snetpy_PYTHON = \
	bindings/python/k8snet/__init__.py \
	bindings/python/k8snet/_lib.py \
	bindings/python/k8snet/core.py \
	bindings/python/k8snet/dns.py \
	bindings/python/k8snet/hostport.py \
	bindings/python/k8snet/ipam.py \
	bindings/python/k8snet/link.py \
	bindings/python/k8snet/nat.py \
	bindings/python/k8snet/observe.py \
	bindings/python/k8snet/policy.py \
	bindings/python/k8snet/trace.py
dist_k8snetpy_DATA = bindings/python/k8snet/py.typed
endif
EXTRA_DIST += bindings/python/pyproject.toml bindings/python/README.md
