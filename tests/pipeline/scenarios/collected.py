"""No `defs` object: the loader collects the decorated functions of the module."""

from pipeline import CheckResult, asset, asset_check


@asset(group="raw", tags={"layer": "bronze"})
def numbers(con):
    return "SELECT * FROM range(5) t(n)"


@asset(deps=[numbers], kind="view", group="marts")
def evens(con):
    return "SELECT n FROM numbers WHERE n % 2 = 0"


@asset_check(asset=evens)
def evens_not_empty(con):
    count = con.execute("SELECT count(*) FROM evens").fetchone()[0]
    return CheckResult(passed=count > 0, observed_value=count)
