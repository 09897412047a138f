"""A loopback TCP relay that can drop a connection part-way, as a failing network does.

    relay = CutRelay(upstream_port); ... relay.cut(2000) ...; relay.heal(); relay.stop()

Every connection to relay.port is relayed to 127.0.0.1:upstream_port. After cut(N), until
heal(), each new connection is closed (both ways) once N bytes have come back from the
server: a search answered in the middle of its results loses the rest.
"""
import socket
import threading

from conftest import free_port


class CutRelay:
    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.port = free_port()
        self.uri = "ldap://127.0.0.1:%d" % self.port
        self._cut = None
        self.cuts = 0  # connections dropped so far
        self._lock = threading.Lock()
        self._srv = socket.create_server(("127.0.0.1", self.port))
        self._srv.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self, nbytes):
        with self._lock:
            self._cut = nbytes

    def heal(self):
        with self._lock:
            self._cut = None

    def stop(self):
        self._stop = True
        self._thread.join(timeout=5)
        self._srv.close()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self._srv.accept()
            except socket.timeout:
                continue
            with self._lock:
                budget = self._cut
            try:
                u = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                c.close()
                continue
            threading.Thread(target=self._pump, args=(c, u, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, budget), daemon=True).start()

    def _pump(self, src, dst, budget):
        src.settimeout(None)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if budget is not None and len(data) >= budget:
                    dst.sendall(data[:budget])
                    with self._lock:
                        self.cuts += 1
                    break
                if budget is not None:
                    budget -= len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
