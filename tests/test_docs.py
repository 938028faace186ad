"""Every code block of the docs runs, and every output shown in them is what the code prints.

Conventions for fenced blocks in docs/*.md (and README.md):

* `python`: runs; the blocks of a page share one namespace, top to bottom. Functions
  defined there have source (the page's lines), so srcgrad can differentiate them.
* `output` or `python output`: exactly what the preceding `python` block printed.
* `console`: lines starting with `$ srcgrad ` run through the command line (from the
  repository root); the lines after each command are exactly what it prints (stdout and
  stderr).

`python tests/test_docs.py` rewrites the outputs with what the code prints now.
* anything else (`py` for code that is not run, such as PyTorch, `text`, `bash`): shown only.
"""

import contextlib
import io
import linecache
import re
import shlex
from pathlib import Path

import pytest

from srcgrad.driver import derivatives as transform
from srcgrad.rules import registry
from srcgrad.tools import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def blocks(text):
    """(info string, first line number of the code, code) of every fenced block."""
    for match in FENCE.finditer(text):
        yield match.group(1).strip(), _first_line(text, match), match.group(2)


@contextlib.contextmanager
def registry_restored():
    """Rules that a page registers (custom-rule examples) do not leak into other tests."""
    tables = ("_VJP_RULES", "_JVP_RULES", "_NONDIFF")
    saved = {table: {k: list(v) if isinstance(v, list) else v for k, v in getattr(registry, table).items()} for table in tables}
    try:
        yield
    finally:
        for table, content in saved.items():
            getattr(registry, table).clear()
            getattr(registry, table).update(content)
        transform.clear_cache()


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_code_blocks_run_and_outputs_match(page, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = page.read_text()
    with registry_restored():
        assert run_page(page, text) == text


def run_page(page, text, update=False):
    """Run the page's blocks; return its text, with outputs refreshed when `update`."""
    name = str(page.relative_to(ROOT))
    found = list(FENCE.finditer(text))
    runnable = [(_first_line(text, m), m.group(2)) for m in found if m.group(1).strip() == "python"]
    _register_lines(name, text.count("\n") + 1, runnable)
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    printed, replacements = None, []
    for match in found:
        info, line, code = match.group(1).strip(), _first_line(text, match), match.group(2)
        if info == "python":
            printed = _run(name, line, code, namespace)
        elif info in ("output", "python output"):
            assert printed is not None, f"{name}:{line}: an output block must follow a python block"
            replacements.append((match.start(2), match.end(2), printed.strip() + "\n"))
            assert update or printed.strip() == code.strip(), f"{name}:{line}: the block above prints something else{HINT}"
            printed = None
        elif info == "console":
            session = _console(code)
            replacements.append((match.start(2), match.end(2), session))
            assert update or session == code, f"{name}:{line}: a command prints something else:\n{session}{HINT}"
    for start, end, new in reversed(replacements):
        text = text[:start] + new + text[end:]
    return text


HINT = " (after checking the new output is right, refresh with `python tests/test_docs.py`)"


def _first_line(text, match):
    return text.count("\n", 0, match.start(2)) + 1


def _register_lines(name, length, runnable):
    """Put the page's runnable lines in linecache at their own line numbers (others blank)."""
    lines = ["\n"] * length
    for line, code in runnable:
        for offset, text in enumerate(code.splitlines(True)):
            lines[line - 1 + offset] = text
    linecache.cache[name] = (sum(map(len, lines)), None, lines, name)


def _run(name, line, code, namespace):
    padded = "\n" * (line - 1) + code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(padded, name, "exec"), namespace)
    return out.getvalue()


def _console(code):
    """The session with each `$ srcgrad ...` command followed by what it prints now."""
    lines = []
    for text in code.splitlines():
        if not text.startswith("$ "):
            continue
        lines.append(text)
        argv = shlex.split(text[2:])
        if argv[0] == "srcgrad":
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                cli.main(argv[1:])
            lines.extend(line for line in out.getvalue().rstrip().splitlines())
    return "\n".join(lines) + "\n"


def test_every_page_has_checked_code():
    for page in PAGES:
        if page.name in ("reference.md", "performance.md"):
            continue
        infos = [info for info, _, _ in blocks(page.read_text())]
        assert "python" in infos or "console" in infos, f"{page.name} has no code that the tests run"


if __name__ == "__main__":  # refresh the outputs shown in the docs (review the diff!)
    import os

    os.chdir(ROOT)
    for page in PAGES:
        for _ in range(3):  # outputs that change length move the line numbers below them
            text = page.read_text()
            with registry_restored():
                new = run_page(page, text, update=True)
            if new == text:
                break
            page.write_text(new)
            print(f"updated {page.relative_to(ROOT)}")
