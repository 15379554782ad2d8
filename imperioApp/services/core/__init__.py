"""Core: what every rule stands on, and no rule itself.

Decides transaction boundaries (`unit_of_work`), the after-commit event bus (`events`), the
domain errors handlers map to HTTP and Socket.IO answers (`errors`) and the one keyset
pagination every history listing uses (`paging`).

May import: no other wing (only adapters, extensions, models and the pure engines).
"""
