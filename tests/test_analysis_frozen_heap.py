"""The analysis job keeps the heap it starts with out of the garbage collector's full collections while it runs
(app.analysis.jobs.frozen_heap), and gives it back afterwards, also when nested or when the computation fails."""

import gc
import weakref

import pytest

from app.analysis.jobs import frozen_heap

pytestmark = pytest.mark.db_independent


def test_frozen_while_computing_and_thawed_after_nested_blocks():
    # The frozen count is not fixed while a block runs: a frozen object freed by reference counting leaves it.
    # A second freeze would add every object made since the first; 10,000 are made to make that visible.
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        made_since = [{"n": n} for n in range(10_000)]
        with frozen_heap():
            assert 0 < gc.get_freeze_count() <= frozen  # the inner block does not freeze again
        # the inner block's end does not thaw what the outer block still needs frozen
        assert 0 < gc.get_freeze_count() <= frozen
        del made_since
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
