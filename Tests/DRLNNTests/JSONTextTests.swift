import DRLNN
import Foundation
import Testing

@Suite struct JSONTextTests {
    /// What the hand writer produces, Foundation's parser (an independent implementation) reads
    /// back as the same values.
    @Test func foundationReadsBackWhatIsWritten() throws {
        let strings = ["plain", "quote \" and backslash \\", "line\nbreak\ttab\r", "backspace \u{8} form feed \u{C}", "nul \u{0} bell \u{7} unit \u{1F}", "ünïcödé 推荐 🎬", ""]
        let numbers = [0, 1, -2.5, 3.120368719100952, 1e-5, 2.2250738585072014e-308, 1.7976931348623157e308, Double(Float(0.2))]
        let text = "{" + JSONText.string("strings") + ":[" + strings.map(JSONText.string).joined(separator: ",") + "],"
            + JSONText.string("numbers") + ":[" + numbers.map(JSONText.number).joined(separator: ",") + "],"
            + JSONText.string("missing") + ":" + JSONText.number(.nan) + "}"
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["strings"] as? [String] == strings)
        // Foundation's parser is off by an ulp on some numbers (0.2f as a Double); Swift's is exact.
        let read = try #require(parsed["numbers"] as? [Double])
        #expect(zip(read, numbers).allSatisfy { abs($0 - $1) <= 1e-15 * abs($1) } && read.count == numbers.count)
        #expect(numbers.map { Double(JSONText.number($0)) } == numbers)
        #expect(parsed["missing"] is NSNull)
        #expect(Array(parsed.keys).sorted() == ["missing", "numbers", "strings"])
    }
}
