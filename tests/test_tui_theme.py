"""Colours measured on the rendered screen (WCAG contrast) in the light and the dark theme,
and the chosen theme remembered across launches in .crystallize/settings.json."""

import html
import io
import json
import re

import pytest
from rich.console import Console
from textual.widgets import Tree
from tui_support import app_for, home_ready, run_to_end, until, write

CLEAR = '''
def play(config, ctx):
    if config.get("broken") and ctx.replicate == 0:
        raise ValueError("broken on purpose")
    ctx.metrics.add("score", ctx.rng.random() * (1 + config["shift"]) + config["shift"])
'''

WCAG_AA = 4.5  # normal-size text


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "clear", {"game.py": CLEAR, "experiment.yaml": (
        "pipeline: [game:play]\ndatasource: {shift: 0}\nreplicates: 8\n"
        "treatments:\n  better: {shift: 5}\n  best: {shift: 9}\n")})  # 2 rows: one off the cursor
    write(tmp_path / "experiments" / "bumpy", {"game.py": CLEAR, "experiment.yaml": (
        "pipeline: [game:play]\ndatasource: {shift: 0}\nreplicates: 3\n"
        "treatments:\n  broken: {broken: true}\n")})
    return tmp_path


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_matches_published_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WebAIM's example


def screen_lines(app) -> list[list[tuple[str, str, str, bool]]]:
    """What the terminal shows, line by line: (text, colour, background, bold) per run of one
    style, after every filter Textual applies (so the theme's ANSI colours are resolved)."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(),
                      force_terminal=True, color_system="truecolor", record=True)
    console.print(app.screen._compositor.render_update(full=True,
                                                       screen_stack=app._background_screens))
    body = console.export_html(inline_styles=True, code_format="{code}")
    lines = []
    for line in body.split("\n"):
        runs = []
        for style, text in re.findall(r'<span style="([^"]*)">([^<]*)</span>', line):
            fg = re.search(r"(?:^|; )color: (#[0-9a-f]{6})", style)
            bg = re.search(r"background-color: (#[0-9a-f]{6})", style)
            if fg and bg:
                runs.append((html.unescape(text), fg.group(1), bg.group(1), "bold" in style))
        lines.append(runs)
    return [line for line in lines if line]


def ratios(lines, word: str) -> list[float]:
    return [contrast(fg, bg) for line in lines for text, fg, bg, _ in line if word in text]


async def run_and_measure(app, pilot, name: str, words: tuple[str, ...]) -> dict:
    await run_to_end(app, pilot, name)
    await pilot.pause(0.3)
    lines = screen_lines(app)
    measured = {f"{word} ({name})": ratios(lines, word) for word in words}
    measured["footer keys"] = [contrast(fg, bg) for text, fg, bg, bold in lines[-1]
                               if bold and text.strip()]
    await pilot.press("escape")
    return measured


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark"])
async def test_statuses_verdicts_and_footer_keys_reach_aa_contrast(workspace, theme):
    app = app_for(workspace)
    async with app.run_test(size=(320, 48)) as pilot:  # wide: every column of the statistics
        app.theme = theme
        home = await home_ready(app, pilot)
        measured = await run_and_measure(app, pilot, "clear", ("ok", "significant", "completed"))
        measured.update(await run_and_measure(app, pilot, "bumpy", ("failed",)))
        await pilot.pause(0.3)
        home.query_one("#experiments", Tree).blur()  # the list's own lines, not the cursor's
        await pilot.pause()
        lines = screen_lines(app)
        measured["completed (experiments)"] = ratios(lines, "completed")
        measured["failed (experiments)"] = ratios(lines, "failed")
    assert all(measured.values()), measured  # each was found on the screen
    worst = {what: round(min(values), 2) for what, values in measured.items()}
    assert all(ratio >= WCAG_AA for ratio in worst.values()), worst


async def test_the_chosen_theme_is_used_at_the_next_launch(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        await home_ready(app, pilot)
        assert app.theme == "textual-dark"
        app.theme = "textual-light"  # what ctrl+p → "Change theme" does
        await until(pilot, lambda: (workspace / ".crystallize" / "settings.json").exists())
    assert json.loads((workspace / ".crystallize" / "settings.json").read_text()) == {
        "theme": "textual-light"}
    again = app_for(workspace)
    async with again.run_test(size=(120, 30)) as pilot:
        await home_ready(again, pilot)
        assert again.theme == "textual-light"


def saved_theme(path):
    """The theme the file holds once the app has written it (the bad content may already
    mention the theme's name, so the text alone does not say the write happened)."""
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None
    return data.get("theme") if isinstance(data, dict) else None


@pytest.mark.parametrize("content, problem, kept_aside", [
    ("{not json", "not valid JSON", True),
    ('["textual-light"]', "expected a JSON object", True),
    ('{"theme": "no-such-theme", "mine": 1}', "'no-such-theme' is not one of this app's themes",
     False),
])
async def test_a_bad_settings_file_is_a_warning_and_never_lost(workspace, content, problem,
                                                               kept_aside):
    path = workspace / ".crystallize" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    app = app_for(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        await home_ready(app, pilot)
        assert app.theme == "textual-dark"
        messages = [n.message for n in app._notifications]
        assert any(problem in m and str(path) in m for m in messages), messages
        app.theme = "textual-light"
        await until(pilot, lambda: saved_theme(path) == "textual-light")
    saved = json.loads(path.read_text())
    assert saved["theme"] == "textual-light"
    broken = path.with_name("settings.json.broken")
    if kept_aside:  # what could not be read is kept beside the new file
        assert broken.read_text() == content
    else:  # a readable file keeps its other keys
        assert saved == {"theme": "textual-light", "mine": 1} and not broken.exists()
