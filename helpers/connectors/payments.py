"""Payment processor exports: Stripe payments (unified and legacy layouts) and Square transactions,
both into ``orders``.

Stripe: ``Created date (UTC)`` in the unified layout, ``Created (UTC)`` in the legacy one; amounts
are decimals in the charge currency, with ``Converted Amount`` in the account's settlement
currency. Only payments that went through are orders (status Paid / succeeded, also when refunded
later, and captured); failed, cancelled, uncaptured and test-mode rows are left out with Notes.
A refunded payment keeps its amount as revenue and the refund in ``refunded``.

Square: money like ``$12.50``, ``($1.00)`` or ``-$1.00``; the time of a sale is ``Date`` +
``Time`` in ``Time Zone``; older files have fewer columns, so every column is found by name.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from helpers.connectors._common import booleans, build, ids, localize
from helpers.connectors._source import Connector, Signature, Source
from helpers.tables import email_key, normalise_email

ORDERS, CUSTOMERS = "orders", "customers"
PAID = {"paid", "succeeded", "refunded", "partially refunded", "partially_refunded"}
FAILED = {"failed", "canceled", "cancelled", "voided", "void", "declined"}
# Square writes Rails time-zone names; the common ones as IANA names.
SQUARE_ZONES = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "arizona": "America/Phoenix",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "atlantic time (canada)": "America/Halifax",
    "newfoundland": "America/St_Johns",
    "london": "Europe/London",
    "dublin": "Europe/Dublin",
    "edinburgh": "Europe/London",
    "paris": "Europe/Paris",
    "madrid": "Europe/Madrid",
    "berlin": "Europe/Berlin",
    "sydney": "Australia/Sydney",
    "melbourne": "Australia/Melbourne",
    "brisbane": "Australia/Brisbane",
    "perth": "Australia/Perth",
    "adelaide": "Australia/Adelaide",
    "tokyo": "Asia/Tokyo",
    "auckland": "Pacific/Auckland",
    "utc": "UTC",
}


# ---- Stripe ---------------------------------------------------------------------------------
def _stripe_filter(src: Source) -> None:
    """Leave out test-mode, failed and uncaptured payments, with Notes."""
    mode = src.col("Mode")
    if mode:
        src.drop(
            ORDERS,
            src.text(mode).str.lower().eq("test"),
            "were test-mode payments and were left out",
            column=mode,
        )
    status = src.col("Status")
    if status:
        value = src.text(status).str.lower().str.strip()
        other = value.notna() & ~value.isin(PAID)
        if other.any():
            counts = ", ".join(f"{k} {n}" for k, n in value[other].value_counts().items())
            src.drop(
                ORDERS, other, f"did not go through ({counts}) and were left out", column=status
            )
    captured = src.col("Captured")
    if captured:
        src.drop(
            ORDERS,
            booleans(src.frame[captured])[0].eq(False),
            "were authorised but never captured (Captured false) and were left out",
            column=captured,
        )


def _stripe_amounts(src: Source) -> tuple[str, str | None]:
    """The amount and refund columns in the business's currency (Converted Amount when the
    charges are in another currency but the account settles in the business's)."""
    amount, refunded = src.need("Amount"), src.col("Amount Refunded")
    currency = src.col("Currency")
    if not (currency and src.currency):
        return amount, refunded
    charged = src.text(currency).str.upper()
    if charged.dropna().isin([src.currency.upper()]).all():
        return amount, refunded
    settled, converted = src.col("Converted Currency"), src.col("Converted Amount")
    if (
        settled
        and converted
        and src.text(settled).str.upper().dropna().eq(src.currency.upper()).all()
    ):
        n = int((charged != src.currency.upper()).sum())
        src.note(
            ORDERS,
            "revenue",
            "coerced",
            n,
            f"{n} payment(s) of the {src.label} were charged in another currency "
            f"({', '.join(sorted(set(charged.dropna()) - {src.currency.upper()}))}); amounts "
            f"come from 'Converted Amount', in {src.currency.upper()}.",
        )
        return converted, src.col("Converted Amount Refunded")
    src.check_currency(charged.dropna().unique(), f"its '{currency}' column")
    return amount, refunded  # pragma: no cover (check_currency raised)


def read_stripe(src: Source) -> dict[str, pd.DataFrame]:
    """Orders (and customers, when e-mails are given) from a Stripe payments export."""
    pid = src.need("id")
    created = src.need("Created date (UTC)", "Created (UTC)")
    src.need("Amount")
    if src.frame.empty:
        raise src.no_rows()
    _stripe_filter(src)
    amount, refunded = _stripe_amounts(src)
    email_col = src.col("Customer Email")
    emails = src.frame[email_col] if email_col else pd.Series("", index=src.frame.index)
    customer = src.text(src.col("Customer ID"))
    customer = ids(customer.where(customer.notna(), email_key(emails)))
    orders = build(
        ORDERS,
        {
            "order_id": src.text(pid),
            "customer_id": customer,
            "order_date": localize(src.date(created, table=ORDERS), "UTC", src.timezone),
            "revenue": src.number(amount, table=ORDERS),
        },
        {
            "refunded": src.number(refunded, table=ORDERS).fillna(0.0),
            "status": src.text(src.col("Status")).str.lower(),
        },
    )
    tables = {ORDERS: orders}
    people = pd.DataFrame({"customer_id": customer, "email": normalise_email(emails)})
    people = people.dropna().drop_duplicates("customer_id")
    if len(people):
        tables[CUSTOMERS] = build(
            CUSTOMERS,
            {"customer_id": people["customer_id"], "email": people["email"].astype(object)},
        )
    return tables


# ---- Square ---------------------------------------------------------------------------------
def _square_times(src: Source, date: str, time: str | None, zone: str | None) -> pd.Series:
    """Date + Time; tz-aware in the business's timezone when every Time Zone name is known,
    else the shop's local times."""
    stamp = src.frame[date].str.strip()
    if time:
        stamp = (
            stamp
            + " "
            + src.frame[time].str.strip().where(src.frame[time].str.strip() != "", "00:00")
        )
    values = src.dates_of(stamp, table=ORDERS, column=f"{date} + {time}" if time else date)
    if not zone:
        return values
    zones = (
        src.text(zone).fillna("").str.strip().map(lambda z: SQUARE_ZONES.get(z.lower()) or _iana(z))
    )
    if zones.isna().any():
        unknown = ", ".join(sorted(set(src.text(zone).fillna("(blank)")[zones.isna()]))[:3])
        src.note(
            ORDERS,
            "order_date",
            "warning",
            int(zones.isna().sum()),
            f"The {src.label} names time zones the workbook does not know ({unknown}); "
            "order times are kept as the shop's local times.",
        )
        return values
    target = src.timezone or zones.iloc[0]
    out = pd.Series(pd.NaT, index=values.index, dtype=pd.DatetimeTZDtype("ns", target))
    for tz, rows in zones.groupby(zones).groups.items():
        out[rows] = localize(values[rows], tz, target)
    return out


def _iana(name: str) -> str | None:
    try:
        return ZoneInfo(name).key if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _square_refunds(src: Source, ids: pd.Series, revenue: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Refund rows merged into their sale's ``refunded``; returns (refunded per row, keep mask)."""
    event = src.col("Event Type")
    is_refund = (
        src.text(event).str.lower().eq("refund") if event else pd.Series(False, index=ids.index)
    )
    amounts = revenue[is_refund].abs().groupby(ids[is_refund]).sum()
    sales = set(ids[~is_refund])
    matched = ids.isin(sales) & is_refund
    refunded = ids.map(amounts).fillna(0.0).where(~is_refund, 0.0)
    if matched.any():
        src.note(
            ORDERS,
            "refunded",
            "coerced",
            int(matched.sum()),
            f"{int(matched.sum())} refund row(s) of the {src.label} were matched to their "
            "sale by Transaction ID; the amount is in that order's refunded.",
        )
    return refunded, ~matched


def read_square(src: Source) -> dict[str, pd.DataFrame]:
    """Orders from a Square transactions export (see the module text)."""
    tid, date = src.need("Transaction ID"), src.need("Date")
    money = src.col("Net Sales", "Gross Sales", "Total Collected")
    if money is None:
        raise src.missing("Net Sales", alternatives=("Gross Sales", "Total Collected"))
    if src.frame.empty:
        raise src.no_rows()
    status = src.col("Transaction Status")
    if status:
        src.drop(
            ORDERS,
            src.text(status).str.lower().isin(FAILED),
            "did not go through (failed, cancelled or voided) and were left out",
            column=status,
        )
    ids, revenue = src.text(tid), src.number(money, table=ORDERS)
    refunded, keep = _square_refunds(src, ids, revenue)
    discount = src.number(src.col("Discounts"), table=ORDERS).abs()
    orders = build(
        ORDERS,
        {
            "order_id": ids,
            "customer_id": src.text(src.col("Customer ID")),
            "order_date": _square_times(src, date, src.col("Time"), src.col("Time Zone")),
            "revenue": revenue,
            "discount": discount,
            "channel": src.text(src.col("Channel", "Source")),
        },
        {"refunded": refunded, "location": src.text(src.col("Location"))},
    )
    return {ORDERS: orders[keep.to_numpy()].reset_index(drop=True)}


STRIPE = Connector(
    name="stripe_payments",
    label="Stripe payments export",
    tables=(ORDERS, CUSTOMERS),
    signature=Signature(
        all=("id", "amount", r"created( date)? \(utc\)"),
        any=(
            "amount refunded",
            "captured",
            "status",
            "customer id",
            "seller message",
            "statement descriptor",
        ),
    ),
    needs=(
        "id",
        "Created date (UTC) / Created (UTC)",
        "Amount",
        "Amount Refunded",
        "Currency",
        "Status",
        "Captured",
        "Customer ID",
        "Customer Email",
    ),
    reader=read_stripe,
    how_to_export="(Stripe Dashboard: Payments > Export)",
)

SQUARE = Connector(
    name="square_transactions",
    label="Square transactions export",
    tables=(ORDERS,),
    signature=Signature(
        all=("date", "time", "transaction id"), any=("gross sales", "net sales", "total collected")
    ),
    needs=(
        "Date",
        "Time",
        "Time Zone",
        "Transaction ID",
        "Net Sales (or Gross Sales)",
        "Discounts",
        "Customer ID",
        "Channel (or Source)",
    ),
    reader=read_square,
    how_to_export="(Square Dashboard: Transactions > Export > Transactions CSV)",
)
