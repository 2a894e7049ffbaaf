"""The analysis job keeps the heap it starts with out of the garbage collector's full collections while it runs
(app.analysis.jobs.frozen_heap), and gives it back afterwards, also when nested or when the computation fails."""

import gc
import weakref

import pytest

from app.analysis.jobs import frozen_heap

pytestmark = pytest.mark.db_independent


def test_frozen_while_computing_and_thawed_after_nested_blocks():
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with frozen_heap():
            assert gc.get_freeze_count() == frozen
        # the inner block's end does not thaw what the outer block still needs frozen
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


class Node:
    pass


def test_thawed_when_the_computation_fails_and_an_old_cycle_is_collected_after():
    node = Node()
    node.itself = node  # a reference cycle made before the computation: only the cyclic collector frees it
    alive = weakref.ref(node)
    with pytest.raises(RuntimeError), frozen_heap():
        del node
        gc.collect()
        assert alive() is not None  # frozen: left alone while the job runs
        raise RuntimeError("the computation failed")
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None
