"""Three assets in a loop: a -> b -> c -> a."""

from pipeline import asset


@asset(deps=["c"])
def a(con):
    return "SELECT 1 AS x"


@asset(deps=["a"])
def b(con):
    return "SELECT 1 AS x"


@asset(deps=["b"])
def c(con):
    return "SELECT 1 AS x"
