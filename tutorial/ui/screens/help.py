"""`?`: what the keys do, and how the tutorial works, in one page."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# How this tutorial works

Each **step** teaches one thing: read the text, look at the YAML and the commands, then press
**r** to run them against the cluster shown at the top. Nothing runs until you press **r**
(or confirm **s**olve, **u** reset or **f** fix). Then the step's **checks** watch the cluster
and turn ✔ passed or ✘ failed; a failed check opens an explanation with what we saw, why, and
how to fix it.

Prefer typing commands yourself? Press **e**: it shows (and copies) the `export KUBECONFIG=… PATH=…`
line that makes every shown command work in your own terminal — or run `gateway-tutorial shell`
there. Then press **c** to check.

## Lesson list

| key | does |
|---|---|
| enter | open the highlighted step (a lesson opens its next open step) |
| v | choose the lesson's variant (Helm or istioctl) |
| C | choose another cluster (or the sandbox) |

## In a step

| key | does |
|---|---|
| r | run the step's commands, then its checks |
| x | stop the running command |
| c | check again without running anything |
| e | while checks wait: explain what the cluster shows now |
| h | show the next hint (gentle first) |
| s | solve: run the solution (asks first) |
| f | run the fix an explanation offers (asks first) |
| k | skip this step |
| u | reset this step: run its clean-up (asks first) |
| n / p | next / previous step |
| y | copy the step's YAML to the clipboard (and save it to a file) |
| E | write it yourself: edit the YAML (ctrl+s compares and applies, ctrl+e opens $EDITOR) |
| w | show or hide the live resources |
| d | do it yourself: run the commands in your own shell; the checks watch and pass by themselves |
| esc | back to the lesson list |

## Everywhere

| key | does |
|---|---|
| ctrl+p | command palette: every action by name |
| R | recap: the traffic map, who owns each object and why, the commands you used, what next |
| ! | your own shell: the export line for your terminal, copied and kept in a file |
| t | light or dark theme |
| m | traffic map: the request's path, live, with where it breaks (b next problem, esc back) |
| ? | this help (esc closes it) |
| q | quit: a running command is stopped, progress is kept |

Progress is saved per cluster after every step; start the tutorial again to resume.
"""


class HelpScreen(ModalScreen[None]):
    """The keys and the flow of a step."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
