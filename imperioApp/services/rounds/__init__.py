"""Rounds: playing a game, from stake to settlement, and recalling it afterwards.

Decides the one path that writes every step of every round (`settlement`), each solo game's
steps (`play`) and a player's rounds as read back (`recall`).

May import: protection, engagement, identity, money, core.
"""
