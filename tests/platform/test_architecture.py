"""The rooms' import rules, read from the source with `ast` (every import: at the top, inside functions, under
`if TYPE_CHECKING:`; import_module, __import__, find_spec and importlib.resources.files calls; and
"ordergraph.room.module:attribute" factory strings).

Bottom to top: models, loaders, resolvers, subscriptions, schema, server; bench sits above them all and the tests
outside. A room imports only its own modules and the rooms below it. Every import of the project names it as
installed, `ordergraph.<room>`: the folders are not importable under their own names (PyPI's `schema` is another
package), so a bare `import schema` or a relative import works only by accident, from the checkout's root.
"""

import ast
import importlib.util
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
ROOMS = ("models", "loaders", "resolvers", "subscriptions", "schema", "server")
BENCH = "bench"
# The folders scanned, each with its rank: a module may import the rooms of its rank and below. The contract
# (frontend-contract/, installed as ordergraph.contract) is data that every room may read and imports no room.
FOLDERS = {"frontend-contract": -1, **{room: rank for rank, room in enumerate(ROOMS)}, BENCH: len(ROOMS)}
INSTALLED_NAME = {"frontend-contract": "contract"}
RANK = {**{INSTALLED_NAME.get(folder, folder): rank for folder, rank in FOLDERS.items()}, "contract": None}
# The tests' own modules: nothing the project ships or runs (bench included) may import them.
TEST_HELPERS = frozenset({"tests", "contract", "factories", "conftest"})
FACTORY_STRING = re.compile(r"ordergraph(\.\w+)+:\w+(\.\w+)*")
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__", "find_spec", "files"})


@dataclass(frozen=True)
class Import:
    path: Path  # relative to the checkout
    line: int
    text: str  # the statement, as written
    target: str | None  # the absolute module imported; None for a relative import
    where: str  # "module level", "inside f()", "under TYPE_CHECKING", …

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text} ({self.where})"


class _Imports(ast.NodeVisitor):
    """Every import in one module, with where it sits."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.context: list[str] = []
        self.found: list[Import] = []
        self.seen: set[int] = set()  # the string constants already read as an import_module call's argument

    def _add(self, node: ast.AST, target: str | None) -> None:
        text = ast.unparse(node) if isinstance(node, ast.Import | ast.ImportFrom | ast.Call) else repr(target)
        where = ", ".join(self.context) or "module level"
        self.found.append(Import(self.path, node.lineno, text, target, where))

    def _nested(self, label: str, node: ast.AST) -> None:
        self.context.append(label)
        self.generic_visit(node)
        self.context.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._nested(f"inside {node.name}()", node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._nested(f"inside class {node.name}", node)

    def visit_If(self, node: ast.If) -> None:
        test = ast.unparse(node.test)
        if "TYPE_CHECKING" not in test:
            self.generic_visit(node)
            return
        self.visit(node.test)
        self.context.append(f"under if {test}")
        for child in node.body:
            self.visit(child)
        self.context.pop()
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self._add(node, None)
        elif node.module == "ordergraph":
            # `from ordergraph import schema` imports the room ordergraph.schema.
            for alias in node.names:
                self._add(node, f"ordergraph.{alias.name}")
        else:
            self._add(node, node.module)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("ordergraph.x"), __import__, importlib.util.find_spec, importlib.resources.files:
        # a module named in a string, imported (or read) when the call runs.
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
        if name in DYNAMIC_IMPORTS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                relative = first.value.startswith(".")
                self._add(node, None if relative else first.value)
                self.seen.add(id(first))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # "ordergraph.server.app:create_app", handed to uvicorn (or any other factory loader), is imported later.
        if id(node) not in self.seen and isinstance(node.value, str) and FACTORY_STRING.fullmatch(node.value):
            self._add(node, node.value.partition(":")[0])


def imports_in(path: Path, source: str) -> list[Import]:
    visitor = _Imports(path, source)
    visitor.visit(ast.parse(source, filename=str(path)))
    return visitor.found


def scanned_modules() -> list[tuple[str, Path]]:
    """(folder, path relative to the checkout) of every Python file in the scanned folders."""
    modules = []
    for folder in FOLDERS:
        for path in sorted((CHECKOUT / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                modules.append((folder, path.relative_to(CHECKOUT)))
    return modules


def all_imports() -> list[tuple[str, Import]]:
    return [
        (folder, found)
        for folder, path in scanned_modules()
        for found in imports_in(path, (CHECKOUT / path).read_text(encoding="utf-8"))
    ]


def _top(target: str) -> str:
    return target.split(".")[0]


def layer_violations(folder: str, found: Import) -> list[str]:
    """A module importing a room above its own, or a project package that does not exist."""
    if found.target is None or _top(found.target) != "ordergraph":
        return []
    parts = found.target.split(".")
    if len(parts) == 1:
        return []  # the namespace itself
    room, rank = parts[1], FOLDERS[folder]
    if room not in RANK or room == BENCH:
        return [f"{found} — ordergraph.{room} is not a package of the project"]
    target_rank = RANK[room]
    if target_rank is not None and target_rank > rank:
        return [f"{found} — {INSTALLED_NAME.get(folder, folder)} imports {room}, a room above it"]
    return []


def naming_violations(folder: str, found: Import) -> list[str]:
    """A relative import, or a project folder imported by its bare name."""
    if found.target is None:
        return [f"{found} — a relative import: write the absolute ordergraph.<room>…"]
    top = _top(found.target)
    if top in ROOMS:
        return [f"{found} — the bare room name `{top}`: import ordergraph.{top}"]
    if top == BENCH and folder != BENCH:
        return [f"{found} — bench sits above every room and is not installed"]
    return []


def helper_violations(folder: str, found: Import) -> list[str]:
    if found.target is None:
        return []
    top = _top(found.target)
    if top in TEST_HELPERS or top.startswith("test_"):
        return [f"{found} — `{top}` is the tests' own module: {INSTALLED_NAME.get(folder, folder)} may not use it"]
    return []


def _report(title: str, violations: list[str]) -> str:
    return f"{len(violations)} {title}:\n" + "\n".join(f"  {v}" for v in violations)


def test_the_scanner_sees_every_kind_of_import() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import ordergraph.loaders.base as base
        from ordergraph import server
        from . import sibling
        if TYPE_CHECKING:
            from ordergraph.schema.limits import QueryLimits
        else:
            import schema
        def f():
            from ordergraph.subscriptions.hub import Hub
            importlib.import_module("ordergraph.resolvers.orders")
            uvicorn.run("ordergraph.server.app:create_app")
        class C:
            import factories
        """
    )
    found = imports_in(Path("models/example.py"), source)
    assert [(f.line, f.target, f.where) for f in found] == [
        (2, "typing", "module level"),
        (3, "ordergraph.loaders.base", "module level"),
        (4, "ordergraph.server", "module level"),
        (5, None, "module level"),
        (7, "ordergraph.schema.limits", "under if TYPE_CHECKING"),
        (9, "schema", "module level"),
        (11, "ordergraph.subscriptions.hub", "inside f()"),
        (12, "ordergraph.resolvers.orders", "inside f()"),
        (13, "ordergraph.server.app", "inside f()"),
        (15, "factories", "inside class C"),
    ]
    layers = [v for f in found for v in layer_violations("models", f)]
    assert len(layers) == 6, layers  # all but typing, the relative import, schema and factories
    assert not [v for f in found for v in layer_violations(BENCH, f)]
    assert [f.line for f in found if naming_violations("models", f)] == [5, 9]
    assert [f.line for f in found if helper_violations(BENCH, f)] == [15]


def test_every_room_is_scanned() -> None:
    modules = scanned_modules()
    for folder in FOLDERS:
        assert any(f == folder for f, _ in modules), f"no Python file found in {folder}/"
    assert len(modules) > 100, f"only {len(modules)} modules found under {CHECKOUT}"


def test_rooms_import_only_the_rooms_below_them() -> None:
    violations = [v for folder, found in all_imports() for v in layer_violations(folder, found)]
    order = " < ".join(ROOMS) + f" < {BENCH}"
    assert not violations, _report(f"imports of a room above the importer ({order}) or of no room", violations)


def test_every_project_import_names_ordergraph() -> None:
    violations = [v for folder, found in all_imports() for v in naming_violations(folder, found)]
    assert not violations, _report("imports of the project not through ordergraph.<room>", violations)


def test_nothing_shipped_or_benchmarked_imports_the_tests() -> None:
    violations = [v for folder, found in all_imports() for v in helper_violations(folder, found)]
    assert not violations, _report(f"imports of the tests' modules ({', '.join(sorted(TEST_HELPERS))})", violations)


def _in_folder(location: str | None, folder: Path) -> bool:
    return location is not None and Path(location).resolve().is_relative_to(folder)


def test_the_bare_room_names_are_not_importable() -> None:
    """The tests run against the installed names only: were the checkout's root on sys.path, a bare
    `import schema` in the code would pass here and fail once installed from the wheel."""
    importable = []
    for name in ROOMS:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        locations = [spec.origin, *(spec.submodule_search_locations or [])]
        if name == "schema" and not any(_in_folder(location, CHECKOUT / name) for location in locations):
            continue  # PyPI's schema (in site-packages, perhaps the checkout's .venv): another package
        importable.append(f"  {name}: {spec.origin or list(spec.submodule_search_locations or [])}")
    on_path = [entry for entry in sys.path if Path(entry or ".").resolve() == CHECKOUT]
    assert not importable, (
        "the checkout's folders are importable under their bare names:\n"
        + "\n".join(importable)
        + f"\nsys.path entries naming the checkout: {on_path!r} (run `.venv/bin/pytest`, not `python -m pytest`"
        " from the checkout, and set no PYTHONPATH)"
    )


# Run in a process of its own: other tests build schemas in this one.
_NO_SCHEMA_BUILT = """
import importlib, json, os, sys, traceback
import graphql, strawberry

checkout = sys.argv[1] + os.sep
built = []

def ours(filename):
    return filename.startswith(checkout) and "site-packages" not in filename

def record(cls):
    original = cls.__init__
    def __init__(self, *args, **kwargs):
        frames = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack()[:-1] if ours(f.filename)]
        built.append(f"{cls.__module__}.{cls.__qualname__} built from {' <- '.join(reversed(frames))}")
        original(self, *args, **kwargs)
    cls.__init__ = __init__

record(strawberry.Schema)
record(graphql.GraphQLSchema)
results = {}
for name in sys.argv[2:]:
    module = importlib.import_module(name)
    assert ours(module.__file__), f"{name} is {module.__file__}, not the checkout's (pip install -e .)"
    results[name] = list(built)
    built.clear()
print(json.dumps(results))
"""


def test_importing_a_schema_module_builds_no_schema(tmp_path: Path) -> None:
    """Building the schema is ordergraph.schema.build's job, asked for by the server; importing any other
    schema module (a type, the limits, the trusted documents) builds none."""
    names = [
        f"ordergraph.schema.{path.stem}"
        for path in sorted((CHECKOUT / "schema").glob("*.py"))
        if path.stem not in {"__init__", "build"}
    ]
    names.insert(0, "ordergraph.schema")
    result = subprocess.run(
        [sys.executable, "-c", _NO_SCHEMA_BUILT, str(CHECKOUT), *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"importing the schema modules failed:\n{result.stdout}\n{result.stderr}"
    built = {name: schemas for name, schemas in json.loads(result.stdout.splitlines()[-1]).items() if schemas}
    assert not built, "importing these modules built a schema:\n" + "\n".join(
        f"  {name}: {schema}" for name, schemas in built.items() for schema in schemas
    )
