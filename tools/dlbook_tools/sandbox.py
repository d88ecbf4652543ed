"""The sandbox a student's code runs in while it is graded.

Each submission gets its own private scratch directory and a kernel started inside
bubblewrap (``bwrap``) with resource limits set by ``prlimit``:

* **file system** — an allow-list: ``/usr`` (and the ``/bin``, ``/lib`` links), a few files of
  ``/etc``, the Python installation and the packages on its path, all read-only. The working
  directory is an empty, size-limited tmpfs holding only the released assignment's files
  (read-only); ``/tmp``, ``/dev/shm`` and ``$HOME`` are private, size-limited tmpfs as well.
  The course directory (``source/``, the gradebook, other students' files), the repository's
  ``solutions/`` and every other scratch directory are simply not there.
* **network** — a new, empty network namespace (only its own loopback): no connection to the
  host, the internet or a database. The kernel talks to its grader over Jupyter's ``ipc``
  transport, which needs no network: the grader creates the five Unix sockets, already
  listening, and the kernel inherits them (:mod:`dlbook_tools.kernel_io`); their directory is
  bound read-only, so the kernel can be reached there but can write nothing to the host's disk.
* **processes** — new PID, IPC, UTS, cgroup and user namespaces; no capabilities; killed when
  the grader dies (``--die-with-parent``); a new session (no terminal to inject into).
* **resources** — address space (``RLIMIT_AS``), CPU seconds, largest file, no core dumps.

Time limits per cell and per notebook are kept by the grader (:mod:`dlbook_tools.grading`).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30
HOME = "/home/student"
WORK = f"{HOME}/work"


@dataclass
class Limits:
    """What one submission may use. Times in seconds, sizes in bytes."""

    cell_timeout: int = 60          # one cell
    notebook_timeout: int = 600     # the whole notebook (wall clock, kernel start included)
    memory: int = 2 * GiB           # address space of each process (RLIMIT_AS)
    disk: int = 256 * MiB           # each private tmpfs: the working directory/home, /tmp, /dev/shm
    file_size: int = 64 * MiB       # largest file a process may write (RLIMIT_FSIZE)
    output: int = 1 * MiB           # characters of stdout/stderr kept per cell and stream

    @property
    def cpu(self) -> int:
        """CPU seconds for the kernel: the notebook's wall limit plus a margin."""
        return self.notebook_timeout + 60

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "Limits":
        d = dict(d or {})
        return cls(**{k: int(v) for k, v in d.items() if k in cls.__dataclass_fields__})


def parse_size(text: str | int) -> int:
    """``"1.5G"``, ``"512M"``, ``"2GiB"`` or a number of bytes."""
    if isinstance(text, int):
        return text
    s = str(text).strip().upper().removesuffix("IB").removesuffix("B")
    units = {"K": 1 << 10, "M": MiB, "G": GiB, "T": 1 << 40}
    if s and s[-1] in units:
        return int(float(s[:-1]) * units[s[-1]])
    return int(float(s))


# --------------------------------------------------------------------------- availability
def bwrap() -> str | None:
    return shutil.which("bwrap")


def prlimit() -> str | None:
    return shutil.which("prlimit")


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """``None`` when sandboxing works here, else the reason it does not."""
    if sys.platform != "linux":
        return f"the sandbox needs Linux (bubblewrap); this is {sys.platform}"
    if not bwrap():
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if not prlimit():
        return "prlimit (util-linux) is not installed"
    with tempfile.TemporaryDirectory(prefix="dlbook-probe-") as tmp:
        try:
            r = Sandbox(Path(tmp), Limits(notebook_timeout=30)).run([sys.executable, "-c", "print('ok')"], timeout=60)
        except Exception as err:  # any failure to start means no sandbox here
            return f"bubblewrap failed to start: {err}"
        if r.returncode != 0 or r.stdout.strip() != "ok":
            return f"bubblewrap failed to start (exit {r.returncode}): {r.stderr.strip()[-500:]}"
    return None


# --------------------------------------------------------------------------- what is visible
@functools.lru_cache(maxsize=1)
def _python_roots() -> list[str]:
    """Directories the kernel's Python needs: its installation and its import path.

    The path is asked of a clean interpreter (``-I``: no PYTHONPATH, no user site, no current
    directory) run from ``/``, which is what the kernel gets too (its environment is cleared);
    the grader's own working directory never ends up in the sandbox. Packages an editable install
    maps by an import hook rather than a path entry (``pip install -e ./tools``) add the folder
    that holds them.
    """
    ask = ("import sys, json, importlib.util as u; "
           "specs = [u.find_spec(m) for m in ('dlbook', 'dlbook_tools')]; "
           "print(json.dumps(sys.path + [s.submodule_search_locations[0].rsplit('/', 1)[0] for s in specs "
           "if s and s.submodule_search_locations]))")
    r = subprocess.run([sys.executable, "-I", "-c", ask],
                       capture_output=True, text=True, cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                       timeout=120, check=True)
    cands = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    cands |= {p for p in json.loads(r.stdout) if p and os.path.isabs(p)}
    out = set()
    for c in cands:
        for p in {c, os.path.realpath(c)}:
            while p and not os.path.exists(p):  # python311.zip and the like
                p = os.path.dirname(p) if os.path.dirname(p) != p else ""
            if p and p != "/" and not p.startswith("/usr/") and p != "/usr":
                out.add(os.path.normpath(p))
    roots: list[str] = []
    for p in sorted(out):
        if not any(p == r or p.startswith(r + os.sep) for r in roots):
            roots.append(p)
    return roots


ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "timezone", "passwd", "group",
       "nsswitch.conf", "alternatives", "mime.types", "matplotlibrc"]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass
class Sandbox:
    """A private place for one submission: ``scratch`` holds its ipc sockets and files.

    ``files`` (optional) is a directory whose files appear read-only in the kernel's working
    directory (the released assignment's data). ``hide`` lists host paths that must never be
    visible; any of them that falls under a bound directory is covered with an empty tmpfs.
    """

    scratch: Path
    limits: Limits = field(default_factory=Limits)
    files: Path | None = None
    hide: tuple = ()

    def __post_init__(self):
        self.scratch = Path(self.scratch).resolve()
        self.ipc = self.scratch / "ipc"
        self.ipc.mkdir(parents=True, exist_ok=True)
        os.chmod(self.scratch, 0o700)

    # The kernel sees the ipc directory at the same absolute path, so one connection file
    # serves the grader and the kernel alike.
    def env(self) -> dict:
        venv_bin = os.path.dirname(sys.executable)
        return {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": HOME, "USER": "student", "LOGNAME": "student",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "MPLCONFIGDIR": f"{HOME}/.matplotlib",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2", "DLBOOK_PROGRESS": "0", "DLBOOK_DEVICE": "cpu",
            "NBGRADER_EXECUTION": "autograde", "JUPYTER_PLATFORM_DIRS": "1",
            "DLBOOK_OUTPUT_LIMIT": str(self.limits.output),
        }

    def bwrap_args(self) -> list[str]:
        L = self.limits
        a = ["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
             "--hostname", "grader", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            p = f"/{name}"
            if os.path.islink(p):
                a += ["--symlink", os.readlink(p), p]
            elif os.path.isdir(p):
                a += ["--ro-bind", p, p]
        for name in ETC:
            a += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        hidden = [os.path.realpath(h) for h in self.hide]
        roots = [r for r in _python_roots() if not any(_inside(r, h) for h in hidden)]  # never bind into a hidden tree
        # The private tmpfs come first and the Python installation is bound after them: a
        # virtual environment under /tmp (a CI checkout) must stay visible, not be covered.
        a += ["--proc", "/proc", "--dev", "/dev",
              "--size", str(L.disk), "--tmpfs", "/dev/shm",
              "--size", str(L.disk), "--tmpfs", "/tmp",
              "--size", str(L.disk), "--tmpfs", HOME,
              "--dir", WORK, "--dir", f"{HOME}/.matplotlib"]
        for r in roots:
            a += ["--ro-bind", r, r]
        for h in hidden:
            if any(_inside(h, r) for r in roots) or _inside(h, "/usr"):
                a += ["--tmpfs", h]
        mpl = _matplotlib_cache()
        if mpl:
            for f in sorted(os.listdir(mpl)):
                if f.endswith(".json"):
                    a += ["--ro-bind", os.path.join(mpl, f), f"{HOME}/.matplotlib/{f}"]
        if self.files and Path(self.files).is_dir():
            for src in sorted(Path(self.files).rglob("*")):
                rel = src.relative_to(self.files)
                if src.is_file() and not src.is_symlink() and not rel.name.endswith(".ipynb") \
                        and ".ipynb_checkpoints" not in rel.parts:
                    a += ["--ro-bind", str(src), f"{WORK}/{rel.as_posix()}"]
        # read-only: the kernel's sockets are created by the grader (see kernel_manager), so nothing
        # the sandbox writes lands on the host's disk; connecting to a socket needs no write access
        a += ["--ro-bind", str(self.ipc), str(self.ipc), "--chdir", WORK, "--clearenv"]
        for k, v in self.env().items():
            a += ["--setenv", k, v]
        return a

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the sandbox, under the resource limits."""
        L = self.limits
        limits = [f"--as={L.memory}", f"--cpu={L.cpu}", f"--fsize={L.file_size}", "--core=0"]
        return [prlimit() or "prlimit", *limits, "--", bwrap() or "bwrap", *self.bwrap_args(), "--", *argv]

    def run(self, argv: list[str], timeout: float | None = None, **kw) -> subprocess.CompletedProcess:
        """Run a command in the sandbox (used by the probe and the tests)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.command(argv), timeout=timeout, cwd=self.scratch, stdin=subprocess.DEVNULL, **kw)

    def kernel_argv(self) -> list[str]:
        return [sys.executable, "-m", "dlbook_tools.kernel_io", "-f", "{connection_file}",
                "--IPKernelApp.outstream_class=dlbook_tools.kernel_io.CappedOutStream",
                "--HistoryManager.hist_file=:memory:", "--IPKernelApp.quiet=True"]


@functools.lru_cache(maxsize=1)
def _matplotlib_cache() -> str | None:
    """A matplotlib font cache built once, so that each sandbox does not rebuild it."""
    where = Path(tempfile.gettempdir()) / f"dlbook-mplcache-{os.getuid()}"
    try:
        where.mkdir(mode=0o755, exist_ok=True)
        if not any(where.glob("fontlist-*.json")):
            env = {**os.environ, "MPLCONFIGDIR": str(where), "MPLBACKEND": "Agg"}
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                           capture_output=True, timeout=300, check=False)
        return str(where) if any(where.glob("fontlist-*.json")) else None
    except (OSError, subprocess.SubprocessError):
        return None


# --------------------------------------------------------------------------- the kernel
def kernel_manager(sandbox: Sandbox, log_path: Path | None = None):
    """An ``AsyncKernelManager`` that starts an IPython kernel inside ``sandbox``."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class SandboxKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(transport="ipc", **kw)
            self.connection_file = str(sandbox.ipc / "kernel.json")
            self.ip = str(sandbox.ipc / "k")
            self._kernel_spec = KernelSpec(
                argv=sandbox.command(sandbox.kernel_argv()), display_name="Python 3 (grading sandbox)",
                language="python", interrupt_mode="message", env={}, metadata={})

        @property
        def ipykernel(self) -> bool:  # we pass --HistoryManager ourselves
            return False

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # The kernel's sockets, bound and listening here, inherited by the kernel: the ipc
            # directory is read-only inside the sandbox (the kernel cannot create files there).
            import socket

            socks = []
            try:
                for port in (self.shell_port, self.iopub_port, self.stdin_port, self.control_port, self.hb_port):
                    path = f"{self.ip}-{port}"
                    if os.path.lexists(path):
                        os.unlink(path)
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    socks.append(s)
                    s.bind(path)
                    s.listen(64)
                kw["pass_fds"] = tuple(s.fileno() for s in socks)
                return await self._launch_sandboxed(kernel_cmd, **kw)
            finally:
                for s in socks:
                    s.close()  # the kernel holds its own copies

        async def _launch_sandboxed(self, kernel_cmd, **kw):
            kw["cwd"] = str(sandbox.scratch)
            kw["stdin"] = subprocess.DEVNULL
            kw["stdout"] = subprocess.DEVNULL
            kw["stderr"] = open(log_path, "wb") if log_path else subprocess.DEVNULL  # closed below
            kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                if log_path:
                    kw["stderr"].close()

    return SandboxKernelManager()
