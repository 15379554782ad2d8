"""Identity: who a player is and whether they may act.

Decides sign-up and the account rules (`accounts`: suspension, the admin role), password
hashing (`passwords`), sliding-window limits (`throttle`, its state in `throttle_store`),
verifying tokens and who a request is (`tokens`), login sessions (`sessions`), the password
check and its brute-force budget (`login`) and the pages' cookie sessions (`browser_sessions`).

May import: money, core.
"""
