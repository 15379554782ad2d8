"""Protection: responsible gaming, what a player set to protect themselves.

Decides the periods limits count in (`periods`), the refusals every path shares and the
settlement's stake check (`enforcement`) and the player's own limits, exclusions and reality
check (`settings`).

May import: identity, money, core (not engagement, its peer).
"""
