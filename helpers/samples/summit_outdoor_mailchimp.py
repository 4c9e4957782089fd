"""Summit Outdoor's Mailchimp exports: the audience (subscribed, unsubscribed) and campaign reports.

Audience layout: the common member columns, then (unsubscribed file only) UNSUB_TIME,
UNSUB_CAMPAIGN_TITLE, UNSUB_CAMPAIGN_ID, UNSUB_REASON, UNSUB_REASON_OTHER. Contacts imported from
the old list or synced from Shopify have no OPTIN_TIME (only CONFIRM_TIME, when they were added);
pop-up sign-ups have both, with the sign-up IP. Location columns are filled only for contacts
Mailchimp could geolocate. TAGS holds quoted tag names (``"Shopify Customer"``).

Campaign report layout: the aggregated export, percentages as ``27.78%`` strings, ``n/a`` for the
Google Analytics columns (not linked), send dates like ``May 08, 2025 09:30 am``. Orders and revenue
are Mailchimp's own e-commerce attribution (see ``summit_outdoor_email``).
"""

from __future__ import annotations

import numpy as np

from helpers.samples import summit_outdoor_people as people

COMMON = (
    '"Email Address","First Name","Last Name",Address,"Phone Number",Birthday,MEMBER_RATING,'
    "OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,"
    "REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS"
)
UNSUB_EXTRA = "UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER"
CAMPAIGNS_HEADER = (
    'Title,Subject,List,"Send Date","Send Weekday","Total Recipients","Successful Deliveries",'
    '"Soft Bounces","Hard Bounces","Total Bounces","Times Forwarded","Forwarded Opens",'
    '"Unique Opens","Open Rate","Total Opens","Unique Clicks","Click Rate","Total Clicks",'
    'Unsubscribes,"Abuse Complaints","Times Liked on Facebook","Folder Id","Unique Id",'
    '"Total Orders","Total Gross Sales","Total Revenue","Analytics ROI","Campaign Cost",'
    '"Revenue Created",Visits,"New Visits",Pages/Visit,"Bounce Rate","Time on Site",'
    '"Goal Conversion Rate","Per Visit Goal Value",Transactions,"Ecommerce Conversion Rate",'
    '"Per Visit Value","Average Value"'
)
LIST_NAME = "Summit Outdoor Supply"
GEOLOCATED = 0.35
# city -> (latitude, longitude); province -> (GMTOFF, DSTOFF, TIMEZONE)
COORDS = {
    "Vancouver": (49.2827, -123.1207),
    "Burnaby": (49.2488, -122.9805),
    "North Vancouver": (49.3200, -123.0724),
    "Richmond": (49.1666, -123.1336),
    "Squamish": (49.7016, -123.1558),
    "Victoria": (48.4284, -123.3656),
    "Kelowna": (49.8880, -119.4960),
    "Whistler": (50.1163, -122.9574),
    "Calgary": (51.0447, -114.0719),
    "Edmonton": (53.5461, -113.4938),
    "Toronto": (43.6532, -79.3832),
    "Ottawa": (45.4215, -75.6972),
    "Montréal": (45.5019, -73.5674),
    "Winnipeg": (49.8951, -97.1384),
    "Saskatoon": (52.1579, -106.6702),
}
ZONES = {
    "BC": ("-8", "-7", "America/Vancouver"),
    "AB": ("-7", "-6", "America/Edmonton"),
    "ON": ("-5", "-4", "America/Toronto"),
    "QC": ("-5", "-4", "America/Toronto"),
    "MB": ("-6", "-5", "America/Winnipeg"),
    "SK": ("-6", "-6", "America/Regina"),
}
TAGS = {"legacy": '"Store list 2019"', "popup": '"Website Popup"', "shopify": '"Shopify Customer"'}


def fmt_time(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS``; NaT becomes an empty cell."""
    v = np.asarray(values).astype("datetime64[s]")
    out = np.char.replace(np.datetime_as_string(v, unit="s"), "T", " ").astype(object)
    out[np.isnat(v)] = ""
    return out


def send_date(when: np.datetime64) -> str:
    """``May 08, 2025 09:30 am`` (the account's local time)."""
    import datetime as dt

    d = when.astype("datetime64[s]").astype(dt.datetime)
    return d.strftime("%b %d, %Y %I:%M ") + d.strftime("%p").lower()


def location_columns(rng: np.random.Generator, aud: people.Audience) -> dict[str, np.ndarray]:
    """LATITUDE .. REGION, filled only for the members Mailchimp could geolocate."""
    geo = rng.random(aud.n) < GEOLOCATED
    place = [people.PLACES[p] for p in aud.place.tolist()]
    zone = [ZONES[p[1]] for p in place]
    values = {
        "LATITUDE": [f"{COORDS[p[0]][0]:.7f}" for p in place],
        "LONGITUDE": [f"{COORDS[p[0]][1]:.7f}" for p in place],
        "GMTOFF": [z[0] for z in zone],
        "DSTOFF": [z[1] for z in zone],
        "TIMEZONE": [z[2] for z in zone],
        "CC": ["CA"] * aud.n,
        "REGION": [p[1] for p in place],
    }
    return {
        k: np.where(geo, np.array(v, dtype=object), "").astype(object) for k, v in values.items()
    }


def signup_columns(rng: np.random.Generator, aud: people.Audience) -> dict[str, np.ndarray]:
    """OPTIN/CONFIRM time and IP: pop-up sign-ups confirm their address a few minutes later;
    imported and synced contacts only have the time they were added (CONFIRM_TIME)."""
    popup = aud.source == "popup"
    nets = rng.choice(["203.0.113", "198.51.100", "192.0.2"], aud.n).tolist()
    hosts = rng.integers(1, 255, aud.n).tolist()
    ip = np.array([f"{a}.{b}" for a, b in zip(nets, hosts, strict=True)], dtype=object)
    delay = rng.integers(30, 600, aud.n).astype("timedelta64[s]")
    confirm = np.where(popup, aud.joined + delay, aud.joined)
    return {
        "OPTIN_TIME": np.where(popup, fmt_time(aud.joined), "").astype(object),
        "OPTIN_IP": np.where(popup, ip, "").astype(object),
        "CONFIRM_TIME": fmt_time(confirm),
        "CONFIRM_IP": np.where(popup, ip, "").astype(object),
        "_confirm": confirm,
    }


def member_columns(
    rng: np.random.Generator, aud: people.Audience, emails: np.ndarray, end: np.datetime64
) -> dict[str, np.ndarray]:
    """The common columns for every member, in audience order (``_order``: export order)."""
    n, buyer = aud.n, aud.customer >= 0
    signup = signup_columns(rng, aud)
    confirm = signup.pop("_confirm")
    gone = ~np.isnat(aud.unsub)
    span = np.maximum((end.astype("datetime64[s]") - confirm).astype(int), 1)
    edited = confirm + (rng.random(n) * span * 0.8).astype("timedelta64[s]")
    tags = np.array([TAGS[s] for s in aud.source.tolist()], dtype=object)
    tags[(aud.source == "popup") & buyer] = TAGS["popup"] + "," + TAGS["shopify"]
    engaged = rng.choice([2, 3, 4, 5], n, p=[0.55, 0.25, 0.15, 0.05])
    rating = np.where(gone, rng.choice([1, 2], n), engaged)
    order = np.argsort(confirm, kind="stable")
    leid = np.empty(n, dtype=np.int64)
    leid[order] = 310_000_000 + np.cumsum(rng.integers(1, 400, n))
    blank = np.full(n, "", dtype=object)
    return {
        "Email Address": emails,
        "First Name": np.where(buyer | (rng.random(n) < 0.6), aud.first, "").astype(object),
        "Last Name": np.where(buyer | (rng.random(n) < 0.4), aud.last, "").astype(object),
        "Address": blank,
        "Phone Number": blank,
        "Birthday": blank,
        "MEMBER_RATING": rating.astype(str).astype(object),
        **signup,
        **location_columns(rng, aud),
        "LAST_CHANGED": fmt_time(np.where(gone, aud.unsub, edited)),
        "LEID": leid.astype(str).astype(object),
        "EUID": np.array([f"{x:010x}" for x in rng.integers(0, 16**10, n).tolist()], dtype=object),
        "NOTES": blank,
        "TAGS": tags,
        "_order": order,
    }


def audience_rows(cols: dict, aud: people.Audience, sends: list[dict], reasons: tuple) -> tuple:
    """(subscribed rows, unsubscribed rows), each in the order contacts were added."""
    names = [c.strip('"') for c in COMMON.split(",")]
    gone = ~np.isnat(aud.unsub)
    title = np.array([s["title"] for s in sends] + [""], dtype=object)[aud.unsub_campaign]
    uid = np.array([s["uid"] for s in sends] + [""], dtype=object)[aud.unsub_campaign]
    extra = [fmt_time(aud.unsub), title, uid, reasons[0], reasons[1]]
    sub_rows, unsub_rows = [], []
    for i in cols["_order"].tolist():
        row = [cols[c][i] for c in names]
        if gone[i]:
            unsub_rows.append(row + [e[i] for e in extra])
        else:
            sub_rows.append(row)
    return sub_rows, unsub_rows


def _rate(num: int, den: int) -> str:
    return f"{100 * num / den:.2f}%" if den else "0.00%"


def _money(x: float) -> str:
    return "0" if not x else f"{x:.2f}"


def campaign_rows(sends: list[dict]) -> list[list[str]]:
    """One row per campaign sent, in send order."""
    import datetime as dt

    rows = []
    for s in sends:
        day = s["sent"].astype("datetime64[s]").astype(dt.datetime)
        rows.append(
            [
                s["title"],
                s["subject"],
                LIST_NAME,
                send_date(s["sent"]),
                day.strftime("%A"),
                str(s["recipients"]),
                str(s["delivered"]),
                str(s["soft"]),
                str(s["hard"]),
                str(s["soft"] + s["hard"]),
                str(s["forwarded"]),
                str(s["forwarded_opens"]),
                str(s["unique_opens"]),
                _rate(s["unique_opens"], s["delivered"]),
                str(s["total_opens"]),
                str(s["unique_clicks"]),
                _rate(s["unique_clicks"], s["delivered"]),
                str(s["total_clicks"]),
                str(s["unsubscribes"]),
                str(s["abuse"]),
                "0",
                "0",
                s["uid"],
                str(s["orders"]),
                _money(s["gross_sales"]),
                _money(s["revenue"]),
            ]
            + ["n/a"] * 14
        )
    return rows
