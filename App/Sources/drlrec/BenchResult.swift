/// One measured quantity of `drlrec bench`.
struct BenchResult {
    let name: String
    let value: Double
    let unit: String
    /// For matmuls: GFLOP/s of the direct cblas_sgemm call measured alongside.
    var rawGFLOPS: Double? = nil
    /// For elementwise kernels: billions of elements per second.
    var gelemPerSecond: Double? = nil
    /// For matmuls: the rate as a fraction of the measured FMA peak of the threads used.
    var peakFraction: Double? = nil
    /// For training workloads: samples (batch rows) per second and heap allocations per step.
    var samplesPerSecond: Double? = nil
    var allocationsPerStep: Double? = nil

    func jsonLine(threads: Int) -> String {
        var fields: [(String, JSONLine.Value)] = [
            ("name", .string(name)), ("threads", .int(threads)), ("value", .double(rounded(value))), ("unit", .string(unit)),
        ]
        if let raw = rawGFLOPS {
            fields.append(("raw_gflops", .double(rounded(raw))))
            fields.append(("ratio", .double(rounded(value / raw, places: 4))))
        }
        if let g = gelemPerSecond { fields.append(("gelem_per_s", .double(rounded(g, places: 3)))) }
        if let p = peakFraction { fields.append(("peak_fraction", .double(rounded(p, places: 3)))) }
        if let s = samplesPerSecond { fields.append(("samples_per_s", .double(rounded(s, places: 0)))) }
        if let a = allocationsPerStep { fields.append(("allocations_per_step", .double(rounded(a, places: 2)))) }
        return JSONLine(fields).text
    }

    func tableLine(threads: Int) -> String {
        let shown = format3(value, places: unit == "ms" ? 3 : 1)
        var line = pad(name, 28) + " threads \(threads)  " + pad(shown + " " + unit, 18)
        if let raw = rawGFLOPS { line += "  cblas \(format3(raw)) GFLOP/s  ratio \(format3(value / raw, places: 3))" }
        if let g = gelemPerSecond { line += "  \(format3(g, places: 2)) Gelem/s" }
        if let p = peakFraction { line += "  \(format3(p * 100, places: 0))% of peak" }
        if let s = samplesPerSecond { line += "  \(format3(s, places: 0)) samples/s" }
        if let a = allocationsPerStep { line += "  \(format3(a, places: 2)) allocations/step" }
        return line
    }

    private func rounded(_ x: Double, places: Int = 3) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (x * scale).rounded() / scale
    }
    private func format3(_ x: Double, places: Int = 1) -> String { String(rounded(x, places: places)) }
    private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
}
