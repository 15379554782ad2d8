"""A serving process exempts its loaded objects from collection and collects less often."""

import gc

import pytest

from imperioApp.collector import freeze_loaded_objects


@pytest.fixture
def restored_collector():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_loaded_objects_are_frozen_and_the_threshold_applied(app, restored_collector):
    freeze_loaded_objects(app.config["GC_THRESHOLD"])
    assert gc.get_freeze_count() > 1000  # the app's modules, routes and schemas
    assert gc.get_threshold() == app.config["GC_THRESHOLD"] == (10000, 20, 50)


def test_an_empty_threshold_keeps_pythons_own(restored_collector):
    before = gc.get_threshold()
    freeze_loaded_objects(())
    assert gc.get_threshold() == before
