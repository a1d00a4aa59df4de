"""The terminal side of `kubectl exec -it POD -- sh`: what a pseudo-terminal and an interactive sh do.

kubectl puts the local terminal in raw mode and sends keystrokes; on a real node the container's
pty echoes them, and the shell prints its prompt. Here: typed characters are echoed, Enter runs
the line through the tiny sh (a `for` loop waits for its `done` behind a `> ` prompt), Backspace
erases, Ctrl-C drops the line, Ctrl-D on an empty line and `exit` end the shell, and output gets
the pty's CR LF line ends. Commands run in the terminal read no input (they see end of file).
"""

from __future__ import annotations

from tutorial.sandbox.kubelet import shell


def run(sh: shell.Shell, io: shell.IO, prompt: bytes) -> int:
    """Serve keystrokes from io until the shell exits; its exit code."""
    def write(data: bytes) -> None:
        io.out(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    commands = shell.IO(lambda: None, write, write)
    line, text, escape = "", "", False
    io.out(prompt)
    while (chunk := io.read()) is not None:
        for ch in chunk.decode(errors="replace"):
            if escape:  # an arrow or function key: ESC [ ... letter, not simulated, swallowed
                escape = not ch.isalpha() and ch != "~"
            elif ch == "\x1b":
                escape = True
            elif ch in "\r\n":
                io.out(b"\r\n")
                text, line = text + line + "\n", ""
                try:
                    items = shell.parse(text)
                except shell.Incomplete:
                    io.out(b"> ")
                    continue
                except shell.ShellError as e:
                    items, text = [], ""
                    write((e.args[1] + "\n").encode())
                text = ""
                try:
                    sh.run_items(items, commands)
                except shell.ShellExit as e:
                    return e.code
                io.out(prompt)
            elif ch in "\x7f\b":
                if line:
                    line = line[:-1]
                    io.out(b"\b \b")
            elif ch == "\x03":
                line, text = "", ""
                io.out(b"^C\r\n" + prompt)
            elif ch == "\x04" and not line:
                io.out(b"\r\n")
                return int(sh.env["?"])
            elif ch >= " ":
                line += ch
                io.out(ch.encode())
    return int(sh.env["?"])
