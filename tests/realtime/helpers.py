"""What the realtime tests assert and step: an error answer, the end of a timed interval."""


def assert_error(sock, code, event=None):
    """The socket got exactly one error, with this code, and is still connected."""
    error = sock.error()
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    if event:
        assert error["event"] == event
    assert sock.connected
    return error


def end_interval(ticks):
    """End one interval and wait until what it woke has finished or sleeps again."""
    ticks.settle()
    ticks.tick()
    ticks.settle()
