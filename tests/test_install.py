"""The install and launch settings a teacher meets, read from the files that set them.

The behaviour they produce (no e-mail prompt, the browser opening on a desktop,
no Deploy button) is checked on a running server in tests/e2e/test_launch.py.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_test_script_installs_no_recommended_packages():
    """`apt-get install chromium` with recommends pulls about a hundred packages (avahi, CUPS,
    Samba, udev, Perl...) that a headless browser never uses."""
    script = (ROOT / "scripts" / "test.sh").read_text()
    installs = [line for line in script.splitlines()
                if re.search(r"\bapt-get\b.*\binstall\b", line) and not line.lstrip().startswith("#")]
    assert installs, "scripts/test.sh no longer installs the browser"
    for line in installs:
        words = shlex.split(line.replace("$sudo", "").replace('"${missing[@]}"', "PKGS"))
        assert "--no-install-recommends" in words, line


def test_config_has_no_email_prompt_keeps_the_desktop_browser_and_hides_deploy():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["showEmailPrompt"] is False
    assert "headless" not in config["server"]  # a desktop `streamlit run` still opens the browser
    assert config["client"]["toolbarMode"] == "viewer"  # no Deploy / Rerun / Clear cache; the theme menu stays


def test_the_class_server_watches_no_files():
    """Issue 11: a changed source file made Streamlit evict every app module at the next run,
    and a session importing a page at that moment failed; a class server needs no hot reload."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
