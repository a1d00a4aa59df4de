"""`tar` in a simulated container, as far as `kubectl cp` needs it: `tar cf - PATH` and `tar xf - -C DIR`.

Creating answers a real ustar stream of the container's files (kubelet/files.py) and, like tar,
strips the leading '/' with a note on stderr (GNU tar's words, or busybox's in busybox and alpine
images); extracting reads the archive from stdin into the container's in-memory files. Other
modes (t, r, u, compression) say they are not simulated by the sandbox.
"""

from __future__ import annotations

import tarfile

from tutorial.sandbox.kubelet.shell import IO

IGNORED = {"--no-same-permissions", "--no-same-owner"}


def _parse(args: list[str]) -> tuple[str, str, list[str], str] | None:
    """(mode c/x, archive, paths, -C directory); None for what is not simulated."""
    mode, archive, paths, directory, i = "", "", [], "/", 0
    while i < len(args):
        arg = args[i]
        if arg in IGNORED:
            pass
        elif arg == "-C" and i + 1 < len(args):
            directory, i = args[i + 1], i + 1
        elif i == 0 or (arg.startswith("-") and not arg.startswith("--")):
            letters = arg.lstrip("-")
            if set(letters) - set("cxfmpvo") or not letters:
                return None
            mode = next((m for m in "cx" if m in letters), mode)
            if "f" in letters:
                archive, i = (args[i + 1] if i + 1 < len(args) else ""), i + 1
        else:
            paths.append(arg)
        i += 1
    if mode not in ("c", "x") or archive != "-":
        return None
    return mode, archive, paths, directory


def run(files, busybox: bool, args: list[str], io: IO) -> int:
    parsed = _parse(args)
    if parsed is None:
        io.err(f"tar {' '.join(args)}: not simulated by the sandbox (only 'tar cf - PATH' and "
               "'tar xf - -C DIR', what kubectl cp runs)\n".encode())
        return 127
    mode, _, paths, directory = parsed
    if mode == "x":
        return _extract(files, directory, io)
    if not paths:
        io.err(b"tar: Cowardly refusing to create an empty archive\n" if not busybox else b"tar: empty archive\n")
        return 2 if not busybox else 1
    code, found = 0, {}
    for path in paths:
        files_here = files.under(path)
        found.update(files_here)
        if not files_here:
            io.err(f"tar: {path}: Cannot stat: No such file or directory\n".encode() if not busybox
                   else f"tar: {path}: No such file or directory\n".encode())
            code = 2 if not busybox else 1
            continue
        if path.startswith("/"):
            io.err(b"tar: Removing leading `/' from member names\n" if not busybox
                   else b"tar: removing leading '/' from member names\n")
    if found:
        io.out(files.archive(found))
    if code:
        io.err(b"tar: Exiting with failure status due to previous errors\n" if not busybox
               else b"tar: error exit delayed from previous errors\n")
    return code


def _extract(files, directory: str, io: IO) -> int:
    if not files.is_dir(directory):
        io.err(f"tar: {directory}: Cannot open: No such file or directory\n".encode())
        return 2
    data = bytearray()
    while (chunk := io.read()) is not None:
        data.extend(chunk)
    try:
        notes = files.untar(bytes(data), directory)
    except tarfile.TarError as e:
        io.err(f"tar: This does not look like a tar archive ({e})\n".encode())
        return 2
    for note in notes:
        io.err((note + "\n").encode())
    return 0
