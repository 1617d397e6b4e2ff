#!/usr/bin/env python3
"""obp 0.4.1's off-policy estimates on the Open Bandit Dataset, as fixtures for DRLRec's own.

Runs obp itself (the release whose wheel `drlrec data fetch obd` downloads) on its small OBD
sample: the Random logs of campaign "all" as the behaviour data, obp's Bernoulli Thompson Sampling
(the ZOZOTOWN prior, 100,000 simulations) as the evaluation policy, and obp's RegressionModel
(logistic regression, 3-fold cross-fitting) as the reward model q̂. It keeps a subset of the
rounds (every round with a click, then the first rounds without one, in log order), rounds
every input to float32 (what DRLRec's OffPolicyData holds), and estimates the evaluation policy's
value on exactly those inputs with obp's IPW, SNIPW, DM, DR, SNDR, Switch-DR and DRos.

The inputs go to a safetensors file, obp's estimates (as Python's repr of the float64) to its
metadata; OBPCrossCheckTests reads it and compares DRLRec's estimators. CI needs no Python:
the fixture is committed. It also prints obp's estimates on all 10,000 rounds, beside the truth
(BTS's own click rate), for docs/RESULTS.md.

  python3 -m venv /tmp/obp
  /tmp/obp/bin/pip install obp==0.4.1 safetensors pandas==1.5.3 numpy==1.26.4 scikit-learn==1.3.2   # obp 0.4.1 needs pandas 1
  /tmp/obp/bin/python scripts/obp_crosscheck.py
"""
import argparse
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.linear_model import LogisticRegression

import obp
from obp.dataset import OpenBanditDataset
from obp.ope import (DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting,
                     OffPolicyEvaluation, RegressionModel, SelfNormalizedDoublyRobust,
                     SelfNormalizedInverseProbabilityWeighting, SwitchDoublyRobust)
from obp.policy import BernoulliTS

OUT = Path(__file__).resolve().parent.parent / "Tests/DRLEvaluationTests/Fixtures/obp_crosscheck.safetensors"
SWITCH_THRESHOLD = 2.0
SHRINKAGE = 10.0


def estimators():
    return [InverseProbabilityWeighting(estimator_name="ipw"),
            SelfNormalizedInverseProbabilityWeighting(estimator_name="snipw"),
            DirectMethod(estimator_name="dm"),
            DoublyRobust(estimator_name="dr"),
            SelfNormalizedDoublyRobust(estimator_name="sndr"),
            SwitchDoublyRobust(tau=SWITCH_THRESHOLD, estimator_name="switch-dr"),
            DoublyRobustWithShrinkage(lambda_=SHRINKAGE, estimator_name="dros")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unclicked", type=int, default=300, help="rounds without a click kept beside every clicked one")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    assert obp.__version__ == "0.4.1", f"obp {obp.__version__}: the fixtures are obp 0.4.1's"

    dataset = OpenBanditDataset(behavior_policy="random", campaign="all")
    feedback = dataset.obtain_batch_bandit_feedback()
    n = feedback["n_rounds"]
    policy = BernoulliTS(n_actions=dataset.n_actions, len_list=dataset.len_list, is_zozotown_prior=True,
                         campaign="all", random_state=12345)
    action_dist = policy.compute_batch_action_dist(n_sim=100_000, n_rounds=n)
    model = RegressionModel(n_actions=dataset.n_actions, len_list=dataset.len_list, action_context=dataset.action_context,
                            base_model=LogisticRegression(max_iter=1000, C=100, random_state=12345))
    q_hat = model.fit_predict(context=feedback["context"], action=feedback["action"], reward=feedback["reward"],
                              position=feedback["position"], pscore=feedback["pscore"], n_folds=3, random_state=12345)

    truth = OpenBanditDataset.calc_on_policy_policy_value_estimate(behavior_policy="bts", campaign="all")
    full = OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=estimators())
    print(f"obp {obp.__version__}, {n} rounds of random/all; truth (bts's own click rate) {truth:.6f}")
    for name, value in full.estimate_policy_values(action_dist=action_dist, estimated_rewards_by_reg_model=q_hat).items():
        print(f"  {name:10s} {value:.6f}  relative error {abs(value - truth) / truth:.3f}")

    clicked = np.flatnonzero(feedback["reward"] == 1)
    unclicked = np.flatnonzero(feedback["reward"] == 0)[:args.unclicked]
    rows = np.sort(np.concatenate([clicked, unclicked]))
    positions = feedback["position"][rows]
    # The inputs as DRLRec holds them (float32), each at its round's own position.
    inputs = {
        "actions": feedback["action"][rows].astype(np.float32),
        "rewards": feedback["reward"][rows].astype(np.float32),
        "propensities": feedback["pscore"][rows].astype(np.float32),
        "evaluation_probabilities": action_dist[rows, :, positions].astype(np.float32),
        "reward_estimates": q_hat[rows, :, positions].astype(np.float32),
    }
    subset = {"n_rounds": len(rows), "n_actions": dataset.n_actions, "action": feedback["action"][rows],
              "reward": inputs["rewards"].astype(np.float64), "pscore": inputs["propensities"].astype(np.float64),
              "position": np.zeros(len(rows), dtype=int)}
    ope = OffPolicyEvaluation(bandit_feedback=subset, ope_estimators=estimators())
    values = ope.estimate_policy_values(action_dist=inputs["evaluation_probabilities"].astype(np.float64)[:, :, None],
                                        estimated_rewards_by_reg_model=inputs["reward_estimates"].astype(np.float64)[:, :, None])
    metadata = {f"obp.{name}": repr(float(value)) for name, value in values.items()}
    metadata.update({"obp.version": obp.__version__, "switch_threshold": repr(SWITCH_THRESHOLD), "shrinkage": repr(SHRINKAGE),
                     "rounds": f"{len(clicked)} clicked and the first {len(unclicked)} unclicked of {n} rounds of random/all"})
    save_file(inputs, args.out, metadata=metadata)
    print(f"wrote {len(rows)} rounds ({len(clicked)} with a click) and obp's estimates on them to {args.out}")
    for name, value in values.items():
        print(f"  {name:10s} {value:.9f}")


if __name__ == "__main__":
    main()
