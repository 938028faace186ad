"""The rule modules follow one naming scheme, stay small, and declare their facts."""

from __future__ import annotations

import ast
import pathlib
import re

import numpy as np

import srcgrad.rules
from srcgrad.rules.registry import find_vjp_rule, is_internal
from srcgrad.rules.runtime_helpers import unbroadcast

RULES = pathlib.Path(srcgrad.rules.__file__).parent


def test_every_rule_module_is_named_by_family_and_direction_and_is_small():
    for path in RULES.glob("*.py"):
        if path.name not in ("__init__.py", "registry.py"):
            assert re.fullmatch(r"[a-z]+_(vjp|jvp|helpers)\.py", path.name), path.name
        assert len(path.read_text().splitlines()) < 400, path.name


def test_reshapes_is_declared_false_only_for_rules_that_keep_the_cotangent_shape():
    assert find_vjp_rule(np.sin, 1, ()).reshapes is False
    assert find_vjp_rule(ast.Mult, 2, ()).reshapes is False
    assert find_vjp_rule(ast.MatMult, 2, ()).reshapes is True
    assert find_vjp_rule(np.reshape, 2, ()).reshapes is True


def test_helpers_are_declared_internal_and_public_primals_are_not():
    assert is_internal(unbroadcast) and not is_internal(np.sin) and not is_internal(srcgrad.stop_gradient)
