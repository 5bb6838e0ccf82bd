"""libs/common/fastsql.py runs statements on SQLAlchemy's asyncpg adapter directly, through
names SQLAlchemy does not promise to keep (fastsql.PRIVATE_NAMES). pyproject pins the minor
version they were verified on; this fails loudly if an upgrade moved any of them."""

import inspect
import re
import tomllib
from pathlib import Path

import sqlalchemy
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from sqlalchemy import bindparam, column, select, table
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

from libs.common import fastsql

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_sqlalchemy_is_within_the_pinned_minor():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    line = next(d for d in deps if d.lower().startswith("sqlalchemy"))
    spec = SpecifierSet(re.sub(r"^sqlalchemy(\[[^\]]*\])?", "", line, flags=re.I))
    assert any(s.operator == "<" for s in spec), f"{line!r}: no upper bound on the minor version"
    assert Version(sqlalchemy.__version__) in spec


def test_every_private_name_fastsql_uses_is_there():
    adapter = pg_asyncpg.AsyncAdapt_asyncpg_connection
    init = "".join(
        inspect.getsource(k.__init__) for k in adapter.__mro__ if inspect.isfunction(vars(k).get("__init__"))
    )
    compiled = select(table("t", column("a"))).where(column("a").in_([1, 2]), column("a") != bindparam("b"))
    sql = compiled.params(b=0).compile(
        dialect=pg_asyncpg.dialect(), compile_kwargs={"render_postcompile": True}
    )
    for name in fastsql.PRIVATE_NAMES:
        owner, attr = name.split(".")
        if owner == "SQLCompiler":
            assert hasattr(sql, attr), name
        elif callable(getattr(adapter, attr, None)):
            continue  # a method
        else:  # an attribute the adapter sets on itself
            assert f"self.{attr} =" in init or f"self.{attr}: " in init, name


def test_fastsql_uses_no_private_name_it_does_not_list():
    source = inspect.getsource(fastsql)
    used = set(re.findall(r"(?:adapted|compiled|expanded)\.(_[a-z_]+)", source))
    used |= set(re.findall(r'getattr\(compiled, "(_[a-z_]+)"', source))
    listed = {n.split(".")[1] for n in fastsql.PRIVATE_NAMES}
    assert used <= listed, used - listed
