"""RNG evidence for a test lab: collect the fairness stream and the games' outcomes, and test them.

This is analysis, not a game engine and not a service: it drives the production engines
and scaling code (`imperioApp.games`) from fresh seed pairs, writes files an external lab
can take (`collect`), and runs a statistical battery over such files at the 99 % level
(`stats`, `nist`, `dieharder`, `battery`). It needs numpy and scipy; nothing else in the
app imports it, so a server process never loads them.
"""
