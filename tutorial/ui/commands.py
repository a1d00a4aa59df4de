"""Command palette: every action of the current screen and the app, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# action -> (palette title, help line); the palette lists those the screen allows right now.
ACTIONS = {
    "open": ("Open step", "Open the highlighted step"),
    "variant": ("Choose variant", "Helm or istioctl for the highlighted lesson"),
    "run": ("Run step", "Run the step's commands, then its checks"),
    "stop": ("Stop command", "Stop the running command"),
    "check": ("Check step", "Check the cluster without running anything"),
    "hint": ("Show next hint", "Hints come one at a time, gentle first"),
    "solve": ("Solve step", "Run the solution (asks first)"),
    "fix": ("Run suggested fix", "Run the explanation's fix command (asks first)"),
    "skip": ("Skip step", "Mark the step skipped and go on"),
    "reset": ("Reset step", "Undo the step on the cluster (asks first)"),
    "next_step": ("Next step", "Go to the next step"),
    "previous_step": ("Previous step", "Go to the previous step"),
    "edit_yaml": ("Edit the YAML (write it yourself)", "Your version of the step's YAML is what the step applies"),
    "copy_yaml": ("Copy YAML", "Copy the step's YAML to the clipboard"),
    "toggle_resources": ("Toggle live resources", "Show or hide pods, Deployments, Gateways, HTTPRoutes"),
    "back": ("Back to lessons", "Return to the lesson list"),
    "help": ("Help", "What every key does"),
    "toggle_theme": ("Toggle light/dark theme", "Switch between the light and dark theme"),
    "choose_cluster": ("Choose cluster", "Another kube context, or the sandbox"),
    "traffic_map": ("Traffic map", "The request's path through the cluster, live, and where it breaks"),
    "diy": ("Do it yourself (this step)", "Run the commands in your shell; the checks watch the cluster"),
    "diy_always": ("Do it yourself: every step", "Switch the global do-it-yourself preference on or off"),
    "recap": ("Recap: what you built", "The traffic map, who owns each object and why, the commands, what next"),
    "shell_env": ("Your own shell", "export KUBECONFIG=… PATH=… so shown commands work in your terminal"),
    "quit": ("Quit", "Stop what runs, keep progress, exit"),
}


class TutorialCommands(Provider):
    """One hit per action the current screen allows (the same actions the keys run)."""

    def _available(self):
        screen = self.screen
        for action, (title, help_text) in ACTIONS.items():
            if hasattr(screen, f"action_{action}"):
                node = screen
            elif hasattr(self.app, f"action_{action}"):
                node = self.app
            else:
                continue
            if node.check_action(action, ()):
                yield title, help_text, partial(node.run_action, action)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._available():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
