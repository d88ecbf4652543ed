"""Output streams of a grading kernel: each cell's stdout and stderr are capped at the source.

Loaded inside the sandboxed kernel (``--IPKernelApp.outstream_class``), so a cell that prints
gigabytes sends at most ``DLBOOK_OUTPUT_LIMIT`` characters per stream to the grader; the rest is
dropped in the kernel and a one-line note says so. The grader caps what it receives as well.
"""
from __future__ import annotations

import os

from ipykernel.iostream import OutStream

NOTE = ("\n[채점기: 출력이 너무 길어 {limit:,}자 이후는 버렸습니다 · "
        "grader: output truncated after {limit:,} characters]\n")


class CappedOutStream(OutStream):
    """An ipykernel ``OutStream`` that keeps the first ``limit`` characters of each cell's output."""

    limit = int(os.environ.get("DLBOOK_OUTPUT_LIMIT", str(1 << 20)))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dl_used: dict = {}

    def __setattr__(self, name, value):
        # IPython (>= 9) wraps ``stream.write`` during each cell to keep a copy of all output in its
        # history, which would hold every byte a runaway cell prints. The cap must stay in front.
        if name == "write":
            return
        super().__setattr__(name, value)

    def write(self, string):  # type: ignore[override]
        if not isinstance(string, str):
            return super().write(string)  # raises the usual TypeError
        try:
            key = self.parent_header.get("msg_id")
        except Exception:  # never fail a student's print because of the cap
            key = None
        used = self._dl_used.get(key, 0)
        if used > self.limit:
            return len(string)
        room = self.limit - used
        if len(string) <= room:
            self._dl_used[key] = used + len(string)
            return super().write(string)
        self._dl_used = {key: self.limit + 1}  # forget earlier cells: the dict stays small
        super().write(string[:room])
        super().write(NOTE.format(limit=self.limit))
        return len(string)


# --------------------------------------------------------------------------- the kernel's sockets
# The grader creates the kernel's five Unix sockets itself, already listening, and hands them to
# the kernel as inherited file descriptors; the directory that holds them is bound read-only into
# the sandbox. So the kernel can be connected to there but can create nothing in it: no file of the
# sandbox lives on the host's disk. ``python -m dlbook_tools.kernel_io -f CONNECTION_FILE …``
# starts an IPython kernel that binds each ipc endpoint to the descriptor listening at its path
# (ZMQ_USE_FD); an endpoint without one fails to bind (read-only), so the kernel fails closed.
def inherited_sockets() -> dict:
    """{path: fd} of the Unix sockets this process inherited (its stdio excluded)."""
    import socket

    found = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for name in names:
        fd = int(name)
        if fd < 3:
            continue
        try:
            s = socket.socket(fileno=fd)
        except OSError:
            continue
        try:
            if s.family == socket.AF_UNIX:
                where = s.getsockname()
                if isinstance(where, str) and where:
                    found[where] = fd
        except OSError:
            pass
        finally:
            s.detach()
    return found


def _use_fd(sock, url: str, fds: dict) -> None:
    import zmq

    if url.startswith("ipc://") and url[6:] in fds:
        sock.setsockopt(zmq.USE_FD, fds[url[6:]])


def main() -> None:
    import sys
    from pathlib import Path

    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher: the working directory is added back for the cells
    fds = inherited_sockets()
    from ipykernel import heartbeat
    from ipykernel.kernelapp import IPKernelApp

    hb_bind = heartbeat.Heartbeat._try_bind_socket

    def hb_try_bind(self):
        _use_fd(self.socket, f"{self.transport}://{self.ip}-{self.port}", fds)
        return hb_bind(self)

    heartbeat.Heartbeat._try_bind_socket = hb_try_bind

    class SandboxKernelApp(IPKernelApp):
        def _try_bind_socket(self, s, port):
            if self.transport == "ipc" and port > 0:
                _use_fd(s, f"ipc://{self.ip}-{port}", fds)
            return super()._try_bind_socket(s, port)

    SandboxKernelApp.launch_instance()


if __name__ == "__main__":
    main()
