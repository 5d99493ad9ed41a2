"""Streamlit Community Cloud readiness: the files it reads do what the README says.

Community Cloud installs requirements.txt (uv, falling back to pip), the Debian packages in
packages.txt, and runs streamlit_app.py with .streamlit/config.toml.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from streamlit import config as streamlit_config

from tests.browser.lab_browser import relative_luminance

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][0-9A-Za-z.+!-]*")


def lines(name: str) -> list[str]:
    text = (ROOT / name).read_text()
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_runtime_requirements_are_pinned_and_torch_is_the_cpu_build():
    requirements = lines("requirements.txt")
    assert [line for line in requirements if line.startswith("-")] == [CPU_INDEX]
    packages = [line for line in requirements if not line.startswith("-")]
    assert all(PIN.fullmatch(line) for line in packages), packages
    assert "torch==2.13.0" in packages and "streamlit==1.67.0" in packages

    import torch

    assert torch.__version__.split("+")[0] == "2.13.0"
    assert torch.version.cuda is None          # the CPU build, as on Community Cloud


def test_test_requirements_add_to_the_runtime_ones():
    requirements = lines("requirements-test.txt")
    assert requirements[0] == "-r requirements.txt"
    assert all(PIN.fullmatch(line) for line in requirements[1:]), requirements
    assert any(line.startswith("playwright==") for line in requirements)


def test_packages_txt_installs_graphviz_for_svg_and_png_export():
    assert lines("packages.txt") == ["graphviz"]


def documented_backgrounds() -> dict[str, set[str]]:
    """Streamlit's default app, widget and sidebar backgrounds, from its own option help."""
    streamlit_config.get_option("theme.base")           # loads the option definitions
    found = {"light": set(), "dark": set()}
    for option in ("theme.backgroundColor", "theme.secondaryBackgroundColor"):
        help_text = " ".join(streamlit_config._config_options[option].description.split())
        for light, dark in re.findall(
                r"(#[0-9a-f]{6}) (?:for the light theme|\(light\)) (?:and|or) "
                r"(#[0-9a-f]{6}) (?:for the dark theme|\(dark\))", help_text):
            found["light"].add(light)
            found["dark"].add(dark)
    return found


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((relative_luminance([int(c[i:i + 2], 16) for i in (1, 3, 5)])
                        for c in (first, second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_theme_follows_the_system_and_controls_are_legible():
    with open(ROOT / ".streamlit" / "config.toml", "rb") as handle:
        theme = tomllib.load(handle)["theme"]
    assert "base" not in theme          # light or dark as the student's system says
    backgrounds = documented_backgrounds()
    assert len(backgrounds["light"]) >= 3 and len(backgrounds["dark"]) >= 3
    for name in ("light", "dark"):
        primary = theme[name]["primaryColor"]
        for background in backgrounds[name]:
            assert contrast(primary, background) >= 4.5, (name, primary, background)
