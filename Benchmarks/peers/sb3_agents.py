#!/usr/bin/env python3
"""Stable-Baselines3 peer for `drlrec bench agents`: the same agent workloads, the same JSON lines.

  dqn_cartpole: DQN on CartPole-v1, net_arch [64, 64], batch 64, train_freq 1, gradient_steps 1,
                learning_starts 1000; environment steps per second (including learning) over
                --steps timed steps after --warmup steps.
  sac_pendulum: SAC on Pendulum-v1, net_arch [256, 256], batch 256, train_freq 1, gradient_steps 1,
                learning_starts 1000; gradient updates per second over --sac-steps timed steps
                after 1000 warm-up steps.
  a2c_cartpole: A2C on 8 CartPole-v1 copies (make_vec_env), default MlpPolicy (64-64 tanh), n_steps 5;
                environment steps per second (including learning) over --a2c-steps timed steps after
                4000 warm-up steps.

  pip install stable-baselines3 gymnasium torch     # (CPU torch: see Benchmarks/peers/README.md)
  python3 Benchmarks/peers/sb3_agents.py [--threads 1] [--steps 20000] [--warmup 2000] [--sac-steps 5000] [--a2c-steps 100000] [--json]

Without stable-baselines3 it prints why on stderr and, with --json, a line
{"name": "peer", "skipped": true, "reason": ...}, then exits 0.
"""
import argparse
import json
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1", help="comma-separated torch thread counts")
    parser.add_argument("--steps", type=int, default=20_000, help="timed environment steps")
    parser.add_argument("--warmup", type=int, default=2_000, help="untimed environment steps first (≥ learning_starts)")
    parser.add_argument("--sac-steps", type=int, default=5_000, help="timed SAC steps (one update each)")
    parser.add_argument("--a2c-steps", type=int, default=100_000, help="timed A2C environment steps (summed over 8 copies)")
    parser.add_argument("--only", default="dqn_cartpole,sac_pendulum,a2c_cartpole", help="comma-separated workloads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        import torch
        from stable_baselines3 import A2C, DQN, SAC
        from stable_baselines3.common.env_util import make_vec_env
    except ImportError as error:
        reason = f"stable-baselines3 not importable ({error}); pip install stable-baselines3 gymnasium torch"
        print(reason, file=sys.stderr)
        if args.json:
            print(json.dumps({"name": "peer", "skipped": True, "reason": reason}))
        return 0
    import stable_baselines3
    print(f"stable-baselines3 {stable_baselines3.__version__}, torch {torch.__version__}", file=sys.stderr)
    torch.set_num_interop_threads(1)
    only = set(args.only.split(","))

    def report(name, threads, rate, unit):
        if args.json:
            print(json.dumps({"name": name, "threads": threads, "value": round(rate, 1), "unit": unit,
                              "impl": "stable-baselines3"}))
        else:
            print(f"{name}  threads {threads}  {rate:.0f} {unit}")

    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        if "dqn_cartpole" in only:
            model = DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [64, 64]}, batch_size=64, train_freq=1,
                        gradient_steps=1, learning_starts=1000, seed=0, verbose=0, device="cpu")
            model.learn(total_timesteps=args.warmup)
            start = time.perf_counter()
            model.learn(total_timesteps=args.steps, reset_num_timesteps=False)
            report("dqn_cartpole", threads, args.steps / (time.perf_counter() - start), "env_steps/s")
        if "sac_pendulum" in only:
            model = SAC("MlpPolicy", "Pendulum-v1", policy_kwargs={"net_arch": [256, 256]}, batch_size=256, train_freq=1,
                        gradient_steps=1, learning_starts=1000, seed=0, verbose=0, device="cpu")
            model.learn(total_timesteps=1000)
            start = time.perf_counter()
            model.learn(total_timesteps=args.sac_steps, reset_num_timesteps=False)
            report("sac_pendulum", threads, args.sac_steps / (time.perf_counter() - start), "updates/s")
        if "a2c_cartpole" in only:
            model = A2C("MlpPolicy", make_vec_env("CartPole-v1", n_envs=8, seed=0), n_steps=5, seed=0, verbose=0, device="cpu")
            model.learn(total_timesteps=4000)
            start = time.perf_counter()
            model.learn(total_timesteps=args.a2c_steps, reset_num_timesteps=False)
            report("a2c_cartpole", threads, args.a2c_steps / (time.perf_counter() - start), "env_steps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
