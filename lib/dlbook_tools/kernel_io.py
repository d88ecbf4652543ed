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
        except Exception:  # noqa: BLE001 — never fail a student's print because of the cap
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
