"""The baseline of bench_first_screen: a bare Textual app (Header, Static, Footer), run as a user would.

It runs in a pseudo-terminal like the tutorial; the bench times how long until MARKER is on screen.
"""

from __future__ import annotations

MARKER = "Hello from a bare Textual app"


def bare_app():
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static(MARKER)
            yield Footer()

    return Bare()


if __name__ == "__main__":
    bare_app().run()
