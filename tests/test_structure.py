"""The package's structure: no import cycles, no imports from a lower layer up, registries that are complete on
import, and published models that load without the training code.

The layers, lowest first (docs/architecture.md draws the same map); a module imports modules of its own layer or of
lower ones, never of a higher one, at module level or inside a function:

====  ===============================================  ===========================================================
layer packages / modules                                what
====  ===============================================  ===========================================================
0     ``errors``, ``io``                               user-facing errors, file chores
1     ``data``, ``nets``, ``losses``, ``metrics``      images and datasets, plain networks, losses, metrics
2     ``inference``                                    the Stylizer contract, its consumers (tiles, video, ONNX),
                                                       and the inference half of AdaIN and pix2pix
3     ``loading``, ``pretrained``                      models from files, the Hub and published weights
4     ``methods``                                      the LightningModules: training
5     ``callbacks``, ``plugins``                       Lightning callbacks and plugins
6     ``demo``, ``pipeline``                           doors for people: the web demo, the notebook API
7     ``commands``                                     the subcommands and their one command layer
8     ``cli``, ``__main__``, the package itself        the entry point; ``gan_style/__init__.py``'s lazy facade
====  ===============================================  ===========================================================

Cycles are counted among module-level imports (those inside functions are how a cycle is broken lazily), after
the ``if TYPE_CHECKING:`` blocks are left out; the layer rule counts every import. Importing ``a.b.c`` also runs
``a/__init__.py`` and ``a/b/__init__.py``; those implicit parent imports are not edges (a package re-exporting its
modules would otherwise be a cycle with each of them).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gan_style"

#: The layers, lowest first: the first part of a module's name below ``gan_style`` ("" for the package itself).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "io"),
    ("data", "nets", "losses", "metrics"),
    ("inference",),
    ("loading", "pretrained"),
    ("methods",),
    ("callbacks", "plugins"),
    ("demo", "pipeline"),
    ("commands",),
    ("cli", "__main__", ""),
)

#: Upward imports known today, each to be removed by moving what it needs down (the test fails when one is gone, so
#: the list only shrinks). (importer, imported)
KNOWN_UPWARD: set[tuple[str, str]] = set()


# --- the import graph -------------------------------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements a module runs when imported: at module level, in ``if`` / ``try`` / ``with`` blocks,
    not in functions or classes, not under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            found += _module_level(node.orelse) if _is_type_checking(node) else _module_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            blocks = node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
            found += _module_level(blocks)
        elif isinstance(node, ast.With):
            found += _module_level(node.body)
    return found


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules that ``node`` (in ``module``) imports: the longest known prefix of each name
    (``from gan_style.nets import VGGFeatures`` -> ``gan_style.nets``; ``from gan_style.io import atomic`` ->
    ``gan_style.io.atomic``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the module's package
            package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([node.module] if node.module else []))
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    targets = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            targets.add(name)
    return targets


def _graph(every_import: bool) -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        nodes = (
            [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
            if every_import
            else _module_level(tree.body)
        )
        graph[module] = {target for node in nodes for target in _targets(module, node)}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _layer(module: str) -> int | None:
    part = module.split(".")[1] if "." in module else ""
    return next((i for i, names in enumerate(LAYERS) if part in names), None)


# --- the rules --------------------------------------------------------------------------------------------------


def test_the_graph_sees_the_imports():
    """The graph finds what a reader sees: package re-exports, absolute names, and an import inside a function
    only when every import counts."""
    top, every = _graph(every_import=False), _graph(every_import=True)
    assert "gan_style.nets.adain" in top["gan_style.nets"]
    assert "gan_style.inference.adain" in top["gan_style.methods.adain"]
    assert "gan_style.pretrained" not in top["gan_style.methods.adain"]  # imported inside a function
    assert "gan_style.pretrained" in every["gan_style.methods.adain"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_among_module_level_imports():
    cycles = _cycles(_graph(every_import=False))
    assert not cycles, "import cycles (module-level imports): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if _layer(m) is None)
    assert not missing, f"modules outside the layer map of tests/test_structure.py: {missing}"


def test_no_import_from_a_lower_layer_to_a_higher_one():
    upward = set()
    for module, targets in _graph(every_import=True).items():
        for target in targets:
            if (_layer(module) or 0) < (_layer(target) or 0):
                upward.add((module, target))
    new = sorted(upward - KNOWN_UPWARD)
    gone = sorted(KNOWN_UPWARD - upward)
    assert not new, "imports from a lower layer up (move what they need down): " + ", ".join(
        f"{a} -> {b}" for a, b in new
    )
    assert not gone, f"no longer imported: remove {gone} from KNOWN_UPWARD"


# --- registries complete on import --------------------------------------------------------------------------------


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def _registered_loss_names() -> set[str]:
    """The names of every ``@register_loss("name")`` in the package's source."""
    names = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                for decorator in node.decorator_list:
                    if (
                        isinstance(decorator, ast.Call)
                        and getattr(decorator.func, "id", getattr(decorator.func, "attr", None)) == "register_loss"
                        and decorator.args
                        and isinstance(decorator.args[0], ast.Constant)
                    ):
                        names.add(decorator.args[0].value)
    return names


def test_the_loss_registry_lists_every_loss_right_after_import():
    """``import gan_style.losses`` alone (no method imported first) registers every loss of the package."""
    out = _run(
        "import json, sys\n"
        "from gan_style.losses import create_loss, list_losses\n"
        "create_loss('patchnce')\n"
        "print(json.dumps([list_losses(), sorted(m for m in sys.modules if m.startswith('gan_style.methods'))]))"
    )
    listed, methods = json.loads(out)
    expected = _registered_loss_names()
    assert {"patchnce", "gan", "l1", "content", "mean_std"} <= expected
    assert set(listed) == expected
    assert methods == []


def test_the_published_model_registry_fails_loudly_and_holds_every_family():
    from gan_style.pretrained import CATALOGUE
    from gan_style.pretrained.converters import CONVERTERS
    from gan_style.pretrained.registry import PretrainedModel, PublishedFile, register_family

    assert set(CONVERTERS) == {entry.family for entry in CATALOGUE.values()}
    assert list(CONVERTERS) == ["cyclegan", "pix2pix", "adain", "fast_neural_style", "cut"]  # the listing's order
    before = (dict(CATALOGUE), dict(CONVERTERS))
    with pytest.raises(ValueError, match="'cyclegan' is already registered"):
        register_family("cyclegan", [])(lambda files, settings, name: None)
    entry = PretrainedModel("test_family/x", "test_family", "M", "t", {"generator": PublishedFile("http://x/x.pth")})
    with pytest.raises(ValueError, match="'test_family/x' is already registered"):
        register_family("test_family", [entry, entry])(lambda files, settings, name: None)
    with pytest.raises(ValueError, match="registered under family 'other'"):
        register_family("other", [entry])(lambda files, settings, name: None)
    assert (dict(CATALOGUE), dict(CONVERTERS)) == before  # nothing registered by a refused call


# --- published models without the training code -----------------------------------------------------------------


def test_published_models_load_without_the_training_code(tmp_path, monkeypatch):
    """``from_pretrained("adain")`` and ``from_pretrained("candy")`` from a filled cache, and the converters of the
    CycleGAN, pix2pix and CUT layouts (small networks of the same layout), run in a fresh interpreter that never
    imports Lightning or ``gan_style.methods``."""
    from test_pretrained import fast_neural_style_state

    from gan_style.nets import AdaINDecoder, ResnetGenerator, UnetGenerator, VGGFeatures
    from gan_style.nets.cut import CUTGenerator
    from gan_style.pretrained import cached_path

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    torch.manual_seed(0)
    cached = {
        ("adain", "decoder"): AdaINDecoder().state_dict(),
        ("adain", "encoder"): VGGFeatures(["relu4_1"], weights=None, layout="adain").body.state_dict(),
        ("fast_neural_style/candy", "generator"): fast_neural_style_state(),
    }
    for (name, role), state in cached.items():
        path = cached_path(name, role)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, path)
    small = {
        "cyclegan": (ResnetGenerator, {"n_blocks": 2, "ngf": 8, "norm": "instance", "use_dropout": False}),
        "pix2pix": (UnetGenerator, {"num_downs": 5, "ngf": 8, "norm": "batch", "use_dropout": True}),
        "cut": (CUTGenerator, {"n_blocks": 2, "ngf": 8, "norm": "instance", "no_antialias": False}),
    }
    files = {}
    for family, (cls, settings) in small.items():
        files[family] = str(tmp_path / f"{family}.pth")
        torch.save(cls(**settings).state_dict(), files[family])
    settings = {family: settings for family, (_, settings) in small.items()}
    code = f"""
import json, sys
from pathlib import Path
import torch
import gan_style.pretrained
from gan_style.pretrained.converters import CONVERTERS

x = torch.rand(1, 3, 64, 64) * 2 - 1
shapes = {{}}
for name in ("adain", "candy"):
    stylizer = gan_style.pretrained.from_pretrained(name, progress=False)
    shapes[name] = list((stylizer(x, [x]) if stylizer.takes_style else stylizer(x)).shape)
small = {settings!r}
files = {files!r}
for family, settings in small.items():
    stylizer = CONVERTERS[family]({{"generator": Path(files[family])}}, settings, family).eval()
    shapes[family] = list(stylizer(x).shape)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("lightning", "pytorch_lightning", "lightning_fabric")
               or m.startswith("gan_style.methods"))
print(json.dumps([shapes, heavy]))
"""
    shapes, heavy = json.loads(_run(code))
    assert shapes == {name: [1, 3, 64, 64] for name in ("adain", "candy", "cyclegan", "pix2pix", "cut")}
    assert heavy == []
