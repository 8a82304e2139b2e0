"""Shared fixtures for the ringwire Python module's tests (run by CTest: python_module).

PYTHONPATH must name the directory holding the built module (CTest sets it to
build/<dir>/python). Every test names its segments through `segname`, unique per process and
call, and unlinked after the test whatever happened."""
import itertools
import os
import threading

import pytest

import ringwire

_counter = itertools.count()


@pytest.fixture
def segname():
    names = []

    def make():
        name = f"/rwpy-{os.getpid()}-{next(_counter)}"
        names.append(name)
        return name

    yield make
    for n in names:
        ringwire.unlink(n)


@pytest.fixture
def after():
    """after(seconds, fn): runs fn on a thread after a delay; joined at the test's end."""
    threads = []

    def run(delay, fn):
        def body():
            threading.Event().wait(delay)
            fn()

        t = threading.Thread(target=body, daemon=True)
        t.start()
        threads.append(t)
        return t

    yield run
    for t in threads:
        t.join(10)
