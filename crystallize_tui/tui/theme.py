"""Colours that read on both themes (ANSI palettes checked for 4.5:1 contrast) and the chosen
theme remembered across launches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.terminal_theme import TerminalTheme
from textual.app import App
from textual.theme import Theme

from .settings import read_settings, write_setting

# The app writes "green", "red", "yellow"... for statuses and verdicts; Textual turns those
# ANSI names into these colours. Textual's own light palette (Alabaster) puts green at about
# 3:1 on the light panels; these keep every named colour at 4.5:1 or more on the theme's
# panel, surface and background (tests/test_tui_theme.py measures it on the screen).
# Write such colours as spans (Text.assemble((text, "green"))): Textual resolves a span's ANSI
# colour through these palettes, but a whole Text's style (Text(text, style="green")) in a
# Static or Label to the fixed CSS colour (#008000: 3.7:1 on either theme).
LIGHT_ANSI = TerminalTheme(
    (0xF7, 0xF7, 0xF7), (0x00, 0x00, 0x00),
    [(0x00, 0x00, 0x00), (0xA4, 0x16, 0x1A), (0x25, 0x60, 0x10), (0x6E, 0x4C, 0x00),
     (0x2A, 0x4F, 0xB0), (0x7E, 0x2F, 0x99), (0x00, 0x5D, 0x71), (0xF7, 0xF7, 0xF7)],
    [(0x55, 0x55, 0x55), (0xA4, 0x16, 0x1A), (0x25, 0x60, 0x10), (0x6E, 0x4C, 0x00),
     (0x2A, 0x4F, 0xB0), (0x7E, 0x2F, 0x99), (0x00, 0x5D, 0x71), (0xF7, 0xF7, 0xF7)],
)
# Textual's dark palette (Monokai) except its red, magenta and blue, which fall to about 3.3:1
# on the dark panels.
DARK_ANSI = TerminalTheme(
    (0x0C, 0x0C, 0x0C), (0xD9, 0xD9, 0xD9),
    [(0x1A, 0x1A, 0x1A), (0xFF, 0x6B, 0x81), (0x98, 0xE0, 0x24), (0xFD, 0x97, 0x1F),
     (0xB0, 0x8C, 0xFF), (0xFF, 0x70, 0xC8), (0x58, 0xD1, 0xEB), (0xC4, 0xC5, 0xB5)],
    [(0x62, 0x5E, 0x4C), (0xFF, 0x6B, 0x81), (0x98, 0xE0, 0x24), (0xE0, 0xD5, 0x61),
     (0xB0, 0x8C, 0xFF), (0xFF, 0x70, 0xC8), (0x58, 0xD1, 0xEB), (0xF6, 0xF6, 0xEF)],
)


def remember_theme(app: App[Any], path: Path) -> None:
    """Use readable ANSI colours, apply the theme saved in ``path`` and save every later
    choice there. A bad file or an unknown theme name is a warning; the app starts anyway."""
    app.ansi_theme_light = LIGHT_ANSI
    app.ansi_theme_dark = DARK_ANSI
    settings, problem = read_settings(path)
    if problem is not None:
        app.notify(problem, title="settings", severity="warning", timeout=10)
    saved = settings.get("theme")
    if saved is not None:
        if isinstance(saved, str) and saved in app.available_themes:
            app.theme = saved
        else:
            app.notify(f"{path}: theme {saved!r} is not one of this app's themes; using "
                       f"{app.theme} (ctrl+p → theme to choose)", title="settings",
                       severity="warning", timeout=10)
    state = {"saved": app.theme}

    def changed(theme: Theme) -> None:
        if theme.name == state["saved"]:
            return
        state["saved"] = theme.name

        def save() -> None:
            failure = write_setting(path, "theme", theme.name)
            if failure is not None:
                app.call_from_thread(app.notify, failure, title="settings", severity="warning")

        app.run_worker(save, thread=True, group="settings", exit_on_error=False)

    app.theme_changed_signal.subscribe(app, changed)
