"""Assemble Bloom Yoga's truth.json: lead seasonality and scoring, churn, and why no media mix."""

from __future__ import annotations

import numpy as np

from helpers.samples import bloom_yoga as by
from helpers.samples import bloom_yoga_members as mm


def _leads(ld: dict, days: np.ndarray) -> dict:
    """Lead seasonality and the conversion model."""
    month = days[ld["day"]].astype("datetime64[M]").astype(str)
    uniq, counts = np.unique(month, return_counts=True)
    january = counts[[u.endswith("-01") for u in uniq]]
    return {
        "seasonality": {
            "weekly_multipliers_mon_to_sun": by.WEEKLY,
            "monthly_multipliers_jan_to_dec": by.MONTHLY,
            "form": "expected sign-ups per day = base * weekly[weekday] * yearly(t), plus paid sign-ups",
        },
        "monthly_counts": dict(zip(uniq.tolist(), counts.tolist(), strict=True)),
        "january_over_median_month": round(float(january.mean() / np.median(counts)), 3),
        "conversion_model": {
            "form": "P(converted) = sigmoid(intercept + b_attended*attended_first_class + b_referred*"
            "referred_by_member + b_distance*distance_km + trial_type + age_band + source)",
            **by.CONVERSION,
            "signs": {
                "attended_first_class": "positive",
                "referred_by_member": "positive",
                "distance_km": "negative",
                "intro_month vs free_week": "positive",
                "single_class vs free_week": "negative",
                "classpass source": "negative",
            },
        },
        "attendance_model": {
            "form": "P(attended_first_class) = sigmoid(intercept + b_distance*distance_km "
            "+ b_intro*intro_month + b_referred*referred_by_member)",
            **by.ATTENDANCE,
        },
        "conversion_rate": round(float(ld["won"].mean()), 4),
        "converted_after_as_of_counted_as_not_converted": int(ld["censored"].sum()),
        "value": "first month's price of the chosen plan (annual: a twelfth of the yearly fee)",
        "what_to_find": "a January peak well above every other month; attendance at the first class "
        "as the strongest driver of conversion, then referral and the intro month; distance hurts",
    }


def _exposure(mem: dict, first: np.datetime64, end: np.datetime64) -> tuple[int, int, float]:
    """Member-months ending inside the export, churn events among them, mean planted hazard."""
    months, events, hazard = 0, 0, 0.0
    for k in range(1, mem["hazards"].shape[0] + 1):
        month_end = mm.add_months(mem["start"], k)
        seen = (month_end > first) & (month_end <= end) & (k <= mem["leave"])
        months += int(seen.sum())
        events += int((seen & (mem["leave"] == k)).sum())
        hazard += float(mem["hazards"][k - 1][seen].sum())
    return months, events, hazard / max(months, 1)


def _churn(mem: dict, first: np.datetime64, end: np.datetime64) -> dict:
    """The churn section: model, definition, true rate and the members who left."""
    months, events, mean_h = _exposure(mem, first, end)
    left = mem["stop"] <= end
    return {
        "definition": f"a member has churned when no payment arrives for more than {mm.CHURN_GAP_DAYS} "
        "days after the paid-up period ends (monthly: a month after the last payment; packs: the "
        "pack's days, at most 40; annual: a year)",
        "hazard_model": {
            "form": "monthly P(leave) = sigmoid(intercept + plan + b_cpw*classes_per_week + "
            "b_tenure*ln(months) + age_band + b_distance*distance_km); annual members can "
            "only leave at renewal",
            **mm.CHURN,
            "signs": {
                "classes_per_week": "negative",
                "log_tenure_months": "negative",
                "annual vs monthly": "negative",
                "ten_class_pack vs monthly": "positive",
                "distance_km": "positive",
                "18-24": "positive",
            },
        },
        "true_monthly_churn_rate": round(events / max(months, 1), 4),
        "mean_planted_monthly_hazard": round(mean_h, 4),
        "member_months_observed": int(months),
        "churn_events_observed": int(events),
        "members_at_start": int((mem["start"] < first).sum()),
        "members_at_as_of": int(((mem["start"] <= end) & (mem["stop"] > end)).sum()),
        "members_left_by_as_of": {
            mem["ids"][i]: str(mem["stop"][i])[:10]
            for i in np.flatnonzero(left)[np.argsort(mem["ids"][left])].tolist()
        },
        "what_to_find": "members on more classes a week and on annual plans stay; pack holders, "
        "under-25s and those living far away leave sooner",
    }


def _media(spend: np.ndarray, days: np.ndarray) -> dict:
    """Why a media-mix model is not supportable here."""
    on = spend > 0
    weeks = (days[on] - days[on][0]).astype(int) // 7
    weekly = np.bincount(weeks, weights=spend[on])[:-1] if len(weeks) else np.array([0.0])
    return {
        "mmm_supported": False,
        "reason": f"one paid channel, {int(on.sum() // 7)} weeks of nearly constant spend (weekly "
        f"coefficient of variation {weekly.std() / weekly.mean():.1%}) and no weeks off inside the "
        "campaign, overlapping the January peak: spend does not vary enough to separate its effect "
        "from the season",
        "paid_social": {
            "start": by.PAID["start"],
            "end": by.PAID["end"],
            "mean_weekly_spend": round(float(weekly.mean()), 2),
            "true_incremental_leads_per_dollar": by.PAID["leads_per_dollar"],
            "true_incremental_leads": round(float(by.PAID["leads_per_dollar"] * spend.sum()), 1),
            "true_cost_per_incremental_lead": round(1 / by.PAID["leads_per_dollar"], 2),
        },
        "what_to_find": "the media-mix step should decline and propose a test instead (e.g. switch "
        "the campaign off in alternate weeks or by postcode)",
    }


def truth(seed, scale, ld, mem, spend, days, files, email_truth) -> dict:
    """The whole truth.json of Bloom Yoga."""
    end = days[-1].astype("datetime64[s]") + np.timedelta64(86399, "s")
    consent = files["customers"]["consent_email"] == "false"
    return {
        "business": by.NAME,
        "generator": "helpers.samples.bloom_yoga",
        "seed": seed,
        "scale": scale,
        "period": {"start": by.START, "end": by.END, "as_of": by.END},
        "counts": {name: len(next(iter(cols.values()))) for name, cols in files.items()},
        "leads": _leads(ld, days),
        "churn": _churn(mem, days[0].astype("datetime64[s]"), end),
        "media": _media(spend, days),
        "pricing": {
            "before_2026": mm.PRICE,
            "from_2026_01_01": mm.PRICE_FROM_2026,
            "referral_credit_on_first_payment": mm.REFERRAL_CREDIT,
        },
        "consent": {
            "customers": int(len(consent)),
            "consent_email_false": int(consent.sum()),
            "consent_ads_false": int((files["customers"]["consent_ads"] == "false").sum()),
        },
        "email": {
            "open_propensity_mean": email_truth["open_propensity_mean"],
            "send_hour_by_customer": email_truth["preferred_hour"],
        },
        "pii_columns": {
            "leads": ["first_name", "email", "phone"],
            "customers": ["email", "first_name"],
        },
        "quality_faults": {},
    }
