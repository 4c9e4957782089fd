"""Summit Outdoor's Shopify orders export (Orders > Export, all orders, CSV for Excel).

One row per line item. Order-level fields (Email, statuses, money, dates, addresses, payment,
tax lines...) are filled only on an order's first row; the following rows of the same order carry
the order ``Name`` and the line-item fields only. Times are local with their UTC offset
(``2025-05-03 14:02:11 -0700``). The file starts with a UTF-8 byte-order mark, as Excel-friendly
exports do. Store orders (``Source`` = pos) carry the location and the employee; walk-in shoppers
who gave no e-mail have no Email or billing address. Payment references and phone numbers are left
blank, as they are in an export that excludes them.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import summit_outdoor_catalog as catalog
from helpers.samples import summit_outdoor_people as people
from helpers.samples._common import fmt_money

HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,"
    "Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
)
COLUMNS = HEADER.split(",")
FIRST_ORDER_NUMBER = 1001
STORE_LOCATION = "Summit Outdoor - Main St"
EMPLOYEES = ("Maya R.", "Jordan T.", "Priya S.", "Ben K.")
PROVINCE_NAMES = {
    "BC": "British Columbia",
    "AB": "Alberta",
    "ON": "Ontario",
    "QC": "Quebec",
    "MB": "Manitoba",
    "SK": "Saskatchewan",
}
STREETS = {
    "BC": (
        "W 4th Ave",
        "Main St",
        "Commercial Dr",
        "Oak St",
        "Fraser St",
        "Cambie St",
        "Kingsway",
        "Lonsdale Ave",
        "Hastings St",
        "W Broadway",
        "Victoria Dr",
    ),
    "AB": ("17 Ave SW", "Jasper Ave", "Whyte Ave", "Centre St N"),
    "ON": ("Queen St W", "Bank St", "Dundas St W", "Elgin St"),
    "QC": ("Rue Saint-Denis", "Boulevard Saint-Laurent", "Rue Ontario Est"),
    "MB": ("Portage Ave", "Corydon Ave"),
    "SK": ("Broadway Ave", "Spadina Crescent E"),
}


def vancouver_offset(local: np.ndarray) -> np.ndarray:
    """The UTC offset of Vancouver local times: ``-0700`` in daylight time, else ``-0800``.

    Daylight time runs from the 2nd Sunday of March, 02:00, to the 1st Sunday of November; the
    repeated hour that night (01:00-01:59) is read as standard time. Computed by rule, so the
    output does not depend on the time-zone data installed.
    """
    local = np.asarray(local).astype("datetime64[s]")
    years = local.astype("datetime64[Y]").astype(int) + 1970
    out = np.full(len(local), "-0800", dtype=object)
    for y in np.unique(years).tolist():
        march = np.datetime64(f"{y}-03-01")
        nov = np.datetime64(f"{y}-11-01")
        # weekday(): Monday = 0; days until Sunday (6)
        to_sun = lambda d: (6 - ((d.astype("int64") + 3) % 7)) % 7  # noqa: E731
        dst_on = (march + to_sun(march) + 7).astype("datetime64[s]") + np.timedelta64(7200, "s")
        dst_off = (nov + to_sun(nov)).astype("datetime64[s]") + np.timedelta64(3600, "s")
        inside = (years == y) & (local >= dst_on) & (local < dst_off)
        out[inside] = "-0700"
    return out


def stamp(local: np.ndarray) -> np.ndarray:
    """Shopify timestamps ``YYYY-MM-DD HH:MM:SS -0700``; NaT becomes an empty cell."""
    local = np.asarray(local).astype("datetime64[s]")
    text = np.char.replace(np.datetime_as_string(local, unit="s"), "T", " ").astype(object)
    out = (text + " " + vancouver_offset(local)).astype(object)
    out[np.isnat(local)] = ""
    return out


def addresses(rng: np.random.Generator, cust: people.Customers) -> dict:
    """Street, city, postal code and province of every customer (fixed per customer)."""
    place = [people.PLACES[p] for p in cust.place.tolist()]
    pick = rng.random(cust.n)
    street = np.array(
        [
            STREETS[p[1]][int(u * len(STREETS[p[1]]))]
            for p, u in zip(place, pick.tolist(), strict=True)
        ],
        dtype=object,
    )
    number = rng.integers(100, 4999, cust.n).astype(str)
    letters = np.array(list("ABCEGHJKLMNPRSTVWXYZ"), dtype=object)
    tail = (
        rng.integers(0, 10, cust.n).astype(str).astype(object)
        + letters[rng.integers(0, len(letters), cust.n)]
        + rng.integers(0, 10, cust.n).astype(str).astype(object)
    )
    return {
        "street": (number.astype(object) + " " + street).astype(object),
        "city": np.array([p[0] for p in place], dtype=object),
        "zip": np.array([p[2] for p in place], dtype=object) + " " + tail,
        "province": np.array([p[1] for p in place], dtype=object),
    }


def _blank_unless(mask, values) -> np.ndarray:
    return np.where(mask, values, "").astype(object)


def _status_columns(rng: np.random.Generator, world: dict) -> dict[str, np.ndarray]:
    """Dates, statuses, payment and store columns."""
    o, m = world["orders"], world["money"]
    n = len(o["day"])
    cancel_at = o["when"] + rng.integers(3600, 20 * 3600, n).astype("timedelta64[s]")
    delay = np.where(o["store"], 0, rng.integers(20 * 3600, 70 * 3600, n))
    shipped = o["when"] + delay.astype("timedelta64[s]")
    cash_or_paypal = rng.random(n) < np.where(o["store"], 0.2, 0.15)
    other = np.where(o["store"], "Cash", "PayPal Express Checkout")
    employee = np.array(EMPLOYEES, dtype=object)[rng.integers(0, len(EMPLOYEES), n)]
    ids = 5_800_000_000_000 + np.cumsum(rng.integers(1_000_000, 90_000_000, n))
    return {
        "Financial Status": m["financial"],
        "Paid at": stamp(np.where(m["voided"], np.datetime64("NaT"), o["when"])),
        "Fulfillment Status": np.where(m["cancelled"], "unfulfilled", "fulfilled").astype(object),
        "Fulfilled at": stamp(np.where(m["cancelled"], np.datetime64("NaT"), shipped)),
        "Created at": stamp(o["when"]),
        "Cancelled at": stamp(np.where(m["cancelled"], cancel_at, np.datetime64("NaT"))),
        "Payment Method": np.where(cash_or_paypal, other, "Shopify Payments").astype(object),
        "Employee": _blank_unless(o["store"], employee),
        "Location": _blank_unless(o["store"], STORE_LOCATION),
        "Id": ids.astype(str).astype(object),
        "Risk Level": _blank_unless(~o["store"], "Low"),
        "Source": np.where(o["store"], "pos", "web").astype(object),
    }


def _money_columns(m: dict) -> dict[str, np.ndarray]:
    """Currency, amounts, discount and tax lines."""
    n = len(m["total"])
    return {
        "Currency": np.full(n, "CAD", dtype=object),
        "Subtotal": fmt_money(m["subtotal"]),
        "Shipping": fmt_money(m["shipping_charged"]),
        "Taxes": fmt_money(m["taxes"]),
        "Total": fmt_money(m["total"]),
        "Discount Code": m["code"],
        "Discount Amount": fmt_money(m["discount"]),
        "Shipping Method": m["method"],
        "Refunded Amount": fmt_money(m["refunded"]),
        "Outstanding Balance": fmt_money(np.zeros(n)),
        "Tax 1 Name": m["tax_names"][0],
        "Tax 1 Value": fmt_money(m["tax_values"][0]),
        "Tax 2 Name": m["tax_names"][1],
        "Tax 2 Value": _blank_unless(m["tax_names"][1] != "", fmt_money(m["tax_values"][1])),
    }


def _address_columns(world: dict, addr: dict) -> dict[str, np.ndarray]:
    """Billing (identified customers) and shipping (orders sent by post) addresses."""
    o, m, cust = world["orders"], world["money"], world["cust"]
    known = o["cust"] >= 0
    safe = np.where(known, o["cust"], 0)
    name = _blank_unless(known, cust.first[safe] + " " + cust.last[safe])
    ships = known & ~o["store"] & (m["method"] != "Local Pickup")
    prov_name = np.array([PROVINCE_NAMES[p] for p in o["province"].tolist()], dtype=object)
    out = {}
    for prefix, mask in (("Billing", known), ("Shipping", ships)):
        out.update(
            {
                f"{prefix} Name": _blank_unless(mask, name),
                f"{prefix} Street": _blank_unless(mask, addr["street"][safe]),
                f"{prefix} Address1": _blank_unless(mask, addr["street"][safe]),
                f"{prefix} City": _blank_unless(mask, addr["city"][safe]),
                f"{prefix} Zip": _blank_unless(mask, addr["zip"][safe]),
                f"{prefix} Province": _blank_unless(mask, o["province"]),
                f"{prefix} Country": _blank_unless(mask, "CA"),
                f"{prefix} Province Name": _blank_unless(mask, prov_name),
            }
        )
    return out


def order_level(
    rng: np.random.Generator, world: dict, names: np.ndarray, emails: np.ndarray, addr: dict
) -> dict[str, np.ndarray]:
    """The order-level columns, one value per order."""
    o, cust = world["orders"], world["cust"]
    known = o["cust"] >= 0
    accepts = known & cust.accepts[np.where(known, o["cust"], 0)]
    return {
        "Name": names,
        "Email": emails,
        "Accepts Marketing": np.where(accepts, "yes", "no").astype(object),
        **_status_columns(rng, world),
        **_money_columns(world["money"]),
        **_address_columns(world, addr),
    }


def line_level(world: dict) -> dict[str, np.ndarray]:
    """The line-item columns, one value per line."""
    lines, m = world["lines"], world["money"]
    cat = catalog.catalog()
    cancelled = m["cancelled"][lines["order"]]
    return {
        "Lineitem quantity": lines["quantity"].astype(str).astype(object),
        "Lineitem name": catalog.line_names(cat, lines["product"], lines["variant"]),
        "Lineitem price": fmt_money(lines["price"]),
        "Lineitem compare at price": fmt_money(lines["compare_at"]),
        "Lineitem sku": catalog.sku(cat, lines["product"], lines["variant"]),
        "Lineitem requires shipping": np.full(len(cancelled), "true", dtype=object),
        "Lineitem taxable": np.full(len(cancelled), "true", dtype=object),
        "Lineitem fulfillment status": np.where(cancelled, "pending", "fulfilled").astype(object),
        "Vendor": cat.vendor[lines["product"]],
        "Lineitem discount": fmt_money(lines["discount"]),
    }


def rows(rng: np.random.Generator, world: dict, emails: np.ndarray) -> tuple[list, np.ndarray]:
    """All rows of the export (lists of cells, in header order) and the order Name of each order."""
    n = len(world["orders"]["day"])
    names = np.char.add("#", (FIRST_ORDER_NUMBER + np.arange(n)).astype(str)).astype(object)
    addr = addresses(rng, world["cust"])
    orders = order_level(rng, world, names, emails, addr)
    lines = line_level(world)
    line_order = world["lines"]["order"]
    first = np.r_[True, line_order[1:] != line_order[:-1]]
    columns = []
    for col in COLUMNS:
        if col in lines:
            columns.append(lines[col])
        elif col == "Name":
            columns.append(names[line_order])
        elif col in orders:
            columns.append(np.where(first, orders[col][line_order], "").astype(object))
        else:
            columns.append(np.full(len(line_order), "", dtype=object))
    return [list(r) for r in zip(*columns, strict=True)], names
