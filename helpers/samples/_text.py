"""Phrase banks for the sample businesses' free text: customer feedback and social posts.

A text is assembled from pieces (an opener, a body sentence for its topic and sentiment, sometimes
a detail and a closer) with slots filled from the catalogue, so two reviews rarely read the same
while each one's topic and sentiment stay known.
"""

from __future__ import annotations

import numpy as np

OPENERS = {
    "positive": [
        "",
        "",
        "Wow.",
        "Honestly impressed.",
        "Five stars from me.",
        "So glad I found you.",
        "Long-time customer here.",
        "Quick note to say thanks!",
    ],
    "neutral": [
        "",
        "",
        "Mixed feelings.",
        "A few thoughts.",
        "Okay overall.",
        "Second order here.",
        "Some feedback, for what it's worth.",
    ],
    "negative": [
        "",
        "",
        "Disappointed.",
        "Not happy, I'm afraid.",
        "This was frustrating.",
        "Hate to write this.",
        "First bad experience with you.",
    ],
}

BODIES = {
    ("taste", "positive"): [
        "The {coffee} is the best bag I've had all year, sweet and clean with no bitterness.",
        "{coffee} tastes amazing as a pour-over, bright and fruity without being sour.",
        "Our morning {coffee} has become a ritual, rich and chocolatey every single time.",
        "Every cup of {coffee} has been smooth and balanced, even when I rush the brew.",
        "The flavour notes on the {coffee} bag were spot on; I could taste the berry.",
        "{coffee} makes a lovely espresso with thick crema and a caramel finish.",
    ],
    ("taste", "neutral"): [
        "The {coffee} is fine but a bit flat compared to the last batch.",
        "{coffee} is decent, although I expected more of the fruit the label promised.",
        "Taste of the {coffee} is okay; good in milk, less interesting black.",
        "The {coffee} was roasted darker than I'd like, still drinkable.",
        "Not sure the {coffee} is for me, it's pleasant but mild.",
    ],
    ("taste", "negative"): [
        "The {coffee} tasted stale and bitter, like it had been sitting for months.",
        "My bag of {coffee} was burnt-tasting and harsh, nothing like before.",
        "{coffee} came out sour no matter how I adjusted the grind.",
        "The {coffee} had almost no aroma when I opened it, really flat flavour.",
        "This batch of {coffee} tasted ashy, I ended up throwing half of it away.",
    ],
    ("shipping", "positive"): [
        "Order arrived in {days} days, well packed and still smelling of the roaster.",
        "Shipping was quick and the tracking updates were clear the whole way.",
        "Delivery came a day earlier than promised and the box was in perfect shape.",
        "Loved the recyclable packaging, and it was on my porch in {days} days.",
        "Fast shipping again, ordered Monday and brewed it on Wednesday.",
    ],
    ("shipping", "neutral"): [
        "Delivery took {days} days, a bit slower than I'd hoped but it got here.",
        "Package arrived fine, though the tracking link never updated.",
        "Shipping was okay; the box was bigger than needed for two bags.",
        "It arrived, no issues, just took longer than the estimate on the site.",
    ],
    ("shipping", "negative"): [
        "My order took {days} days to arrive and nobody answered my emails about it.",
        "The box arrived crushed and one bag had split open all over the package.",
        "Tracking said delivered but nothing came for another {days} days.",
        "Shipping is far too slow, {days} days for coffee that is supposed to be fresh.",
        "Package was lost in transit and I had to chase it twice.",
    ],
    ("price", "positive"): [
        "Great value for the quality, cheaper than the supermarket specialty brands.",
        "The subscription price is fair and the discount makes it a no-brainer.",
        "For what you get, the {coffee} is very reasonably priced.",
        "Happy to pay a bit more for beans this fresh, worth every cent.",
    ],
    ("price", "neutral"): [
        "Prices are a little high, but the quality mostly justifies it.",
        "The {coffee} is good, I just wish the bigger bags were better value.",
        "I only buy during the sales; regular prices feel steep for everyday coffee.",
        "Fair prices on beans, the brewing gear is pricier than elsewhere.",
    ],
    ("price", "negative"): [
        "Too expensive; {price} for a small bag is hard to justify.",
        "Shipping costs nearly doubled the price of my order, not worth it.",
        "The price went up again and the bags seem smaller, I'm done.",
        "Way overpriced compared to other local roasters.",
    ],
    ("service", "positive"): [
        "The staff at the cafe are so friendly, they remembered my usual {drink}.",
        "Customer service sorted out my subscription change within an hour.",
        "Barista took the time to explain the single origins and let me taste two.",
        "I emailed about a wrong grind and they sent a replacement the same day.",
        "Lovely team at the counter, always a smile even in the morning rush.",
    ],
    ("service", "neutral"): [
        "Service at the cafe is fine, a bit slow when it gets busy.",
        "Got a reply to my question after a couple of days, helpful enough.",
        "Staff were polite, though nobody could tell me when the decaf is back.",
        "The {drink} was good but the line at the counter was long.",
    ],
    ("service", "negative"): [
        "Waited twenty minutes for a {drink} and the staff seemed not to care.",
        "Nobody replied to my three emails about a missing item.",
        "The barista was rude when I asked for the {drink} to be remade.",
        "Support cancelled my subscription by mistake and never apologised.",
        "Cafe staff ignored us at the counter for ages, will not be back soon.",
    ],
}

DETAILS = {
    "positive": [
        "Already ordered more.",
        "Recommended you to my whole office.",
        "My partner is hooked too.",
        "Keep doing what you're doing.",
        "",
    ],
    "neutral": [
        "Might try a different roast next time.",
        "Will see how the next order goes.",
        "Not bad, not amazing.",
        "",
    ],
    "negative": [
        "I expected better.",
        "Please fix this.",
        "Probably cancelling.",
        "Would like a refund.",
        "",
    ],
}

CLOSERS = {
    "positive": ["Thanks!", "Cheers.", "", "", "Love it."],
    "neutral": ["", "", "Thanks.", "Regards."],
    "negative": ["", "", "Very disappointing.", "Not good enough."],
}

FILLS = {
    "coffee": [
        "Harbor House Blend",
        "Lighthouse Espresso",
        "Colombia Huila",
        "Ethiopia Yirgacheffe",
        "Kenya Nyeri",
        "Morning Tide blend",
        "Fog Line Decaf",
        "Sumatra",
        "Guatemala",
        "Dark Harbor roast",
        "Rwanda",
        "cold brew grind",
    ],
    "drink": ["latte", "cappuccino", "cold brew", "drip coffee", "oat latte"],
    "price": ["$21", "$23", "$19.50", "$34"],
}


def _pick(rng: np.random.Generator, items: list[str]) -> str:
    return items[int(rng.integers(len(items)))]


def compose(rng: np.random.Generator, topic: str, sentiment: str) -> str:
    """One piece of feedback about ``topic`` with the given ``sentiment``."""
    body = _pick(rng, BODIES[(topic, sentiment)]).format(
        coffee=_pick(rng, FILLS["coffee"]),
        drink=_pick(rng, FILLS["drink"]),
        price=_pick(rng, FILLS["price"]),
        days=int(rng.integers(2, 4) if sentiment == "positive" else rng.integers(6, 15)),
    )
    parts = [_pick(rng, OPENERS[sentiment]), body]
    if rng.random() < 0.6:
        parts.append(_pick(rng, DETAILS[sentiment]))
    if rng.random() < 0.4:
        parts.append(_pick(rng, CLOSERS[sentiment]))
    text = " ".join(p for p in parts if p)
    return text.lower() if rng.random() < 0.05 else text


POST_TEXTS = {
    "new_roast": [
        "Just off the roaster: {coffee}. Notes of {notes}. Online and at the cafe from today.",
        "New bag day! {coffee} is back with {notes}. Who's trying it first?",
        "{coffee} has landed, roasted this morning. Expect {notes}.",
    ],
    "brew_guide": [
        "Brew tip: {tip}. Small change, big difference in the cup.",
        "Sunday slow brew. Our ratio: 1:16, {tip}.",
        "Three steps to a better French press, starting with {tip}.",
    ],
    "behind_the_scenes": [
        "Roast day at the harbor. 6 am start, {coffee} in the drum.",
        "Cupping table this morning: tasting next season's {coffee}.",
        "Meet the team that bags every order by hand.",
    ],
    "latte_art": [
        "Rosetta of the day from our cafe counter.",
        "Our baristas practising tulips before opening.",
        "Oat milk latte art, because Monday.",
    ],
    "cafe_event": [
        "Free tasting at the cafe this Saturday, 10 to noon: {coffee} side by side.",
        "Home brewing class next week, six seats left.",
        "Live music and cold brew on the patio this Friday.",
    ],
    "promo": [
        "Sale on now: {pct}% off beans and gear, this weekend only.",
        "Subscribers save {pct}% on every bag. Link in bio.",
        "New subscription boxes are live: pick two origins a month. Link in bio.",
    ],
    "customer_story": [
        "Spotted: a customer's morning setup with {coffee}. Tag us to be featured!",
        "Thank you Jules for sharing your pour-over corner with us.",
        "Your photos of {coffee} made our week. Keep them coming.",
    ],
}
POST_FILLS = {
    "coffee": FILLS["coffee"][:8],
    "notes": [
        "dark chocolate and cherry",
        "blueberry and jasmine",
        "brown sugar and almond",
        "citrus and honey",
        "cocoa and molasses",
    ],
    "tip": [
        "grind just before you brew",
        "let the coffee bloom for 30 seconds",
        "use water just off the boil",
        "weigh your beans",
        "rinse the paper filter",
    ],
    "pct": ["15", "20"],
}
HASHTAGS = [
    "#coffee",
    "#specialtycoffee",
    "#coffeeroaster",
    "#pourover",
    "#latteart",
    "#harborcoffee",
    "#shoplocal",
    "#coffeetime",
    "#freshroast",
]


def post_text(rng: np.random.Generator, theme: str) -> str:
    """A social post caption for a theme, with one to three hashtags."""
    text = _pick(rng, POST_TEXTS[theme]).format(**{k: _pick(rng, v) for k, v in POST_FILLS.items()})
    tags = rng.choice(HASHTAGS, size=int(rng.integers(1, 4)), replace=False)
    return text + " " + " ".join(tags.tolist())
