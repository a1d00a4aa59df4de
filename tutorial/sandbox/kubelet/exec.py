"""`kubectl exec` in a simulated container: a small, honest set of commands, and a clear no for the rest.

No process runs in the sandbox, so exec answers what it can know: `env`/`printenv` (the pod's env
plus what the kubelet adds), `hostname`, `cat` of the container's files (kubelet/files.py) or of
stdin, `echo`, `date`, `uptime`, `seq`, `pwd`, `whoami`, `ls`, `sleep N`, `test`/`[`, `true`,
`false`, `gzip` (stdin to stdout), `wc -l/-w/-c` (of stdin), `curl`/`wget` to in-cluster
Services and pods (kubelet/curl.py), `tar cf -` / `tar xf -` (what `kubectl cp` runs), and `sh`:
`sh -c SCRIPT`, a shell reading commands from stdin, or one at a terminal (kubelet/terminal.py),
through the tiny sh of kubelet/shell.py.
Anything else fails with exit code 127 and a message saying it is not simulated by the sandbox.
"""

from __future__ import annotations

import datetime
import gzip
import os
import time
from typing import Callable

from tutorial.sandbox.kubelet import shell
from tutorial.sandbox.kubelet.files import ROOT_DIRS, Files
from tutorial.sandbox.kubelet.images import reference

SIMULATED = ("env, printenv, hostname, cat, echo, date, uptime, seq, pwd, whoami, ls, sleep, test, true, false, "
             "gzip, wc, tar, curl and wget to in-cluster Services, exit, and sh scripts of those (pipes, redirections, for loops)")
SHELLS = ("sh", "bash", "ash")
COMMANDS = {"env", "printenv", "true", "false", "pwd", "whoami", "hostname", "echo", "date", "uptime", "seq",
            "sleep", "ls", "cat", "test", "[", "gzip", "tar", "wc", "curl", "wget"}
BOOTED = time.time()  # the simulated node came up with the sandbox


def environment(pod: dict, container: dict) -> list[tuple[str, str]]:
    """The process environment: PATH and HOSTNAME, the container's env, the kubernetes Service's."""
    env = [("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
           ("HOSTNAME", pod["metadata"]["name"])]
    env += [(e["name"], str(e.get("value", ""))) for e in container.get("env") or []
            if isinstance(e, dict) and "name" in e and "valueFrom" not in e]
    env += [("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443"),
            ("KUBERNETES_SERVICE_PORT_HTTPS", "443"), ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
            ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"), ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
            ("KUBERNETES_PORT_443_TCP_PORT", "443"), ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
            ("HOME", "/root")]
    return env


def run(pod: dict, container: dict, argv: list[str], io: shell.IO, store=None) -> int:
    """Run argv as the sandbox can, streaming output through io; the exit code."""
    return _Container(pod, container, store).command(argv, io)


def not_simulated(command: str) -> bytes:
    return f"sh: {command.strip()}: not simulated by the sandbox (exec runs only: {SIMULATED})\n".encode()


class _Container:
    def __init__(self, pod: dict, container: dict, store=None) -> None:
        self.pod, self.container, self.store = pod, container, store
        self.files = Files(pod, container)
        self.busybox = any(k in reference(container.get("image", ""))[1] for k in ("busybox", "alpine"))

    def command(self, argv: list[str], io: shell.IO) -> int:
        name, args = argv[0].rsplit("/", 1)[-1], argv[1:]
        if name in SHELLS:
            return self._sh(args, io)
        if name not in COMMANDS:
            io.err(not_simulated(" ".join(argv)))
            return 127
        handler: Callable[[list[str], shell.IO], int] = getattr(self, "_" + ("test" if name == "[" else name))
        return handler(args, io)

    def _sh(self, args: list[str], io: shell.IO) -> int:
        sh = shell.Shell(dict(environment(self.pod, self.container)), self.command, self.files)
        if len(args) >= 2 and args[0] == "-c":
            return sh.run(args[1], io)
        if args:
            io.err(not_simulated("sh " + " ".join(args)))
            return 127
        if io.tty:
            from tutorial.sandbox.kubelet import terminal

            return terminal.run(sh, io, b"/ # " if self.busybox else b"# ")
        return _interactive(sh, io)

    def _env(self, args, io) -> int:
        if args:
            io.err(not_simulated("env " + " ".join(args)))
            return 127
        io.out("".join(f"{k}={v}\n" for k, v in environment(self.pod, self.container)).encode())
        return 0

    def _printenv(self, args, io) -> int:
        if not args:
            return self._env(args, io)
        values = dict(environment(self.pod, self.container))
        found = [values[a] for a in args if a in values]
        io.out("".join(v + "\n" for v in found).encode())
        return 0 if len(found) == len(args) else 1

    def _true(self, args, io) -> int:
        return 0

    def _false(self, args, io) -> int:
        return 1

    def _pwd(self, args, io) -> int:
        io.out(b"/\n")
        return 0

    def _whoami(self, args, io) -> int:
        io.out(b"root\n")
        return 0

    def _hostname(self, args, io) -> int:
        io.out(self.files.read("/etc/hostname") or b"")
        return 0

    def _echo(self, args, io) -> int:
        newline = args[:1] != ["-n"]
        io.out((" ".join(args if newline else args[1:]) + ("\n" if newline else "")).encode())
        return 0

    def _date(self, args, io) -> int:
        io.out(datetime.datetime.now(datetime.timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y\n").encode())
        return 0

    def _uptime(self, args, io) -> int:
        """busybox's format; the load is the machine's the sandbox runs on."""
        now = datetime.datetime.now(datetime.timezone.utc)
        up = int(time.time() - BOOTED)
        days, hours, minutes = up // 86400, up % 86400 // 3600, up % 3600 // 60
        span = (f"{days} day{'s' if days != 1 else ''}, " if days else "") + f"{hours:2d}:{minutes:02d}"
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        io.out(f" {now:%H:%M:%S} up {span},  0 users,  load average: {load}\n".encode())
        return 0

    def _seq(self, args, io) -> int:
        try:
            nums = [int(a) for a in args]
        except ValueError:
            io.err(f"seq: invalid number '{next(a for a in args if not a.lstrip('-').isdigit())}'\n".encode())
            return 1
        first, step, last = {1: (1, 1, nums[0]), 2: (nums[0], 1, nums[-1]), 3: tuple(nums)}.get(len(nums), (1, 1, 0))
        io.out("".join(f"{i}\n" for i in range(first, last + (1 if step > 0 else -1), step or 1)).encode())
        return 0

    def _sleep(self, args, io) -> int:
        if len(args) != 1 or not args[0].replace(".", "", 1).isdigit():
            io.err(not_simulated("sleep " + " ".join(args)))
            return 127
        time.sleep(min(float(args[0]), 30.0))
        return 0

    def _ls(self, args, io) -> int:
        code = 0
        for path in args or ["/"]:
            if path == "/":
                names = sorted(set(ROOT_DIRS))
            elif self.files.is_dir(path):
                prefix = path.rstrip("/") + "/"
                names = sorted({f[len(prefix):].split("/")[0] for f in self.files.under(path)})
            elif self.files.read(path) is not None:
                names = [path]
            else:
                io.err(f"ls: {path}: No such file or directory\n".encode())
                code = 1
                continue
            io.out("".join(n + "\n" for n in names).encode())
        return code

    def _cat(self, args, io) -> int:
        if not args or args == ["-"]:  # echo stdin as it comes, until the client closes it
            while (chunk := io.read()) is not None:
                io.out(chunk)
            return 0
        code = 0
        for path in args:
            data = self.files.read(path)
            if data is None:
                io.err(f"cat: can't open '{path}': No such file or directory\n".encode())
                code = 1
            else:
                io.out(data)
        return code

    def _test(self, args, io) -> int:
        args = args[:-1] if args[-1:] == ["]"] else args
        if len(args) == 2 and args[0] in ("-d", "-f", "-e", "-z", "-n"):
            flag, value = args
            checks = {"-d": lambda: self.files.is_dir(value), "-f": lambda: self.files.read(value) is not None,
                      "-e": lambda: self.files.is_dir(value) or self.files.read(value) is not None,
                      "-z": lambda: value == "", "-n": lambda: value != ""}
            return 0 if checks[flag]() else 1
        if len(args) == 3 and args[1] in ("=", "!=", "=="):
            return 0 if (args[0] == args[2]) == (args[1] != "!=") else 1
        io.err(not_simulated("test " + " ".join(args)))
        return 2

    def _gzip(self, args, io) -> int:
        if [a for a in args if a not in ("-c", "-")]:
            io.err(not_simulated("gzip " + " ".join(args)))
            return 127
        data = bytearray()
        while (chunk := io.read()) is not None:
            data.extend(chunk)
        io.out(gzip.compress(bytes(data), mtime=0))
        return 0

    def _wc(self, args, io) -> int:
        """wc -l / -w / -c of stdin (what pipes count)."""
        if [a for a in args if a not in ("-l", "-w", "-c")]:
            io.err(not_simulated("wc " + " ".join(args)))
            return 127
        data = bytearray()
        while (chunk := io.read()) is not None:
            data.extend(chunk)
        counts = {"-l": data.count(b"\n"), "-w": len(data.split()), "-c": len(data)}
        wanted = [counts[a] for a in ("-l", "-w", "-c") if a in args] or [counts["-l"], counts["-w"], counts["-c"]]
        io.out((" ".join(f"{n:7d}" if len(wanted) > 1 else str(n) for n in wanted) + "\n").encode())
        return 0

    def _curl(self, args, io) -> int:
        from tutorial.sandbox.kubelet import curl

        return curl.curl(self.store, self.pod, args, io)

    def _wget(self, args, io) -> int:
        from tutorial.sandbox.kubelet import curl

        return curl.wget(self.store, self.pod, args, io)

    def _tar(self, args, io) -> int:
        from tutorial.sandbox.kubelet import tarcmd

        return tarcmd.run(self.files, self.busybox, args, io)


def _interactive(sh: shell.Shell, io: shell.IO) -> int:
    """A shell reading commands from stdin: each complete line runs as it arrives; EOF or exit ends it."""
    pending, text = "", ""
    while True:
        chunk = io.read()
        if chunk is None:
            break
        pending += chunk.decode(errors="replace")
        while "\n" in pending:
            line, pending = pending.split("\n", 1)
            text += line + "\n"
            try:
                items = shell.parse(text)
            except shell.Incomplete:
                continue
            except shell.ShellError as e:
                io.err((e.args[1] + "\n").encode())
                text = ""
                continue
            text = ""
            try:
                sh.run_items(items, io)
            except shell.ShellExit as e:
                return e.code
    return sh.run(text + pending, io) if (text + pending).strip() else int(sh.env["?"])
