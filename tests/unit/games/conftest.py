"""Registers the marker of the long engine simulations (harmless if already registered)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "simulation: long statistical simulations of the game engines")
