#!/usr/bin/env python3
"""Prints Gymnasium's CartPole-v1 and Pendulum-v1 trajectories from fixed states, the reference
values pasted into Tests/DRLAgentsTests/EnvironmentTests.swift. Needs `pip install gymnasium`."""
import gymnasium as gym
import numpy as np

cartpole = gym.make("CartPole-v1").unwrapped
cartpole.reset(seed=0)
cartpole.state = np.array([0.01, -0.02, 0.03, 0.04])
print("CartPole from (0.01, -0.02, 0.03, 0.04), actions 1 1 0 1 0 0 1:")
for action in [1, 1, 0, 1, 0, 0, 1]:
    print(list(map(float, cartpole.step(action)[0])))

pendulum = gym.make("Pendulum-v1").unwrapped
pendulum.reset(seed=0)
pendulum.state = np.array([2.5, -0.5])
print("Pendulum from (theta 2.5, thetadot -0.5), torques 1.5 -2.5 0.3: observation, reward")
for torque in [1.5, -2.5, 0.3]:
    observation, reward, *_ = pendulum.step(np.array([torque], dtype=np.float32))
    print(list(map(float, observation)), float(reward))
