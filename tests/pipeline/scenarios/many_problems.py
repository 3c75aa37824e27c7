"""Every kind of definition mistake at once, so one error must list them all."""

from pipeline import CheckResult, Definitions, asset, asset_check


@asset(name="orders")
def orders_v1(con):
    return "SELECT 1 AS id"


@asset(name="orders")
def orders_v2(con):
    return "SELECT 2 AS id"


@asset(deps=["custmers"])
def order_lines(con):
    return "SELECT 1 AS id"


@asset(deps=["orders"])
def customers(con):
    return "SELECT 1 AS id"


@asset_check(asset="ordrs")
def orders_not_empty(con):
    return CheckResult(passed=True)


defs = Definitions(
    assets=[orders_v1, orders_v2, order_lines, customers],
    checks=[orders_not_empty],
)
