"""The shape of the house (shared/design/architecture.md): imports point down, no cycle, no private name crosses a
module, no sibling imported inside a function to dodge a cycle; no module over 400 lines, no function over 40; every
line within 120 characters. These read the generated library as text (`ast`), so they run in a second."""
import ast
import pathlib

import pytest

LIB = pathlib.Path(__file__).resolve().parents[1] / 'softmax_scratch'
MODULES = {p.stem: p for p in sorted(LIB.glob('*.py')) if not p.stem.startswith('_')}
DEFERRED_OK = {'cli'}   # the command line imports its floors inside each command, so that `--help` stays fast


def sibling(node, module):
    "The sibling module an import node names (`from .x import`, `from softmax_scratch.x import`, `import softmax_scratch.x`)."
    if isinstance(node, ast.ImportFrom):
        name = node.module or ''
        if node.level: return name.split('.')[0] or None
        if name.startswith('softmax_scratch.'): return name.split('.')[1]
        return None
    return next((a.name.split('.')[1] for a in node.names if a.name.startswith('softmax_scratch.')), None)


def imports(path):
    "(module imported, names, at module level?) for each import of a sibling in `path`."
    tree, out = ast.parse(path.read_text()), []
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and (mod := sibling(node, path.stem)) in MODULES:
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            out.append((mod, names, id(node) in top))
    return out


GRAPH = {m: imports(p) for m, p in MODULES.items()}


def test_the_import_graph_has_no_cycle():
    edges = {m: {t for t, _, _ in GRAPH[m]} for m in MODULES}
    state = {}
    def visit(m, path):
        if state.get(m) == 'done': return
        if state.get(m) == 'open': pytest.fail(f"import cycle: {' -> '.join(path + [m])}")
        state[m] = 'open'
        for t in sorted(edges[m]): visit(t, path + [m])
        state[m] = 'done'
    for m in MODULES: visit(m, [])


def test_no_private_name_crosses_a_module():
    bad = [f"{m} imports {n} from {t}" for m, rows in GRAPH.items() for t, names, _ in rows for n in names
           if n.startswith('_')]
    assert not bad, bad


def test_no_sibling_is_imported_inside_a_function():
    bad = [f"{m} imports {t} inside a function" for m, rows in GRAPH.items() if m not in DEFERRED_OK
           for t, _, top in rows if not top]
    assert not bad, bad


def test_modules_and_functions_fit_a_screen():
    long_modules = [f"{m}: {n} lines" for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 400]
    long_functions = [f"{m}.{f.name}: {f.end_lineno - f.lineno + 1} lines" for m, p in MODULES.items()
                      for f in ast.walk(ast.parse(p.read_text()))
                      if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.end_lineno - f.lineno + 1 > 40]
    assert not long_modules and not long_functions, (long_modules, long_functions)


def all_lines(tree):
    "Line numbers of the `__all__ = [...]` statement nbdev writes (it wraps the list at 120 before its 10-character prefix)."
    return {i for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets)
            for i in range(n.lineno, n.end_lineno + 1)}


def test_library_lines_are_at_most_120_characters():
    bad = []
    for m, p in MODULES.items():
        text = p.read_text()
        skip = all_lines(ast.parse(text))
        bad += [f"{p.name}:{i}: {len(line)}" for i, line in enumerate(text.splitlines(), 1) if len(line) > 120 and i not in skip]
    assert not bad, bad


def test_the_graph_catches_what_it_should():
    "The checks above on planted code: a cycle, a private import, a function-level import."
    tree = ast.parse("from .a import _x\ndef f():\n    from softmax_scratch.b import y\n")
    found = [(sibling(n, 'z'), [a.name for a in n.names]) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert found == [('a', ['_x']), ('b', ['y'])]
