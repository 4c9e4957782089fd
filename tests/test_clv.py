"""Step 06 customer lifetime value: the per-customer summary by hand, BG/NBD and Gamma-Gamma
recovering the parameters they were simulated from (the simulators are below), and the holdout
check on the samples against the customers their generators kept alive (truth.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from helpers import clv, lifetime
from helpers.plan import open_plan
from tests.conftest import ROOT, write_business

BG = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
GG = {"p": 6.0, "q": 4.0, "v": 15.0}


def orders(rows, **extra) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "revenue"])
    return frame.astype({"order_date": "datetime64[ns]", "revenue": float}).assign(**extra)


# ---- simulators: customers drawn from known parameters ----------------------------------------
def simulate_bgnbd(params: dict, n: int, T, seed: int, *, holdout: float = 0.0) -> pd.DataFrame:
    """``n`` customers drawn from BG/NBD ``params`` (r, alpha, a, b), each watched ``T`` weeks after
    their first purchase (a number or one per customer): frequency, recency, T, and with
    ``holdout`` the purchases in the ``holdout`` weeks after T."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = (params[k] for k in lifetime.BetaGeo.names)
    T = np.broadcast_to(np.asarray(T, float), (n,)).copy()
    rate, leave = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    t, x, tx, held = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        t[alive] += rng.exponential(1 / rate[alive])
        alive &= t <= T + holdout
        now = alive & (t <= T)
        x[now] += 1
        tx[now] = t[now]
        held[alive & (t > T)] += 1
        alive &= rng.random(n) >= leave  # after each repeat purchase: leave with probability p
    out = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    return out.assign(holdout_purchases=held) if holdout else out


def simulate_gamma_gamma(params: dict, frequency, *, seed: int) -> np.ndarray:
    """Mean spend of each customer's ``frequency`` purchases drawn from Gamma-Gamma ``params``
    (p, q, v): 0 for customers without one. The mean of x gamma(p, rate nu) amounts is
    gamma(p x, rate nu x)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, float)
    nu = rng.gamma(params["q"], 1 / params["v"], len(x))
    mean = rng.gamma(params["p"] * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    return np.where(x > 0, mean, 0.0)


# ---- the summary by hand ---------------------------------------------------------------------------
HAND = orders([
    ("1", "A", "2025-01-06 09:00", 10.0),
    ("2", "A", "2025-01-06 17:00", 20.0),  # same day: one purchase of 30
    ("3", "A", "2025-01-13", 15.0),  # first repeat purchase, week 1
    ("4", "A", "2025-02-03", 25.0),  # second repeat purchase, week 4
    ("5", "A", "2025-02-10", -25.0),  # a refund row: not a purchase
    ("6", "A", "2025-02-17", 0.0),  # worth nothing: not a purchase
    ("7", "B", "2025-01-20", 40.0),
    ("8", None, "2025-01-20", 99.0),  # a guest order
    ("9", "A", "2025-03-10", 12.0),  # after the cutoff: holdout
    ("10", "C", "2025-03-10", 50.0),  # C first buys after the cutoff: not in the summary
], is_refund=[False] * 4 + [True] + [False] * 5)


def test_rfm_summary_by_hand():
    got = lifetime.rfm_summary(HAND, cutoff="2025-03-03", holdout_end="2025-03-31")
    assert list(got.index) == ["A", "B"]
    a, b = got.loc["A"], got.loc["B"]
    assert (a.frequency, a.recency, a["T"], a.monetary_value) == (2, 4.0, 8.0, 20.0)
    assert (b.frequency, b.recency, b["T"], b.monetary_value) == (0, 0.0, 6.0, 0.0)
    assert (a.holdout_purchases, a.holdout_spend, b.holdout_purchases) == (1, 12.0, 0)
    # the cutoff day counts whole; without holdout_end there are no holdout columns
    late = lifetime.rfm_summary(HAND, cutoff="2025-03-10")
    assert late.loc["A", "frequency"] == 3 and "C" in late.index
    assert "holdout_purchases" not in late


# ---- the models on simulated customers -----------------------------------------------------------
@pytest.fixture(scope="module")
def simulated():
    ages = np.random.default_rng(5).uniform(26, 104, 5000)
    return simulate_bgnbd(BG, 5000, ages, seed=11, holdout=26)


@pytest.fixture(scope="module")
def bgnbd(simulated):
    return lifetime.BetaGeo().fit(simulated.frequency, simulated.recency, simulated["T"])


def test_bgnbd_recovers_the_parameters_it_was_simulated_from(bgnbd):
    got, se = bgnbd.params_, np.sqrt(np.diag(bgnbd.cov_))
    # tolerance: r and alpha within 15 %, a and b (much less precisely known) within 35 %,
    # and each true value within 3 standard errors of the estimate (on the log scale)
    for name, tol in {"r": 0.15, "alpha": 0.15, "a": 0.35, "b": 0.35}.items():
        assert got[name] == pytest.approx(BG[name], rel=tol), name
    assert np.all(np.abs(bgnbd.theta_ - np.log(list(BG.values()))) < 3 * se)


def test_bgnbd_predicts_the_simulated_holdout(bgnbd, simulated):
    d = simulated
    pred = bgnbd.expected_purchases(26, d.frequency, d.recency, d["T"])
    assert pred.sum() == pytest.approx(d.holdout_purchases.sum(), rel=0.06)
    by = pd.DataFrame({"x": d.frequency.clip(upper=3), "pred": pred, "act": d.holdout_purchases})
    means = by.groupby("x").mean()
    assert means.pred.to_numpy() == pytest.approx(means.act.to_numpy(), rel=0.15)


def test_bgnbd_formulas_by_hand():
    model = lifetime.BetaGeo()
    model.params_ = dict(BG)
    r, alpha, a, b = BG.values()
    # a new customer (x = 0, T = 0): the unconditional expectation of FHL 2005
    t = 10.0
    by_hand = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(
        r, b, a + b - 1, t / (alpha + t)))
    assert model.expected_purchases(t, 0, 0, 0)[()] == pytest.approx(by_hand)
    assert lifetime.bgnbd_loglik(r, alpha, a, b, 0, 0, 0)[()] == pytest.approx(0.0)  # log 1
    # P(alive): 1 before any repeat purchase; 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + tx))^(r + x))
    assert model.p_alive(0, 0, 30)[()] == 1.0
    odds = a / (b + 2 - 1) * ((alpha + 30) / (alpha + 10)) ** (r + 2)
    assert model.p_alive(2, 10, 30)[()] == pytest.approx(1 / (1 + odds))


def test_gamma_gamma_recovers_its_parameters_and_shrinks_spend():
    x = 1 + np.random.default_rng(3).poisson(3, 5000)
    m = simulate_gamma_gamma(GG, x, seed=4)
    model = lifetime.GammaGamma().fit(x, m)
    for name in GG:  # within 20 %, and within 3 standard errors on the log scale
        assert model.params_[name] == pytest.approx(GG[name], rel=0.2), name
    assert np.all(np.abs(model.theta_ - np.log(list(GG.values())))
                  < 3 * np.sqrt(np.diag(model.cov_)))
    model.params_ = dict(GG)
    p, q, v = GG.values()
    assert model.expected_spend(0, 0)[()] == pytest.approx(p * v / (q - 1))  # the average: 30
    # 2 purchases averaging 50: weight p x / (p x + q - 1) = 12 / 15 on their own mean
    assert model.expected_spend(2, 50.0)[()] == pytest.approx(0.8 * 50 + 0.2 * 30)


def test_simulator_matches_bgnbd_expectations():
    d = simulate_bgnbd(BG, 20000, 0.0, seed=2, holdout=26)
    model = lifetime.BetaGeo()
    model.params_ = dict(BG)
    assert d.holdout_purchases.mean() == pytest.approx(
        model.expected_purchases(26, 0, 0, 0)[()], rel=0.05)
    assert (d.frequency == 0).all() and (d.recency == 0).all()


# ---- the sample businesses ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    return {name: open_plan(name, run_dir=tmp_path_factory.mktemp(name))
            for name in ("harbor_coffee", "bloom_yoga", "summit_outdoor")}


@pytest.fixture(scope="module")
def results(plans):
    return {name: clv.customer_value(plan) for name, plan in plans.items()}


def auc(positive: pd.Series, score: pd.Series) -> float:
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(positive, score)


def test_harbor_holdout_check_and_the_customers_still_around(results, plans):
    r = results["harbor_coffee"]
    h = r.headline
    assert r.supported and h["holdout_checked"]
    assert h["holdout_predicted"] == pytest.approx(h["holdout_actual"], rel=0.15)
    assert h["mae_model"] < h["mae_baseline"]
    assert r.check.customers.sum() == h["holdout_customers"]
    # truth: the customers the generator kept alive at as_of
    truth = json.loads((ROOT / "sample_data/harbor_coffee/truth.json").read_text())
    alive = r.customers.customer_id.isin(truth["customer_base"]["still_around_ids"])
    assert auc(alive, r.customers.clv_12m) > 0.75
    repeat = r.customers.p_alive.notna()
    assert auc(alive[repeat], r.customers.p_alive[repeat]) > 0.75
    # gross margin from products.cost, by hand
    items = plans["harbor_coffee"].prepared("order_items").merge(
        plans["harbor_coffee"].prepared("products")[["product_id", "cost"]], on="product_id")
    margin = 1 - (items.quantity * items.cost).sum() / (items.quantity * items.unit_price).sum()
    assert h["margin"] == pytest.approx(margin)
    assert "in gross margin" in r.reading and "better than assuming" in r.reading


def test_values_add_up_and_carry_their_ranges(results):
    r = results["harbor_coffee"]
    c, h = r.customers, r.headline
    assert list(c.columns) == ["customer_id", "p_alive", "expected_purchases", "expected_spend",
                               "clv_12m", "clv_low", "clv_high"]
    assert r.by_decile.share.sum() == pytest.approx(1.0)
    assert r.by_decile.total.sum() == pytest.approx(c.clv_12m.sum())
    assert r.by_decile.customers.sum() == len(c) == h["customers"]
    assert h["total_low"] < h["total_value"] < h["total_high"]
    inside = (c.clv_low <= c.clv_12m * 1.001) & (c.clv_12m <= c.clv_high * 1.001)
    assert inside.mean() > 0.9
    # one-time buyers get no P(alive): BG/NBD cannot tell whether they have left
    assert c.p_alive.isna().sum() == h["one_time"]
    assert any(w.startswith(f"{h['one_time']:,} customers have bought only once")
               for w in r.warnings)


def test_summit_values_are_revenue_and_pass_the_holdout_check(results):
    r = results["summit_outdoor"]
    h = r.headline
    assert r.supported and h["margin"] is None
    assert h["holdout_predicted"] == pytest.approx(h["holdout_actual"], rel=0.15)
    assert h["mae_model"] < h["mae_baseline"]
    assert "in revenue" in r.reading
    assert r.warnings[0].startswith("Your data has no product costs (products.cost)")


def test_bloom_monthly_members_trigger_the_regular_schedule_warning(results):
    r = results["bloom_yoga"]
    assert r.supported
    warning = next(w for w in r.warnings if "regular schedule" in w)
    assert "a churn model is the better guide" in warning
    # truth: members who left by as_of rank below those still paying
    truth = json.loads((ROOT / "sample_data/bloom_yoga/truth.json").read_text())
    stayed = ~r.customers.customer_id.isin(truth["churn"]["members_left_by_as_of"])
    repeat = r.customers.p_alive.notna()
    assert auc(stayed[repeat], r.customers.p_alive[repeat]) > 0.9


def test_too_few_repeat_buyers_fall_back_to_last_years_spend(tmp_path):
    rows = [(f"O{i}", f"C{i % 60}", f"2025-0{1 + i // 60}-{10 + i % 15:02d}", 10.0 + i)
            for i in range(90)]  # 60 customers, 30 of them come back once
    data = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "revenue"])
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": data.to_csv(index=False)})
    r = clv.customer_value(open_plan(folder, run_dir=tmp_path / "run"))
    assert not r.supported
    assert r.reason == ("Only 30 of your 60 customers have bought on more than one day: the model "
                        "needs at least 50 repeat buyers and 100 customers to learn how often "
                        "people come back.")
    spent = data.groupby("customer_id").revenue.sum()
    got = r.customers.set_index("customer_id").clv_12m
    assert got.to_dict() == pytest.approx(spent.to_dict())


def test_charts_draw_the_check_and_the_deciles(results):
    r = results["summit_outdoor"]
    ax = clv.plot_clv_check(r)
    h = r.headline
    assert ax.get_title() == (f"The model predicted {h['holdout_predicted']:,.0f} purchases in the "
                              f"last 26 weeks; {h['holdout_actual']:,.0f} happened")
    ax = clv.plot_clv_distribution(r, currency="CAD")
    share = clv.clv_distribution_data(r).share.iloc[0]
    assert ax.get_title().startswith(f"The top tenth of customers carry {share:.0%}")
    assert ax.get_ylabel() == "Expected value, next 12 months (CAD)"


def test_without_orders_or_customer_ids_the_section_says_what_to_add(tmp_path):
    customers = "customer_id,email\nC1,a@example.com\n"
    folder = write_business(tmp_path / "s1", data={"customers": "data/customers.csv"},
                            files={"data/customers.csv": customers})
    r = clv.customer_value(open_plan(folder, run_dir=tmp_path / "r1"))
    assert not r.supported and r.reason.startswith("Customer value needs your orders table. ")
    assert "add `orders: {path: data/orders.csv}`" in r.reason
    guest = "order_id,order_date,revenue\nO1,2025-01-02,10\nO2,2025-01-09,12\n"
    folder = write_business(tmp_path / "s2", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": guest})
    r = clv.customer_value(open_plan(folder, run_dir=tmp_path / "r2"))
    assert not r.supported and r.reason.startswith("Your orders have no customer_id column")


def test_headline_is_plain_json(results):
    for r in results.values():
        json.dumps(r.headline)
