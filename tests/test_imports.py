"""Which layer may import which (CONTRIBUTING.md), checked on every module's AST.

Every import counts, at the top of a file or inside a function (board code imports lazily to save
RAM, so the lazy ones are most of them); relative imports are resolved to their absolute name."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("radio", "codecs", "firmware", "boards", "gateway", "tools")

# importer layer -> the other layers it may import. The portable core is at the bottom: radio
# imports nothing of ours, codecs only radio (its limits). Board code never sees gateway or tools.
ALLOWED = {
    "radio": set(),
    "codecs": {"radio"},
    "firmware": {"codecs", "radio", "boards"},
    "boards": {"codecs", "radio", "firmware"},
    "gateway": {"codecs", "radio"},
    "tools": {"codecs", "radio", "firmware", "boards", "gateway"},
}
# The two board-side folders meet at exactly two places, so the module graph has no cycle:
# firmware.app's entry point picks the real board (boards.esp32), and a board wires the
# drivers and the store into its pins and flash. Only the simulated board (boards.host, host-only)
# runs the app itself. Any other firmware -> boards or boards -> firmware.app edge is a violation.
FIRMWARE_MAY_IMPORT_BOARDS = {"lpwa.firmware.app": {"lpwa.boards.esp32"}}
BOARDS_MAY_IMPORT_APP = "lpwa.boards.host"  # the simulated board, a module or a package


def module_name(root, path):
    """`<root>/codecs/frame.py` -> lpwa.codecs.frame (a package's __init__ is the package)."""
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] == "__init__":
        rel = rel[:-1]
    return ".".join(["lpwa"] + rel)


def imports(path, name):
    """[(line, absolute module)] of every lpwa import in the file, wherever it stands."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out += [(node.lineno, base)]
            out += [(node.lineno, base + "." + a.name) for a in node.names if a.name != "*"]
    return [(line, m) for line, m in out if m.startswith("lpwa.")]


def violations(root=ROOT):
    """Every import that breaks the rules above, as 'file:line: importer -> imported (why)'."""
    found = {}
    for layer in LAYERS:
        for path in _python_files(os.path.join(root, layer)):
            name = module_name(root, path)
            for line, target in imports(path, name):
                why = _why(layer, name, target)
                where = "%s:%d" % (os.path.relpath(path, root), line)
                if why and len(target) > len(found.get(where, ("", ""))[0]):  # `from a import b`: name a.b
                    found[where] = (target, "%s: %s -> %s (%s)" % (where, name, target, why))
    return sorted(text for _target, text in found.values())


def _why(layer, name, target):
    other = target.split(".")[1]
    if other == layer or other not in LAYERS:
        return None
    if other not in ALLOWED[layer]:
        return "%s may import only %s" % (layer, ", ".join(sorted(ALLOWED[layer])) or "nothing of ours")
    if layer == "firmware" and other == "boards" and not _allowed_edge(name, target):
        return "only firmware.app's entry point picks a board (boards.esp32)"
    if layer == "boards" and target.startswith("lpwa.firmware.app") and not (name == BOARDS_MAY_IMPORT_APP or name.startswith(BOARDS_MAY_IMPORT_APP + ".")):
        return "a board gives the app its pins; only the simulated board runs the app"
    return None


def _allowed_edge(name, target):
    allowed = FIRMWARE_MAY_IMPORT_BOARDS.get(name, set())
    return target == "lpwa.boards" or any(target == a or target.startswith(a + ".") for a in allowed)


def _python_files(top):
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("node_modules", "__pycache__")]
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(folder, f)


def test_every_import_follows_the_layer_rules():
    assert violations() == []


def test_the_rules_catch_a_violation_at_the_top_and_inside_a_function(tmp_path):
    """A copy of the tree's shape with three planted violations: all three are reported."""
    for layer, text in (("codecs", "def f():\n    from lpwa.gateway import config\n"),
                        ("firmware", "import lpwa.tools.cli\n"),
                        ("boards", "def g():\n    from ..firmware.app import Node\n")):
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "bad.py").write_text(text)
    found = violations(str(tmp_path))
    assert len(found) == 3, found
    assert found[0].startswith("boards/bad.py:2: lpwa.boards.bad -> lpwa.firmware.app")
    assert found[1].startswith("codecs/bad.py:2: lpwa.codecs.bad -> lpwa.gateway")
    assert found[2].startswith("firmware/bad.py:1: lpwa.firmware.bad -> lpwa.tools.cli")


def test_board_code_has_no_import_cycle():
    """firmware and boards import each other as folders, never in a loop of modules, in what goes
    on a board (boards/manifest.py; the host-only simulated board is not board code)."""
    from lpwa.tools.mpy import manifest

    graph = {}
    for path, target in manifest.read():
        name = module_name(ROOT, os.path.join(ROOT, target.split("/", 1)[1]))
        graph[name] = {m for _line, m in imports(path, name)}
    modules = set(graph)
    edges = {n: {m for m in targets if m in modules and m != n} for n, targets in graph.items()}
    state = {}

    def visit(n, trail):
        state[n] = "open"
        for m in sorted(edges[n]):
            assert state.get(m) != "open", "import cycle: " + " -> ".join(trail + [n, m])
            if m not in state:
                visit(m, trail + [n])
        state[n] = "done"

    for n in sorted(edges):
        if n not in state:
            visit(n, [])
