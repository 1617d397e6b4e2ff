/// A chart of a report: an inline SVG whose root carries `data-chart` = `id`, so that a check of
/// the rendered page finds each chart by name.
public protocol ReportChart {
    /// The chart's name in the page (letters, digits and hyphens).
    var id: String { get }
    var title: String { get }
    func svg() -> String
}

/// The plot area shared by the charts: a frame of `width` × `height` with margins for the axes'
/// labels, mapping data coordinates to the frame.
struct PlotFrame {
    let width = 760.0, height = 320.0
    let left = 70.0, right = 160.0, top = 16.0, bottom = 48.0
    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    func x(_ value: Double, in range: ClosedRange<Double>) -> Double {
        left + (value - range.lowerBound) / max(range.upperBound - range.lowerBound, 1e-300) * plotWidth
    }

    func y(_ value: Double, in range: ClosedRange<Double>) -> Double {
        top + plotHeight - (value - range.lowerBound) / max(range.upperBound - range.lowerBound, 1e-300) * plotHeight
    }
}

/// Colours of series, in order (distinct for the colour-blind: Okabe and Ito's palette).
let seriesColours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

func svgOpen(_ chart: ReportChart, width: Double, height: Double) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"\(SVGText.escaped(chart.id))\" role=\"img\" "
        + "aria-label=\"\(SVGText.escaped(chart.title))\" width=\"\(SVGText.coordinate(width))\" height=\"\(SVGText.coordinate(height))\" "
        + "viewBox=\"0 0 \(SVGText.coordinate(width)) \(SVGText.coordinate(height))\">"
}

func svgText(_ text: String, x: Double, y: Double, anchor: String = "start", size: Int = 12, extra: String = "") -> String {
    "<text x=\"\(SVGText.coordinate(x))\" y=\"\(SVGText.coordinate(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(extra)>"
        + SVGText.escaped(text) + "</text>"
}

func svgLine(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil) -> String {
    "<line x1=\"\(SVGText.coordinate(x1))\" y1=\"\(SVGText.coordinate(y1))\" x2=\"\(SVGText.coordinate(x2))\" y2=\"\(SVGText.coordinate(y2))\" "
        + "stroke=\"\(stroke)\" stroke-width=\"\(SVGText.coordinate(width))\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
}

/// Learning curves and other series over a numeric x: one polyline with markers per series, axes
/// with round ticks, and a legend.
public struct LineChart: ReportChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { (self.name, self.points) = (name, points) }
    }

    public let id: String, title: String
    public var xLabel: String, yLabel: String
    public var series: [Series]

    public init(id: String, title: String, xLabel: String, yLabel: String, series: [Series]) {
        (self.id, self.title, self.xLabel, self.yLabel, self.series) = (id, title, xLabel, yLabel, series)
    }

    public func svg() -> String {
        let frame = PlotFrame()
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xTicks = SVGText.ticks(points.map(\.x).min() ?? 0, points.map(\.x).max() ?? 1)
        let yTicks = SVGText.ticks(points.map(\.y).min() ?? 0, points.map(\.y).max() ?? 1)
        let xRange = (xTicks.first ?? 0)...(xTicks.last ?? 1), yRange = (yTicks.first ?? 0)...(yTicks.last ?? 1)
        var out = svgOpen(self, width: frame.width, height: frame.height)
        for tick in yTicks {
            let y = frame.y(tick, in: yRange)
            out += svgLine(frame.left, y, frame.left + frame.plotWidth, y, stroke: "#e4e4e4")
            out += svgText(SVGText.label(tick), x: frame.left - 6, y: y + 4, anchor: "end", size: 11)
        }
        for tick in xTicks {
            let x = frame.x(tick, in: xRange)
            out += svgLine(x, frame.top + frame.plotHeight, x, frame.top + frame.plotHeight + 4, stroke: "#555")
            out += svgText(SVGText.label(tick), x: x, y: frame.top + frame.plotHeight + 18, anchor: "middle", size: 11)
        }
        out += svgLine(frame.left, frame.top + frame.plotHeight, frame.left + frame.plotWidth, frame.top + frame.plotHeight, stroke: "#555")
        out += svgLine(frame.left, frame.top, frame.left, frame.top + frame.plotHeight, stroke: "#555")
        out += svgText(xLabel, x: frame.left + frame.plotWidth / 2, y: frame.height - 8, anchor: "middle")
        out += svgText(yLabel, x: 14, y: frame.top + frame.plotHeight / 2, anchor: "middle",
                       extra: " transform=\"rotate(-90 14 \(SVGText.coordinate(frame.top + frame.plotHeight / 2)))\"")
        for (k, line) in series.enumerated() {
            let colour = seriesColours[k % seriesColours.count]
            let shown = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            let path = shown.map { "\(SVGText.coordinate(frame.x($0.x, in: xRange))),\(SVGText.coordinate(frame.y($0.y, in: yRange)))" }
            out += "<polyline data-series=\"\(SVGText.escaped(line.name))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path.joined(separator: " "))\"/>"
            for point in shown {
                out += "<circle cx=\"\(SVGText.coordinate(frame.x(point.x, in: xRange)))\" cy=\"\(SVGText.coordinate(frame.y(point.y, in: yRange)))\" r=\"3\" fill=\"\(colour)\"/>"
            }
            let legendY = frame.top + 14 + Double(k) * 18
            out += svgLine(frame.width - frame.right + 12, legendY - 4, frame.width - frame.right + 30, legendY - 4, stroke: colour, width: 2)
            out += svgText(line.name, x: frame.width - frame.right + 36, y: legendY, size: 11)
        }
        return out + "</svg>"
    }
}

/// Estimates with their intervals, one row each (an A/B test's effects, an agent's differences
/// from a baseline, off-policy estimates): a point with its interval bar and a line at the
/// baseline (zero by default); a row whose interval excludes the baseline is drawn solid, the
/// others hollow. A row may carry a marker, the value the estimate is checked against (the
/// truth, the value realised online), drawn as a black diamond.
public struct IntervalChart: ReportChart {
    public struct Row {
        public var label: String
        public var estimate: Double, low: Double, high: Double
        public var marker: Double?
        public init(label: String, estimate: Double, low: Double, high: Double, marker: Double? = nil) {
            (self.label, self.estimate, self.low, self.high, self.marker) = (label, estimate, low, high, marker)
        }
    }

    public let id: String, title: String
    public var axisLabel: String
    public var rows: [Row]
    /// The value the intervals are compared with (nil: none; the axis then spans the data only,
    /// and every row is drawn solid).
    public var baseline: Double?

    public init(id: String, title: String, axisLabel: String, rows: [Row], baseline: Double? = 0) {
        (self.id, self.title, self.axisLabel, self.rows, self.baseline) = (id, title, axisLabel, rows, baseline)
    }

    public func svg() -> String {
        let labelWidth = 220.0, plotWidth = 420.0, valueWidth = 270.0, rowHeight = 26.0, top = 12.0
        let width = labelWidth + plotWidth + valueWidth, height = top + rowHeight * Double(max(rows.count, 1)) + 48
        let values = rows.flatMap { [$0.low, $0.high, $0.estimate] + ($0.marker.map { [$0] } ?? []) }.filter(\.isFinite)
            + (baseline.map { [$0] } ?? [])
        let ticks = SVGText.ticks(values.min() ?? 0, values.max() ?? 1)
        let range = (ticks.first ?? -1)...(ticks.last ?? 1)
        func x(_ value: Double) -> Double { labelWidth + (value - range.lowerBound) / max(range.upperBound - range.lowerBound, 1e-300) * plotWidth }
        let bottom = top + rowHeight * Double(max(rows.count, 1))
        var out = svgOpen(self, width: width, height: height)
        for tick in ticks {
            out += svgLine(x(tick), top, x(tick), bottom, stroke: "#e4e4e4")
            out += svgText(SVGText.label(tick), x: x(tick), y: bottom + 16, anchor: "middle", size: 11)
        }
        if let baseline { out += svgLine(x(baseline), top, x(baseline), bottom, stroke: "#555", width: 1.5) }
        out += svgText(axisLabel, x: labelWidth + plotWidth / 2, y: height - 8, anchor: "middle")
        for (k, row) in rows.enumerated() {
            let y = top + rowHeight * (Double(k) + 0.5)
            let excludesZero = baseline.map { row.low > $0 || row.high < $0 } ?? true
            let colour = excludesZero ? (row.estimate >= (baseline ?? -.infinity) ? "#0072B2" : "#D55E00") : "#777"
            out += "<g data-row=\"\(SVGText.escaped(row.label))\">"
            out += svgText(row.label, x: labelWidth - 10, y: y + 4, anchor: "end")
            if row.low.isFinite, row.high.isFinite { out += svgLine(x(row.low), y, x(row.high), y, stroke: colour, width: 2) }
            if row.estimate.isFinite {
                out += "<circle cx=\"\(SVGText.coordinate(x(row.estimate)))\" cy=\"\(SVGText.coordinate(y))\" r=\"5\" "
                    + (excludesZero ? "fill=\"\(colour)\"" : "fill=\"white\" stroke=\"\(colour)\" stroke-width=\"2\"") + "/>"
            }
            if let marker = row.marker, marker.isFinite {
                let (mx, r) = (x(marker), 5.0)
                out += "<polygon data-marker=\"\(SVGText.label(marker))\" fill=\"#000\" points=\"\(SVGText.coordinate(mx)),\(SVGText.coordinate(y - r)) "
                    + "\(SVGText.coordinate(mx + r)),\(SVGText.coordinate(y)) \(SVGText.coordinate(mx)),\(SVGText.coordinate(y + r)) \(SVGText.coordinate(mx - r)),\(SVGText.coordinate(y))\"/>"
            }
            out += svgText("\(SVGText.label(row.estimate)) [\(SVGText.label(row.low)), \(SVGText.label(row.high))]"
                           + (row.marker.map { " ◆ \(SVGText.label($0))" } ?? ""),
                           x: labelWidth + plotWidth + 10, y: y + 4, size: 11)
            out += "</g>"
        }
        return out + "</svg>"
    }
}

/// Values of several series for each group (ranking metrics per model), as bars side by side;
/// when a bar has several samples (one per training seed), the bar is their mean and each
/// sample is a dot on it, so the spread shows.
public struct BarChart: ReportChart {
    public struct Series {
        public var name: String
        /// One list of samples per group.
        public var samples: [[Double]]
        public init(name: String, samples: [[Double]]) { (self.name, self.samples) = (name, samples) }
    }

    public let id: String, title: String
    public var groups: [String]
    public var yLabel: String
    public var series: [Series]

    public init(id: String, title: String, groups: [String], yLabel: String, series: [Series]) {
        (self.id, self.title, self.groups, self.yLabel, self.series) = (id, title, groups, yLabel, series)
    }

    public func svg() -> String {
        let frame = PlotFrame()
        let values = series.flatMap { $0.samples.flatMap { $0 } }.filter(\.isFinite)
        let ticks = SVGText.ticks(min(0, values.min() ?? 0), max(values.max() ?? 1, 1e-12))
        let range = (ticks.first ?? 0)...(ticks.last ?? 1)
        var out = svgOpen(self, width: frame.width, height: frame.height)
        for tick in ticks {
            let y = frame.y(tick, in: range)
            out += svgLine(frame.left, y, frame.left + frame.plotWidth, y, stroke: tick == 0 ? "#555" : "#e4e4e4")
            out += svgText(SVGText.label(tick), x: frame.left - 6, y: y + 4, anchor: "end", size: 11)
        }
        out += svgText(yLabel, x: 14, y: frame.top + frame.plotHeight / 2, anchor: "middle",
                       extra: " transform=\"rotate(-90 14 \(SVGText.coordinate(frame.top + frame.plotHeight / 2)))\"")
        let groupWidth = frame.plotWidth / Double(max(groups.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        for (g, group) in groups.enumerated() {
            let start = frame.left + groupWidth * Double(g) + groupWidth * 0.1
            out += svgText(group, x: frame.left + groupWidth * (Double(g) + 0.5), y: frame.top + frame.plotHeight + 18, anchor: "middle", size: 11)
            for (s, bars) in series.enumerated() where g < bars.samples.count {
                let samples = bars.samples[g].filter(\.isFinite)
                guard !samples.isEmpty else { continue }
                let mean = samples.reduce(0, +) / Double(samples.count)
                let x = start + barWidth * Double(s), zero = frame.y(0, in: range), y = frame.y(mean, in: range)
                out += "<rect data-bar=\"\(SVGText.escaped(group + "/" + bars.name))\" x=\"\(SVGText.coordinate(x + 1))\" "
                    + "y=\"\(SVGText.coordinate(min(y, zero)))\" width=\"\(SVGText.coordinate(max(barWidth - 2, 1)))\" "
                    + "height=\"\(SVGText.coordinate(abs(zero - y)))\" fill=\"\(seriesColours[s % seriesColours.count])\" fill-opacity=\"0.75\"/>"
                if samples.count > 1 {
                    for sample in samples {
                        out += "<circle cx=\"\(SVGText.coordinate(x + barWidth / 2))\" cy=\"\(SVGText.coordinate(frame.y(sample, in: range)))\" r=\"2.5\" fill=\"#222\"/>"
                    }
                }
            }
        }
        for (s, bars) in series.enumerated() {
            let legendY = frame.top + 14 + Double(s) * 18
            out += "<rect x=\"\(SVGText.coordinate(frame.width - frame.right + 12))\" y=\"\(SVGText.coordinate(legendY - 10))\" width=\"14\" height=\"10\" "
                + "fill=\"\(seriesColours[s % seriesColours.count])\" fill-opacity=\"0.75\"/>"
            out += svgText(bars.name, x: frame.width - frame.right + 32, y: legendY, size: 11)
        }
        if series.contains(where: { $0.samples.contains { $0.count > 1 } }) {
            out += svgText("dots: one per seed", x: frame.width - frame.right + 12, y: frame.top + 14 + Double(series.count) * 18 + 6, size: 11)
        }
        return out + "</svg>"
    }
}
