"""The garbage collector of a serving process, tuned once the app is loaded."""

import gc


def freeze_loaded_objects(threshold):
    """Exempt everything loaded so far from collection and collect the young generation less often.

    The app's modules, routes, schemas and compiled statements live as long as the process:
    scanning them in every full collection only costs time (and a pause that lands on some
    request's latency). `threshold` is gc.set_threshold's (gen0, gen1, gen2); empty keeps
    Python's own.
    """
    gc.collect()
    gc.freeze()
    if threshold:
        gc.set_threshold(*threshold)
