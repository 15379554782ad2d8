"""Engagement: what a settled round changes besides money.

Decides statistics, leaderboards, achievements and notifications, what a settled round
records in them (`round_effects`), public profiles, and which process pushes a changed
leaderboard and when (`board_pushes`, its state in `board_push_store`).

May import: identity, money, core (not protection, its peer).
"""
