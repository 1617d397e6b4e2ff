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
let serving = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-serving").path
try? FileManager.default.removeItem(atPath: serving)
try FileManager.default.createDirectory(atPath: serving, withIntermediateDirectories: true)
let served = try await serveANextItemModel(in: serving)
print("served by \(served.version ?? "popularity"): \(served.before.joined(separator: " ")); after a click on \(served.before[0]): \(served.after.joined(separator: " "))")
try? FileManager.default.removeItem(atPath: serving)
