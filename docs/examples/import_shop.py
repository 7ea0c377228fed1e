"""Importing: a Shopify customer export, twice (the second import changes nothing),
then past orders through the program's rules."""

# --8<-- [start:program]
from pathlib import Path

from advokit import Program
from advokit.importing import import_actions, import_advocates
from advokit.plugins.points import Points, PointsRule


def points(action):
    return action.data["total_cents"] // 100


program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[Points(PointsRule("purchase.completed", points=points))],
)
program.migrate()
# --8<-- [end:program]

Path("customers_export.csv").write_text(
    "Customer ID,First Name,Last Name,Email,Phone,Accepts Email Marketing,Total Spent\n"
    "1001,Grace,Hopper,grace@example.com,020 7183 8750,yes,120.50\n"
    "1002,Alan,Turing,alan@example.com,,no,0.00\n"
    "1003,Ada,Lovelace,ada@,,yes,42.00\n",
    encoding="utf-8",
)
Path("orders_export.csv").write_text(
    "Id,Name,Email,Created at,Total (cents)\n"
    "5501,#1001,grace@example.com,2026-05-01 10:00,4200\n"
    "5502,#1002,ALAN@example.com,2026-05-02 18:30,1999\n"
    "5503,#1003,nobody@example.com,2026-05-02 19:00,500\n",
    encoding="utf-8",
)

# --8<-- [start:advocates]
summary = import_advocates(program, "customers_export.csv", region="GB", rejects="rejects.csv")
print(summary.line())  # advocates: read 3, created 2, updated 0, unchanged 0, rejected 1
for reject in summary.rejects:
    print(f"line {reject.line}: {reject.reason}")  # line 4: email='ada@' is not valid: ...

again = import_advocates(program, "customers_export.csv", region="GB")
print(again.line())  # advocates: read 3, created 0, updated 0, unchanged 2, rejected 1

grace = program.advocate("1001")
print(grace.name, grace.phone, grace.consents_to("email"))  # Grace Hopper +442071838750 True
# --8<-- [end:advocates]
assert summary.counts == {"read": 3, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
assert [r.line for r in summary.rejects] == [4]
assert summary.ignored_columns == ("Total Spent",)
assert again.counts == {"read": 3, "created": 0, "updated": 0, "unchanged": 2, "rejected": 1}
assert (grace.name, grace.phone, grace.consents_to("email")) == (
    "Grace Hopper",
    "+442071838750",
    True,
)
assert not program.advocate("1002").consents_to("email")
assert Path("rejects.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("4,")

# --8<-- [start:actions]
options = {
    "kind": "purchase.completed",  # the file has no kind column: every row is a purchase
    "mapping": ["Id=key", "Name=data.order_id", "Total (cents)=data.total_cents"],
    "timezone": "Europe/London",  # "Created at" has no UTC offset
    "key_prefix": "shopify-order:",
}
orders = import_actions(program, "orders_export.csv", **options)
print(orders.line())  # actions: read 3, applied 2, held 0, refused 0, replayed 0, rejected 1
print(program.balance("1001"), program.balance("1002"))  # 42 19

print(import_actions(program, "orders_export.csv", **options).line())
# actions: read 3, applied 0, held 0, refused 0, replayed 2, rejected 1
# --8<-- [end:actions]
assert orders.counts == {
    "read": 3,
    "applied": 2,
    "held": 0,
    "refused": 0,
    "replayed": 0,
    "rejected": 1,
}
assert orders.rejects[0].line == 4
assert "nobody@example.com" in orders.rejects[0].reason
assert (program.balance("1001"), program.balance("1002")) == (42, 19)
assert [e.action_key for e in program.history("1001")] == ["shopify-order:5501"]
program.close()
