"""A tiny POSIX `sh` for exec: enough grammar to run the commands kubelet/exec.py simulates.

Understood: simple commands with quoting ('…', "…", backslash), $VAR, ${VAR}, $? and $(…)
substitution, NAME=value assignments, `;`, newlines, `&&`, `||`, pipelines `a | b`, redirections
(`>`, `>>`, `<`, `>&2`, `2>&1`, `2>/dev/null`), `for NAME in WORDS; do LIST; done` and `exit N`.
Anything else (if, while, case, functions, `&` background jobs, globbing) stops the script with
exit code 2 and a message saying it is not simulated by the sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

OPS = ("&&", "||", ">>", ">&2", "2>&1", "1>&2", "2>", ";", "|", ">", "<", "\n", "&")
UNSUPPORTED = ("if", "then", "else", "elif", "fi", "while", "until", "case", "esac", "function", "{", "}", "(")


class ShellError(Exception):
    """Syntax the tiny shell cannot run: (exit code, message)."""


class Incomplete(ShellError):
    """The script stops inside a quote or a for loop: more lines are needed."""


class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@dataclass
class IO:
    """Where a command reads and writes: read() gives the next stdin chunk (None at the end)."""

    read: Callable[[], bytes | None]
    out: Callable[[bytes], None]
    err: Callable[[bytes], None]
    tty: bool = False  # a terminal is attached (kubectl exec -t): an interactive sh serves it


@dataclass
class Simple:
    words: list[str]
    redirects: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class For:
    name: str
    items: list[str]
    body: list


def tokenize(script: str) -> list[tuple[str, str]]:
    """('word', raw text with its quotes) and ('op', operator) tokens; comments dropped."""
    tokens, i, n = [], 0, len(script)
    while i < n:
        c = script[i]
        if c in " \t":
            i += 1
            continue
        if c == "#":
            while i < n and script[i] != "\n":
                i += 1
            continue
        op = next((o for o in OPS if script.startswith(o, i)), None)
        if op:
            tokens.append(("op", op))
            i += len(op)
            continue
        start = i
        while i < n and script[i] not in " \t" and not any(script.startswith(o, i) for o in OPS):
            i = _skip_quoted(script, i)
        tokens.append(("word", script[start:i]))
    return tokens


def _skip_quoted(s: str, i: int) -> int:
    """The index after the character, quote or $(…) starting at i."""
    c = s[i]
    if c == "\\":
        return i + 2
    if c in "'\"":
        end = s.find(c, i + 1)
        while c == '"' and end > 0 and s[end - 1] == "\\":
            end = s.find(c, end + 1)
        if end < 0:
            raise Incomplete(2, "sh: syntax error: unterminated quoted string")
        return end + 1
    if s.startswith("$(", i):
        depth, j = 1, i + 2
        while j < len(s) and depth:
            depth += {"(": 1, ")": -1}.get(s[j], 0)
            j += 1
        if depth:
            raise Incomplete(2, "sh: syntax error: unterminated $(")
        return j
    return i + 1


def parse(script: str) -> list:
    """A list of (and-or chain) items: each [(pipeline, joiner)], joiner '' / '&&' / '||'."""
    items, rest = _list(tokenize(script), ())
    if rest:
        raise ShellError(2, f"sh: syntax error: unexpected \"{rest[0][1]}\"")
    return items


def _list(tokens: list, stop: tuple) -> tuple[list, list]:
    items, chain, joiner = [], [], ""
    while tokens:
        kind, text = tokens[0]
        if kind == "word" and text in stop and not chain:
            break
        if kind == "op" and text in (";", "\n"):
            tokens = tokens[1:]
            if chain:
                items.append(chain)
            chain, joiner = [], ""
            continue
        if kind == "op" and text == "&":
            raise ShellError(2, "sh: background jobs (&) are not simulated by the sandbox")
        pipeline, tokens = _pipeline(tokens)
        chain.append((pipeline, joiner))
        if tokens and tokens[0] in (("op", "&&"), ("op", "||")):
            joiner, tokens = tokens[0][1], tokens[1:]
            if not tokens:
                raise Incomplete(2, "sh: syntax error: unexpected end of file")
    if chain:
        items.append(chain)
    return items, tokens


def _pipeline(tokens: list) -> tuple[list, list]:
    commands = []
    while True:
        command, tokens = _command(tokens)
        commands.append(command)
        if not tokens or tokens[0] != ("op", "|"):
            return commands, tokens
        tokens = tokens[1:]


def _command(tokens: list) -> tuple[object, list]:
    if tokens and tokens[0] == ("word", "for"):
        return _for(tokens[1:])
    if tokens and tokens[0][0] == "word" and (tokens[0][1] in UNSUPPORTED or tokens[0][1].endswith("()")):
        raise ShellError(2, f"sh: '{tokens[0][1]}' is not simulated by the sandbox (its sh runs simple commands, "
                            "pipes, redirections and for loops)")
    command = Simple([])
    while tokens and (tokens[0][0] == "word" or tokens[0][1] in (">", ">>", "<", ">&2", "1>&2", "2>&1", "2>")):
        kind, text = tokens[0]
        if kind == "word":
            command.words.append(text)
            tokens = tokens[1:]
        elif text in (">&2", "1>&2", "2>&1"):
            command.redirects.append((text, ""))
            tokens = tokens[1:]
        else:
            if len(tokens) < 2 or tokens[1][0] != "word":
                raise ShellError(2, "sh: syntax error: unexpected newline")
            command.redirects.append((text, tokens[1][1]))
            tokens = tokens[2:]
    if not command.words and not command.redirects:
        raise ShellError(2, f"sh: syntax error: unexpected \"{tokens[0][1] if tokens else 'end of file'}\"")
    return command, tokens


def _for(tokens: list) -> tuple[For, list]:
    if not tokens or tokens[0][0] != "word":
        raise ShellError(2, "sh: syntax error: bad for loop variable")
    name, tokens, items = tokens[0][1], tokens[1:], []
    if tokens and tokens[0] == ("word", "in"):
        tokens = tokens[1:]
        while tokens and tokens[0][0] == "word":
            items.append(tokens[0][1])
            tokens = tokens[1:]
    while tokens and tokens[0] in (("op", ";"), ("op", "\n")):
        tokens = tokens[1:]
    if not tokens:
        raise Incomplete(2, "sh: syntax error: unexpected end of file (expecting \"do\")")
    if tokens[0] != ("word", "do"):
        raise ShellError(2, f"sh: syntax error: unexpected \"{tokens[0][1]}\" (expecting \"do\")")
    body, tokens = _list(tokens[1:], ("done",))
    if not tokens:
        raise Incomplete(2, "sh: syntax error: unexpected end of file (expecting \"done\")")
    return For(name, items, body), tokens[1:]


def expand(word: str, env: dict[str, str], substitute: Callable[[str], str]) -> list[str]:
    """Quote removal, parameter and command substitution; unquoted results split on whitespace."""
    fields, current, quoted, i = [], "", False, 0
    while i < len(word):
        c = word[i]
        if c == "\\" and i + 1 < len(word):
            current, quoted, i = current + word[i + 1], True, i + 2
        elif c == "'":
            end = word.index("'", i + 1)
            current, quoted, i = current + word[i + 1:end], True, end + 1
        elif c == '"':
            end = _skip_quoted(word, i) - 1
            current, quoted, i = current + _dollar(word[i + 1:end].replace('\\"', '"'), env, substitute), True, end + 1
        elif c == "$":
            end = _dollar_end(word, i)
            parts = _dollar(word[i:end], env, substitute).split()
            if parts:
                current += parts[0]
                for part in parts[1:]:
                    fields.append(current)
                    current = part
            i = end
        else:
            current, i = current + c, i + 1
    if current or quoted:
        fields.append(current)
    return fields


_VAR = re.compile(r"\$(\{(\w+)\}|(\w+|\?))")


def _dollar_end(word: str, i: int) -> int:
    if word.startswith("$(", i):
        return _skip_quoted(word, i)
    m = _VAR.match(word, i)
    return m.end() if m else i + 1


def _dollar(text: str, env: dict[str, str], substitute: Callable[[str], str]) -> str:
    out, i = "", 0
    while i < len(text):
        if text.startswith("$(", i):
            end = _skip_quoted(text, i)
            out += substitute(text[i + 2:end - 1]).rstrip("\n")
            i = end
            continue
        m = _VAR.match(text, i)
        if m:
            out += env.get(m.group(2) or m.group(3), "")
            i = m.end()
        else:
            out, i = out + text[i], i + 1
    return out


class Shell:
    """Runs parsed scripts; each simple command goes to run_command(argv, io) -> exit code."""

    def __init__(self, env: dict[str, str], run_command: Callable[[list[str], IO], int], files) -> None:
        self.env = {**env, "?": "0"}
        self.run_command = run_command
        self.files = files

    def run(self, script: str, io: IO) -> int:
        """Run a whole script (`sh -c`); `exit N` and syntax errors end it with their code."""
        try:
            return self.run_items(parse(script), io)
        except ShellExit as e:
            return e.code
        except ShellError as e:
            io.err((e.args[1] + "\n").encode())
            return e.args[0]

    def run_items(self, items: list, io: IO) -> int:
        code = int(self.env["?"])
        for chain in items:
            for pipeline, joiner in chain:
                if (joiner == "&&" and code != 0) or (joiner == "||" and code == 0):
                    continue
                code = self._pipeline(pipeline, io)
                self.env["?"] = str(code)
        return code

    def _pipeline(self, commands: list, io: IO) -> int:
        """Each stage runs to its end in turn, its output the next one's input (finite commands only)."""
        read, code = io.read, 0
        for index, command in enumerate(commands):
            if index == len(commands) - 1:
                return self._command(command, IO(read, io.out, io.err))
            buffer = bytearray()
            code = self._command(command, IO(read, buffer.extend, io.err))
            read = _once(bytes(buffer))
        return code

    def _command(self, command, io: IO) -> int:
        if isinstance(command, For):
            code = 0
            for item in [f for word in command.items for f in self._expand(word, io)]:
                self.env[command.name] = item
                code = self.run_items(command.body, io)
            return code
        argv = [f for word in command.words for f in self._expand(word, io)]
        while argv and re.match(r"^[A-Za-z_]\w*=", argv[0]):
            name, _, value = argv.pop(0).partition("=")
            self.env[name] = value
        redirected = self._redirect(command.redirects, io)
        if isinstance(redirected, int):
            return redirected
        io, flush = redirected
        if not argv:
            flush()
            return 0
        if argv[0] == "exit":
            raise ShellExit(int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else int(self.env["?"]))
        code = self.run_command(argv, io)
        flush()
        return code

    def _expand(self, word: str, io: IO) -> list[str]:
        def substitute(script: str) -> str:
            captured = bytearray()
            saved = self.env["?"]
            self.run(script, IO(_once(b""), captured.extend, io.err))
            self.env["?"] = saved
            return captured.decode(errors="replace")
        return expand(word, self.env, substitute)

    def _redirect(self, redirects: list, io: IO):
        """(io with the redirections applied, a flush for files written) or an exit code on error."""
        read, out, err, writes = io.read, io.out, io.err, []
        for op, target in redirects:
            path = (expand(target, self.env, lambda s: "") or [""])[0]
            if op in (">&2", "1>&2"):
                out = io.err
            elif op == "2>&1":
                err = out
            elif op == "<":
                data = self.files.read(path)
                if data is None:
                    io.err(f"sh: can't open '{path}': No such file or directory\n".encode())
                    return 1
                read = _once(data)
            elif path == "/dev/null":
                out, err = (_drop, err) if op in (">", ">>") else (out, _drop)
            else:
                buffer = bytearray()
                writes.append((path, buffer, op == ">>"))
                out, err = (buffer.extend, err) if op in (">", ">>") else (out, buffer.extend)

        def flush() -> None:
            for path, buffer, append in writes:
                self.files.write(path, bytes(buffer), append)
        return IO(read, out, err), flush


def _once(data: bytes) -> Callable[[], bytes | None]:
    chunks = [data] if data else []
    return lambda: chunks.pop(0) if chunks else None


def _drop(data: bytes) -> None:
    pass
