"""A TCP relay on 127.0.0.1 in front of a test server, switched off and on like the Wi-Fi in a dead corner: off,
its port refuses every connection and the ones open are cut (the server is really unreachable, not a browser
flag); on again, the same port (a service worker's origin includes it) reaches the server again."""

from __future__ import annotations

import socket
import threading


class Relay:
    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.host, self.target_port = host, target_port
        probe = socket.socket()
        probe.bind((host, 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def on(self) -> Relay:
        if self._listener is not None:
            return self
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def off(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown first: close() alone leaves the port listening until the thread blocked in accept() takes
            # one more connection (Linux), and that one would still reach the server
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            open_now, self._open = self._open, set()
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _address = listener.accept()
            except OSError:
                return  # switched off
            try:
                upstream = socket.create_connection((self.host, self.target_port))
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self._open.update((downstream, upstream))
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            source.close()  # the other direction's thread closes the other end
