"""Send each rerun's reply at once: TCP_NODELAY on the server's sockets (Streamlit 1.67 fix).

Streamlit 1.67 binds its listening socket as ``socket.socket(family)``, protocol 0, and
asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP: every websocket it
accepts keeps Nagle's algorithm on. A rerun's elements, sent right after the rerun's first
small messages, then wait for the browser's delayed ACK: about 40 ms more per interaction,
measured over the real websocket by ``bench/rerun.py`` (README, "Performance"). Linux copies
TCP_NODELAY from a listening socket to the sockets it accepts, so setting it once on the
process's TCP sockets (the listener and the connections already open) fixes every session.
Elsewhere (no /proc) it does nothing; ``LAB_TCP_NODELAY=0`` in the environment turns it
off (for the benchmark's "before").
"""

from __future__ import annotations

import os
import socket

_done = False


def tcp_nodelay_everywhere() -> int:
    """Set TCP_NODELAY on every TCP socket of this process; returns how many were set."""
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    count = 0
    for name in descriptors:
        try:
            duplicate = os.dup(int(name))
        except (OSError, ValueError):
            continue
        try:
            sock = socket.socket(fileno=duplicate)          # refuses what is not a socket
        except OSError:
            os.close(duplicate)
            continue
        with sock:                                          # closes the duplicate only
            if sock.family in (socket.AF_INET, socket.AF_INET6) \
                    and sock.type == socket.SOCK_STREAM:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    count += 1
                except OSError:
                    pass
    return count


def send_replies_at_once() -> None:
    """Once per server process (the first run of any page): see the module docstring."""
    global _done
    if not _done:
        _done = True
        if os.environ.get("LAB_TCP_NODELAY", "1") != "0":
            tcp_nodelay_everywhere()
