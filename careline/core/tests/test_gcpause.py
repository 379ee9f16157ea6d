"""`cyclic_gc_paused` turns the cyclic collector off for its block and back to what it was after."""

from __future__ import annotations

import gc

import pytest

from careline.core.gcpause import cyclic_gc_paused

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures read the database


def test_the_collector_is_off_inside_and_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():  # nested: the inner block leaves it off
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="inside"), cyclic_gc_paused():
        raise ValueError("inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()
