"""The dataset registry: every prepared dataset declared once, and used by name constants."""

from __future__ import annotations

import ast
import json
import re

import pytest

from datamed.core.config import REPO_ROOT
from datamed.datasets import DS, UnknownDataset, registry
from datamed.datasets.columns import COLUMNS_FR

CODE_DIRS = [REPO_ROOT / "datamed", REPO_ROOT / "pages"]
NAMES = {d.value for d in DS}


def test_every_name_has_exactly_one_declaration():
    declared = [d.name for d in registry.REGISTRY]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(DS)


def test_declarations_are_complete():
    for d in registry.REGISTRY:
        assert d.title and d.description, d.name
        assert d.public or d.internal, d.name
        for column, target, ref in d.foreign_keys:
            assert isinstance(target, DS) and registry.get(target).public, (d.name, target)
        if d.disclosure:
            assert "n_cas" in d.disclosure.counts or d.disclosure.counts, d.name


@pytest.mark.parametrize("fixture", ["real_prepared", "demo_prepared"])
def test_the_build_writes_registered_datasets_only(request, fixture):
    manifest = json.loads((request.getfixturevalue(fixture) / "manifest.json").read_text(encoding="utf-8"))
    written = set(manifest["datasets"])
    assert written <= NAMES, f"written but not registered: {sorted(written - NAMES)}"
    missing = {d.name for d in registry.REGISTRY if d.name not in written and not d.optional}
    assert not missing, f"registered (not optional) but not written: {sorted(missing)}"
    for name, entry in manifest["datasets"].items():
        assert entry["description"] == registry.get(name).description, name


def test_every_registered_dataset_is_written_by_some_build(real_prepared, demo_prepared):
    written = set()
    for folder in (real_prepared, demo_prepared):
        written |= set(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["datasets"])
    never = {d.name for d in registry.REGISTRY if d.name not in written}
    # product-level pharmacovigilance tables exist only when prod_data_* files of that table are present;
    # the risk model's tables need an archive of two horizons (tests/test_risk.py builds one)
    assert {n for n in never if not n.startswith("ei_produit_")} == {
        "risque_evaluation",
        "risque_calibration",
        "risque_ruptures",
    }, never


def test_public_columns_are_documented(real_store):
    for d in registry.PUBLIC:
        frame = real_store.table(d.name)
        undocumented = [c for c in frame.columns if c not in d.columns and c not in COLUMNS_FR and c not in d.drop]
        assert not [c for c in undocumented if c not in registry.INTERNAL_COLUMNS], (d.name, undocumented)


def test_store_refuses_unknown_names(demo_store):
    with pytest.raises(UnknownDataset):
        demo_store.table("specialitess")
    with pytest.raises(UnknownDataset):
        demo_store.has("nope")
    with pytest.raises(UnknownDataset):
        registry.get("nope")
    assert demo_store.table(DS.SPECIALITES).height > 0


def _python_files():
    for folder in CODE_DIRS:
        for path in sorted(folder.rglob("*.py")):
            if "datasets" not in path.relative_to(REPO_ROOT).parts:
                yield path


def test_no_dataset_name_is_typed_outside_the_registry():
    """Datasets are referred to through DS: no string literal naming a dataset in a
    dataset position (store.table/has, datasets[...], datasets.get(...))."""
    bad = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literal = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                if node.func.attr in ("table", "has", "snapshot_of") or (
                    node.func.attr == "get"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "datasets"
                ):
                    literal = node.args[0]
            elif isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
                owner = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
                if owner in ("datasets", "frames", "inputs"):
                    literal = node.slice
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str) and literal.value in NAMES:
                bad.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {literal.value!r}")
            if isinstance(literal, ast.JoinedStr):
                bad.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: f-string dataset name")
    assert not bad, bad


def test_code_patterns_live_in_one_module():
    """CIS / CIP13 / ATC / INSEE patterns are written only in datamed/core/codes.py."""
    signatures = [r"\{8\}\$", r"\{13\}\$", r"2A\|2B", r"2\[AB\]", r"\[A-Z\]\(\[0-9\]\{2\}", r"\[A-Z\]\(\\\\d\{2\}"]
    bad = []
    for path in _python_files():
        if path.name == "codes.py" and path.parent.name == "core":
            continue
        text = path.read_text(encoding="utf-8")
        for sig in signatures:
            for m in re.finditer(sig, text):
                bad.append(f"{path.relative_to(REPO_ROOT)}:{text[: m.start()].count(chr(10)) + 1}")
    assert not bad, bad
