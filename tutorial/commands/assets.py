"""`gateway-tutorial assets fetch|status`: the offline cache of files lessons would download.

Exit 0 when every pinned file is cached and verified, 1 when one is missing or failed.
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="assets_command", metavar="ACTION")
    fetch = sub.add_parser("fetch", help="download every pinned file into the cache (checksum verified)")
    fetch.add_argument("--offline", action="store_true",
                       help="never touch the network: only report what is cached and what is missing")
    fetch.add_argument("--mirror", metavar="URL_OR_DIR",
                       help="take the files (same names) from this URL or directory instead of their origin")
    fetch.add_argument("--json", action="store_true", help="print the result as JSON")
    status = sub.add_parser("status", help="show what is cached (never touches the network)")
    status.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from tutorial.engine import assetcache
    from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE

    action = getattr(args, "assets_command", None)
    if action is None:
        print("gateway-tutorial assets: say what to do: `assets fetch` (download) or `assets status`.")
        return EXIT_USAGE
    offline = action == "status" or getattr(args, "offline", False) or assetcache.offline_mode()
    results = assetcache.fetch_all(offline=offline, mirror=getattr(args, "mirror", None))
    _print(results, args, assetcache.cache_dir(), offline)
    return EXIT_OK if all(r.state in ("cached", "fetched") for r in results) else EXIT_CHECK_FAILED


def _print(results, args, directory, offline: bool) -> None:
    from rich.markup import escape

    from tutorial.commands._render import console

    if args.json:
        print(json.dumps({"cache": str(directory), "offline": offline,
                          "assets": [r.to_json() for r in results]}, indent=2))
        return
    out = console()
    marks = {"cached": "[green]✔ cached[/]", "fetched": "[green]✔ fetched[/]",
             "missing": "[yellow]! missing[/]", "failed": "[red]✘ FAILED[/]"}
    out.print(f"Asset cache: {escape(str(directory))}" + (" (offline: the network is not used)" if offline else ""))
    for r in results:
        out.print(f"{marks[r.state]}  {escape(r.asset.what)}")
        out.print(f"   [dim]{escape(r.asset.url)}[/]", soft_wrap=True)
        out.print(f"   {escape(r.detail)}", soft_wrap=True)
