"""core/ is the engine: it must never import streamlit, directly or through
another module; and every page file is registered (and every registration has
its file), so navigation and cards only list pages that exist."""

import ast
import subprocess
import sys

from ui.registry import ROOT, SECTIONS, all_pages

CORE = ROOT / "core"


def _core_modules():
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield path, ".".join(parts)


def test_no_streamlit_import_statement_in_core():
    offenders = []
    for path, _ in _core_modules():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "streamlit"]
    assert not offenders, f"core/ imports streamlit: {offenders}"


def test_core_does_not_pull_in_streamlit_transitively():
    modules = [name for _, name in _core_modules()]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "loaded = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
        "assert not loaded, loaded[:5]\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_registry_matches_the_pages_folder():
    registered = {p.path for p in all_pages()}
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py")}
    assert registered == on_disk, f"unregistered: {on_disk - registered}; missing files: {registered - on_disk}"


def test_registry_entries_are_complete():
    pages = all_pages()
    assert len({p.url_path for p in pages}) == len(pages)
    assert len({p.title for p in pages}) == len(pages)
    for p in pages[1:]:
        assert p.section in SECTIONS, p
        assert p.hook and p.picture_file.is_file(), p
        assert not p.icon.startswith(":material"), "material icons need a web font; use an emoji"


def test_every_page_first_makes_sure_it_runs_inside_app():
    """See ui/shell.py: on a fresh server a direct link would bypass app.py."""
    for info in all_pages():
        tree = ast.parse(info.file.read_text())
        body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        body = body[1:] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else body
        first = body[0]
        assert (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Call)
            and getattr(first.value.func, "id", None) == "run_inside_app"
        ), f"{info.path}: the first statement must be run_inside_app()"
