"""Write examples/brand_posts.csv: a realistic, made-up export of brand posts.

Every post is generated here from templates (no row of any public data set):
three fictional brands over five weeks, replies that start with an @handle,
hashtags, likes and retweets, posts that mention two brands or none, a few in
French, Spanish, German and Italian, and one injected negative spike:
Nimbus Air on SPIKE_DAY (a wave of cancelled flights). Seeded, so running it
again writes the same file.

    python scripts/make_brand_posts.py [--rows 4000] [--output PATH]
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
DAYS = 35
SPIKE_BRAND = "Nimbus Air"
SPIKE_DAY = "2026-10-20"
SPIKE_EXTRA_POSTS = 90  # on top of the day's usual volume, almost all negative

BRANDS = {
    "Nimbus Air": {
        "names": ["Nimbus Air", "@NimbusAir", "#nimbusair", "nimbus air"],
        "handle": "@NimbusAir",
        "things": ["flight", "crew", "check-in", "seat", "boarding", "app"],
        "weight": 0.4,
    },
    "Brightbean": {
        "names": ["Brightbean", "@brightbeancafe", "#brightbean", "brightbean"],
        "handle": "@brightbeancafe",
        "things": ["latte", "flat white", "barista", "croissant", "oat milk"],
        "weight": 0.35,
    },
    "Voltra": {
        "names": ["Voltra", "@VoltraCars", "#voltra", "my Voltra"],
        "handle": "@VoltraCars",
        "things": ["charger", "battery", "software update", "range", "dealer"],
        "weight": 0.25,
    },
}

POSITIVE = [
    "{name} the {thing} was amazing today, thank you!",
    "Really love the new {thing} from {name} 😍",
    "Big thanks to {name}, best {thing} I've had in ages",
    "{name} never disappoints. Great {thing}, great people 👏",
    "So happy with the {thing} at {name}, highly recommend",
    "Shoutout to {name} for the fantastic {thing} this morning!",
    "{name} you made my day, the {thing} was perfect",
]
NEUTRAL = [
    "Does {name} have a {thing} option on weekends?",
    "{name} what time does the {thing} open tomorrow?",
    "Trying the {thing} at {name} for the first time today",
    "Anyone know if {name} changed the {thing} policy?",
    "{name} announced a new {thing} this week",
    "Heading to {name} later to check the {thing}",
]
NEGATIVE = [
    "{name} the {thing} was terrible, really disappointed",
    "Worst {thing} ever. {name} please fix this 😡",
    "{name} still waiting on a reply about the broken {thing}. Awful service",
    "Honestly fed up with {name}, the {thing} is a mess again",
    "{name} your {thing} is useless and nobody answers the phone",
    "Never again {name}. Horrible {thing} and rude staff",
]
SPIKE = [
    "{name} my flight got cancelled with no warning, stranded at the airport 😡",
    "{name} cancelled flight AGAIN and the app crashed. Absolutely terrible",
    "Cancelled, no refund, no hotel. {name} this is a disgrace #nimbusair",
    "{name} hours in line after the cancellation, worst airline ever",
    "Stranded thanks to {name}. Awful handling of the cancellations",
]
# Posts that mention two brands, by pair (sorted names).
TWO_BRANDS = {
    ("Brightbean", "Nimbus Air"): [
        "Grabbed a Brightbean latte before my Nimbus Air flight, good start",
        "Nimbus Air lounge now serves Brightbean coffee, nice touch",
    ],
    ("Brightbean", "Voltra"): [
        "Charging my Voltra while I wait for a Brightbean flat white ☕",
    ],
    ("Nimbus Air", "Voltra"): [
        "Drove the Voltra to the airport for my Nimbus Air flight, smooth trip",
    ],
}
NO_BRAND = [
    "Grey nimbus clouds all morning, umbrella weather",
    "Anyone watching the match tonight?",
    "Monday again. Coffee first, then everything else",
    "Cumulonimbus towering over the hills, what a view",
]
FOREIGN = [
    ("fr", "Le vol avec {name} était vraiment horrible, aucune information"),
    ("fr", "Merci {name}, le service était parfait aujourd'hui"),
    ("es", "El servicio de {name} es malísimo, nunca responden"),
    ("es", "Me encanta el café de {name}, muy recomendable"),
    ("de", "Der Kundenservice von {name} ist leider eine Katastrophe"),
    ("de", "Sehr zufrieden mit {name}, alles hat wunderbar geklappt"),
    ("it", "Il volo con {name} è stato un disastro, che vergogna"),
]
AUTHORS = [
    "mia_travels",
    "dan.k",
    "coffee_nerd",
    "ev_fan_22",
    "lucie_b",
    "jorge_m",
    "sam_writes",
    "priya_s",
    "tom_h",
    "ana.lima",
    "ben_rides",
    "zoe_k",
]


def _name(rng: random.Random, brand: str) -> str:
    return rng.choice(BRANDS[brand]["names"])


def _thing(rng: random.Random, brand: str) -> str:
    return rng.choice(BRANDS[brand]["things"])


def _post(rng: random.Random, brand: str, day: int) -> tuple[str, str]:
    """(text, brand column) of one ordinary post; Voltra sours in week 4."""
    negative_share = 0.35 if brand == "Voltra" and 21 <= day < 28 else 0.18
    roll = rng.random()
    if roll < 0.03:
        language, template = rng.choice(FOREIGN)
        return template.format(name=BRANDS[brand]["names"][0]), brand
    if roll < 0.07:
        others = [b for b in BRANDS if b != brand]
        other = rng.choice(others)
        pair = tuple(sorted([brand, other]))
        return rng.choice(TWO_BRANDS[pair]), brand
    if roll < 0.09:
        return rng.choice(NO_BRAND), ""
    mood = rng.random()
    if mood < negative_share:
        templates = NEGATIVE
    elif mood < negative_share + 0.3:
        templates = NEUTRAL
    else:
        templates = POSITIVE
    text = rng.choice(templates).format(
        name=_name(rng, brand), thing=_thing(rng, brand)
    )
    if rng.random() < 0.3:  # a reply: the handle leads the tweet
        text = f"{BRANDS[brand]['handle']} {text}"
    return text, brand


def _moment(rng: random.Random, day: int) -> datetime:
    # Daytime-heavy: most posts between 07:00 and 23:00 UTC.
    hour = min(23, max(0, int(rng.gauss(15, 4))))
    return START + timedelta(
        days=day, hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60)
    )


def _engagement(rng: random.Random, negative_spike: bool) -> tuple[int, int]:
    likes = int(rng.lognormvariate(1.5, 1.3)) + (
        rng.randrange(50, 400) if negative_spike else 0
    )
    return likes, int(likes * rng.uniform(0.05, 0.4))


def make_rows(total: int, seed: int = 7) -> list[dict[str, object]]:
    """``total`` ordinary posts plus the spike, sorted by posting time."""
    rng = random.Random(seed)
    names = list(BRANDS)
    weights = [BRANDS[b]["weight"] for b in names]
    rows = []
    for _ in range(total):
        day = rng.randrange(DAYS)
        brand = rng.choices(names, weights)[0]
        text, tagged = _post(rng, brand, day)
        rows.append((_moment(rng, day), text, tagged, False))
    spike_day = (datetime.fromisoformat(SPIKE_DAY).date() - START.date()).days
    for _ in range(SPIKE_EXTRA_POSTS):
        text = rng.choice(SPIKE).format(name=_name(rng, SPIKE_BRAND))
        if rng.random() < 0.4:
            text = f"{BRANDS[SPIKE_BRAND]['handle']} {text}"
        rows.append((_moment(rng, spike_day), text, SPIKE_BRAND, True))
    rows.sort(key=lambda row: row[0])
    out = []
    for i, (moment, text, tagged, spike) in enumerate(rows, start=1):
        likes, retweets = _engagement(rng, spike)
        out.append(
            {
                "id": 100_000 + i,
                "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "author": "@" + rng.choice(AUTHORS),
                "text": text,
                "brand": tagged,
                "likes": likes,
                "retweets": retweets,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=4_000)
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "examples/brand_posts.csv",
    )
    args = parser.parse_args()
    rows = make_rows(args.rows)
    with open(args.output, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"Wrote {len(rows):,} posts to {args.output}")


if __name__ == "__main__":
    main()
