"""Lua scripts run atomically on the app's Redis: the building block for shared state."""


class LuaScript:
    """A script registered lazily with whichever Redis client runs it (EVALSHA, EVAL on a miss)."""

    def __init__(self, source):
        self.source = source
        self._script = None

    def __call__(self, client, keys, args):
        """Run the script on `client` with KEYS and ARGV."""
        script = self._script
        if script is None or script.registered_client is not client:
            script = self._script = client.register_script(self.source)
        return script(keys=keys, args=args)
