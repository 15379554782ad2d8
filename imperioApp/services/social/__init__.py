"""Social: what players do together.

Decides chat posting and moderation (`chat`), multiplayer seats (`rooms`, their state in
`room_store`) and the shared roulette table (`tables`, its betting window in `table_store`).

May import: rounds, protection, engagement, identity, money, core.
"""
