"""A Footer that rebuilds its keys once per refresh, however many binding changes came before it."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """Footer whose rebuilds are coalesced.

    Textual's Footer recomposes (removes, mounts and restyles every key) on each bindings signal;
    before the first frame of the lessons screen five arrive (mount, focus, stack, highlight,
    idle), which cost ~30 ms of the first paint. One rebuild after the latest of them shows the same keys.
    """

    _rebuild_pending = False

    def bindings_changed(self, screen) -> None:
        if self._rebuild_pending:
            self._bindings_ready = True
            return
        self._rebuild_pending = True
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        self._rebuild_pending = False  # a change from here on schedules a new rebuild
        await super().recompose()
