import DRLReport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The HTML reports: self-contained pages whose charts are all there, as the page's text says and,
/// with Chromium installed (CI installs it), as a browser renders it without a console message.
@Suite struct ReportTests {
    static func sampleReport() -> HTMLReport {
        var report = HTMLReport(title: "A report <of> \"everything\" & more")
        report.blocks.append(.code(caption: "Made with", text: "drlrec train --env cartpole --report 'a b.html'"))
        report.blocks.append(.chart(LineChart(id: "learning-curve", title: "returns", xLabel: "steps", yLabel: "return",
                                              series: [.init(name: "evaluation", points: [(5_000, 20), (10_000, 180), (15_000, 500)]),
                                                       .init(name: "training", points: [(5_000, 15), (10_000, .nan), (15_000, 420)])])))
        report.blocks.append(.chart(IntervalChart(id: "effects", title: "effects", axisLabel: "change (%)",
                                                  rows: [.init(label: "conversion_rate", estimate: 10.3, low: 7.9, high: 12.7),
                                                         .init(label: "sessions <per> user", estimate: -0.4, low: -2, high: 1.2)])))
        report.blocks.append(.chart(BarChart(id: "ranking-metrics", title: "metrics", groups: ["HR@10", "NDCG@10"], yLabel: "value",
                                             series: [.init(name: "sequential", samples: [[0.18, 0.2, 0.19], [0.1, 0.11, 0.1]]),
                                                      .init(name: "sqn", samples: [[0.19], [0.12]])])))
        report.blocks.append(.table(["model", "HR@10"], [["popularity", "0.0573"], ["<b>", "1"]]))
        return report
    }

    /// Every chart is in the page under its name, nothing is fetched from elsewhere (no script,
    /// no link, no source: the one URL is SVG's namespace), text is escaped, and the SVG and the
    /// page are well-formed XML; the check names a chart the page lacks.
    @Test func aReportIsSelfContainedWithEveryChart() throws {
        let report = Self.sampleReport()
        let html = report.html()
        #expect(report.chartIds == ["learning-curve", "effects", "ranking-metrics"])
        #expect(HTMLReport.missingCharts(in: html, expected: report.chartIds).isEmpty)
        #expect(HTMLReport.missingCharts(in: html, expected: ["learning-curve", "seed-spread"]) == ["seed-spread"])
        for forbidden in ["<script", "<link", "src=", "href=", "@import", "url("] { #expect(!html.contains(forbidden), "\(forbidden)") }
        #expect(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "http") == nil)
        #expect(html.contains("A report &lt;of&gt; &quot;everything&quot; &amp; more") && html.contains("&lt;b&gt;") && !html.contains("<b>"))
        #expect(!html.contains("nan") && !html.contains("inf"))
        // Well-formed once the doctype and the few HTML-only constructs are set aside.
        let xml = html.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
            .replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\"/>")
            .replacingOccurrences(of: "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                                  with: "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "") at line \(parser.lineNumber)")
    }

    /// The page in headless Chromium: rendered to PNG with every chart present and nothing on the
    /// console; the same check fails for a chart the page lacks and for a page that logs an error.
    @Test(.enabled(if: Self.chromium != nil, "Chromium is not installed (apt-get install chromium): the browser check is CI's"))
    func chromiumRendersTheReportWithEveryChart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = Self.sampleReport()
        try report.write(to: directory + "/report.html")
        let good = try Self.render(directory + "/report.html", to: directory + "/report.png", charts: report.chartIds)
        #expect(good.status == 0, "\(good.output)")
        let png = try #require(FileManager.default.contents(atPath: directory + "/report.png"))
        #expect(png.count > 10_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let missing = try Self.render(directory + "/report.html", to: directory + "/missing.png", charts: report.chartIds + ["seed-spread"])
        #expect(missing.status == 1 && missing.output.contains("the chart 'seed-spread' is not in the rendered page"), "\(missing.output)")
        try (report.html().replacingOccurrences(of: "</body>", with: "<script>console.error('broken')</script></body>"))
            .write(toFile: directory + "/noisy.html", atomically: true, encoding: .utf8)
        let noisy = try Self.render(directory + "/noisy.html", to: directory + "/noisy.png", charts: report.chartIds)
        #expect(noisy.status == 1 && noisy.output.contains("logged to the console"), "\(noisy.output)")
    }

    /// `drlrec fit --report` writes its page: the learning curve and the validation curve.
    @Test func fitWritesItsReport() throws {
        let directory = Fixtures.scratchDirectory("fit-report")
        #expect(try CommandLineTests.run(["data", "synthesize", "--users", "120", "--items", "30", "--out", directory + "/log.csv"]).status == 0)
        let fit = try CommandLineTests.run(["fit", "--data", directory + "/log.csv", "--epochs", "4", "--out", directory + "/model.safetensors",
                                            "--report", directory + "/fit.html"])
        #expect(fit.status == 0, "\(fit.error)")
        let html = try String(contentsOfFile: directory + "/fit.html", encoding: .utf8)
        #expect(HTMLReport.missingCharts(in: html, expected: ["learning-curve", "validation"]).isEmpty)
        #expect(html.contains("drlrec fit --data ") && html.contains("<th>NDCG@10</th>"))
    }

    /// Without a baseline the axis spans the data alone (estimates near 0.005 are not squashed
    /// against zero) and every row is solid; each row's marker is drawn as a diamond at its value.
    @Test func anIntervalChartMarksTheValueEachEstimateIsCheckedAgainst() throws {
        let rows: [IntervalChart.Row] = [.init(label: "ipw", estimate: 0.0052, low: 0.0047, high: 0.0058, marker: 0.0050),
                                         .init(label: "dm", estimate: 0.0041, low: 0.0039, high: 0.0043, marker: 0.0050)]
        let free = IntervalChart(id: "estimates", title: "estimates", axisLabel: "click rate", rows: rows, baseline: nil).svg()
        #expect(free.components(separatedBy: "data-marker=\"0.005\"").count - 1 == 2 && free.contains("◆ 0.005"))
        #expect(!free.contains(">0</text>") && !free.contains("fill=\"white\""))
        // With the default baseline at zero, zero is on the axis and both intervals, excluding it, are solid.
        let anchored = IntervalChart(id: "estimates", title: "estimates", axisLabel: "click rate", rows: rows).svg()
        #expect(anchored.contains(">0</text>") && !anchored.contains("fill=\"white\""))
        // An interval that holds the baseline is hollow.
        let level = IntervalChart(id: "effects", title: "effects", axisLabel: "%", rows: [.init(label: "a", estimate: 0.1, low: -1, high: 1)]).svg()
        #expect(level.contains("fill=\"white\"") && !level.contains("data-marker"))
    }

    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs scripts/render_report.sh of this repository.
    static func render(_ html: String, to png: String, charts: [String]) throws -> (status: Int32, output: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process(), output = Pipe()
        process.executableURL = root.appendingPathComponent("scripts/render_report.sh")
        process.arguments = [html, png] + charts
        process.environment = ProcessInfo.processInfo.environment.merging(["HEIGHT": "900"]) { $1 }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
