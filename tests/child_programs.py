"""Programs run as children by tests/test_child.py: ``python -m tests.child_programs WHAT --channel-fd N``."""

import os
import sys
import time

from crystallize_tui.core.child import parent_channel

if __name__ == "__main__":
    what, fd = sys.argv[1], int(sys.argv[-1])
    channel = parent_channel(fd)
    channel.send_now(("hello", os.getpid()))
    if what == "segfault":
        import ctypes

        ctypes.string_at(0)
    elif what == "exit3":
        os._exit(3)
    elif what == "outlive":  # keeps sending after the parent stopped listening, then says so
        for i in range(200):
            channel.send_now(("tick", i))
            time.sleep(0.005)
        with open(sys.argv[2], "w") as f:
            f.write(f"done closed={channel.closed}")
    elif what == "hang":
        time.sleep(600)
    channel.close()
