"""The Twilio double accepts as many connections at once as the workers open (a bench or chaos run's
two worker processes open up to a hundred together), so a send never times out on the double's accept
queue instead of on a fault the test asked for."""

from __future__ import annotations

import select
import socket

from careline.messaging.testing.twilio_double import _Handler, _Server

CONNECTIONS = 200


def test_connections_opened_at_once_all_complete_before_any_is_accepted() -> None:
    server = _Server(("127.0.0.1", 0), _Handler)  # listening, nothing accepting yet
    clients: list[socket.socket] = []
    try:
        for _ in range(CONNECTIONS):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(server.server_address)
            clients.append(client)
        pending = set(clients)
        connected = 0
        while pending:
            # A handshake the kernel dropped (accept queue full) is retried only after a second or more.
            _, writable, _ = select.select([], list(pending), [], 0.5)
            if not writable:
                break
            for client in writable:
                pending.discard(client)
                if client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
        assert connected == CONNECTIONS
    finally:
        for client in clients:
            client.close()
        server.server_close()
