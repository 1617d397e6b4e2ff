import Foundation
import Walkthrough

print(String(format: "DQN on the corridor: greedy return %.2f (best 0.30)", try trainDQN()))
print(String(format: "SAC on the corridor: deterministic return %.2f (best 0.30)", try trainSAC()))
let path = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-model.safetensors").path
let (saved, loaded) = try saveAndLoadModel(at: path)
print("model saved and loaded: outputs \(saved == loaded ? "identical" : "DIFFERENT")")
try? FileManager.default.removeItem(atPath: path)
let conversion = ecommerceBaselines()
print(String(format: "e-commerce, 300 users: conversion %.3f with best-sellers, %.3f with random slates", conversion.popularity, conversion.random))
