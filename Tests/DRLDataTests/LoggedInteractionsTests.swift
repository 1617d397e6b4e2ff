import DRLData
import Foundation
import ScratchFiles
import Testing

@Suite struct LoggedInteractionsTests {

    /// Writes `text` to a new temporary file and returns its path.
    static func file(_ text: String) -> String {
        let path = Scratch.path("log.csv")
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func readsColumnsInAnyOrderWithContextAndQuotes() throws {
        let path = Self.file("""
        timestamp,user,event,item,value,device,propensity
        100,u1,rating,"The Matrix, 1999",4.5,1,0.25
        105,u2,click,m2,,0,
        110,u1,view,m2,0.8,2,1

        """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try LoggedInteractions.read(csv: path)
        #expect(log.count == 3 && log.userIds == ["u1", "u2"] && log.itemIds == ["The Matrix, 1999", "m2"])
        #expect(log.users == [0, 1, 0] && log.items == [0, 1, 1] && log.timestamps == [100, 105, 110])
        #expect(log.events == [.rating, .click, .view] && log.values == [4.5, 1, 0.8])
        #expect(log.propensities[0] == 0.25 && log.propensities[1].isNaN && log.propensities[2] == 1)
        #expect(log.contextColumns == ["device"] && log.context == [1, 0, 2])
        // Written back and read again, nothing changes.
        let copy = Self.file(log.csv())
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let again = try LoggedInteractions.read(csv: copy)
        #expect(again.userIds == log.userIds && again.itemIds == log.itemIds && again.events == log.events && again.values == log.values
                && again.timestamps == log.timestamps && again.context == log.context && again.contextColumns == log.contextColumns)
    }

    /// Served lists (impression rows and feedback that names its list) round-trip; rows without a
    /// list stay without, and a log with no served rows is written without the served columns.
    @Test func servedListsRoundTrip() throws {
        var log = LoggedInteractions(contextColumns: ["hour"])
        let first = LoggedInteractions.Served(impression: "req-1", position: 1, version: "v2", arm: "candidate")
        log.append(user: "u1", item: "i9", timestamp: 10, event: .impression, propensity: 0.8, context: [3], served: first)
        log.append(user: "u1", item: "i4", timestamp: 10, event: .impression, propensity: 0.05, context: [3],
                   served: .init(impression: "req-1", position: 2, version: "v2", arm: "candidate"))
        log.append(user: "u1", item: "i9", timestamp: 12, event: .click, context: [3], served: first)
        log.append(user: "u2", item: "i4", timestamp: 13, event: .click, context: [1])
        let path = Self.file(log.csv())
        let again = try LoggedInteractions.read(csv: path)
        #expect(again.csv() == log.csv() && again.count == 4)  // (== would compare the unknown propensities, NaN)
        #expect(again.served(0) == first && again.served(1)?.position == 2 && again.served(2) == first && again.served(3) == nil)
        #expect(log.csv().hasPrefix("user,item,timestamp,event,value,propensity,impression,position,version,arm,hour\n"))

        var plain = LoggedInteractions()
        plain.append(user: "u", item: "i", timestamp: 1, event: .click)
        #expect(!plain.hasServedRows && plain.csv().hasPrefix("user,item,timestamp,event,value,propensity\n"))
        #expect(log.within(12..<20).served(0) == first)
        // What the users did: the two clicks, items indexed afresh (i9, then i4), the click keeping
        // the list it names and its context.
        let actions = log.actions()
        #expect(actions.count == 2 && actions.events == [.click, .click] && actions.itemIds == ["i9", "i4"] && actions.userIds == ["u1", "u2"])
        #expect(actions.served(0) == first && actions.served(1) == nil && actions.context == [3, 1] && actions.timestamps == [12, 13])
    }

    /// Windows line ends read as Unix ones (a CRLF file once kept "\r\n" in its last column).
    @Test func readsCRLFLineEnds() throws {
        let path = Self.file("user,item,timestamp,event,value\r\nu1,i1,5,rating,4\r\nu2,i2,6,rating,3.5\r\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try LoggedInteractions.read(csv: path)
        #expect(log.count == 2 && log.itemIds == ["i1", "i2"] && log.values == [4, 3.5])
    }

    /// Each malformed file is refused with the line and the column to blame.
    @Test(arguments: [
        ("user,item,timestamp,event\nu1,i1,5,click\nu2,i2,6\n", 3, nil as String?, "has 3 fields"),
        ("user,item,timestamp,event,value\nu1,i1,5,rating,four\n", 2, "value", "not a finite number"),
        ("user,item,timestamp,event\nu1,i1,5,clicked\n", 2, "event", "not an event type"),
        ("user,item,timestamp,event,propensity\nu1,i1,5,click,0.5\nu1,i2,6,click,1.5\n", 3, "propensity", "not a probability"),
        ("user,item,timestamp,event,propensity\nu1,i1,5,click,0\n", 2, "propensity", "not a probability"),
        ("user,item,event\nu1,i1,click\n", 1, "timestamp", "lacks the required column"),
        ("user,item,timestamp,event\nu1,i1,5.5,click\n", 2, "timestamp", "not an integer"),
        ("user,item,timestamp,event\n,i1,5,click\n", 2, "user", "is empty"),
        ("user,item,timestamp,event,device\nu1,i1,5,click,phone\n", 2, "device", "context columns hold numbers"),
        ("user,item,timestamp,event\nu1,\"i1,5,click\n", 2, nil, "never closes"),
        ("", 1, nil, "empty"),
        // A NUL used to cut the row short at that byte and read what was left of it.
        ("user,item,timestamp,event\nu1,i1,5,click\nnul\u{0}user,i5,6,click\n", 3, nil, "NUL byte at byte 4"),
        ("user,item,timestamp,event,impression,position\nu1,i1,5,impression,r1,1\n", 1, "version", "they come together"),
        ("user,item,timestamp,event,impression,position,version,arm\nu1,i1,5,impression,r1,0,v1,control\n", 2, "position", "not a position"),
        // Found by fuzzing: a position past Int32 trapped when the row was stored.
        ("user,item,timestamp,event,impression,position,version,arm\nu1,i1,5,impression,r1,3333333333333,v1,control\n", 2, "position", "not a position"),
        ("user,item,timestamp,event,impression,position,version,arm\nu1,i1,5,impression,r1,1,,control\n", 2, "version", "is empty while"),
    ])
    func malformedRowsGiveLineNumberedErrors(_ text: String, _ line: Int, _ column: String?, _ message: String) {
        let path = Self.file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try LoggedInteractions.read(csv: path)
            Issue.record("read a malformed file: \(text)")
        } catch {
            #expect(error.file == path && error.line == line && error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    /// Bytes that are not UTF-8 (here Latin-1 "é", 0xE9) are refused at their line and byte: they
    /// used to be read as U+FFFD, so the id silently changed.
    @Test func invalidUTF8IsRefusedWithItsByte() {
        let path = Self.file("")
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("user,item,timestamp,event\nu1,i1,5,click\nu2,i".utf8) + Data([0xE9, 0xE9]) + Data(",6,click\n".utf8))
        #expect { try LoggedInteractions.read(csv: path) } throws: { error in
            let error = error as! DataFileError
            return error.line == 3 && error.message.contains("not valid UTF-8 at byte 5")
        }
    }

    /// Skipping bad rows leaves out exactly the rows that cannot be read (a malformed field, a
    /// NUL, bytes that are not UTF-8, a short row), each with its line, bytes and reason, and
    /// keeps the rest; the header is still checked.
    @Test func skippingBadRowsKeepsTheRest() throws {
        let path = Self.file("")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rows: [[UInt8]] = [Array("user,item,timestamp,event\n".utf8), Array("u1,i1,5,click\n".utf8), Array("u1,i2,later,click\n".utf8),
                               Array("u\u{0}2,i2,6,click\n".utf8), Array("u2,i".utf8) + [0xE9] + Array(",7,click\n".utf8),
                               Array("u3,i3\n".utf8), Array("u4,i4,8,purchase\n".utf8)]
        FileManager.default.createFile(atPath: path, contents: Data(rows.joined()))
        let (log, bad, end) = try LoggedInteractions.read(csv: path, skippingBadRows: true)
        #expect(end == LinePosition(byte: rows.joined().count, line: 7))
        #expect(log.userIds == ["u1", "u4"] && log.timestamps == [5, 8])
        #expect(bad.map(\.line) == [3, 4, 5, 6])
        #expect(bad.map(\.bytes) == Array(rows[2...5]))
        #expect(bad[0].error.column == "timestamp" && bad[1].error.message.contains("NUL") && bad[2].error.message.contains("UTF-8")
                && bad[3].error.message.contains("has 2 fields"))
        #expect(throws: DataFileError.self) { try LoggedInteractions.read(csv: path) }
        FileManager.default.createFile(atPath: path, contents: Data("user,item,event\nu1,i1,click\n".utf8))
        #expect(throws: DataFileError.self) { try LoggedInteractions.read(csv: path, skippingBadRows: true) }
    }

    /// Resuming at a line's start reads the header and then only the rows from there, numbered
    /// as in the whole file (a restart's replay of what its logs gained since a snapshot).
    @Test func resumingReadsTheRowsAfterAPosition() throws {
        let path = Self.file("")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rows = ["user,item,timestamp,event,age\n", "u1,i1,5,click,1\n", "u2,i2,6,click,2\n", "u3,i3,7,click\n", "u4,i4,8,purchase,4\n"]
        FileManager.default.createFile(atPath: path, contents: Data(rows.joined().utf8))
        let start = LinePosition(byte: rows[0..<2].joined().utf8.count, line: 2)
        let (tail, bad, end) = try LoggedInteractions.read(csv: path, skippingBadRows: true, resuming: start)
        #expect(tail.userIds == ["u2", "u4"] && tail.contextColumns == ["age"] && tail.context == [2, 4])
        #expect(bad.map(\.line) == [4] && end == LinePosition(byte: rows.joined().utf8.count, line: 5))
        let atTheEnd = try LoggedInteractions.read(csv: path, skippingBadRows: true, resuming: end)
        #expect(atTheEnd.log.count == 0 && atTheEnd.end == end)
    }

    /// Every id the writer takes reads back as written, line breaks included: a quoted field may
    /// hold "\n", "\r" and "\r\n" (RFC 4180), and the record goes on over them. Random ids of
    /// quotes, commas, line breaks, spaces, letters, multi-byte characters and combining marks, in
    /// every text column (user, item, and the served list's impression, version and arm).
    @Test func everyValueTheWriterTakesReadsBack() throws {
        let pieces = ["\"", ",", "\n", "\r", "\r\n", " ", "a", "Z", "é", "\u{301}", "日", "\"\"", "\n\n", "x"]
        var rng = SystemRandomNumberGenerator()
        func id() -> String { (0..<Int.random(in: 1...6, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() }
        for _ in 0..<20 {
            var log = LoggedInteractions(contextColumns: ["hour"])
            var written: [(user: String, item: String, served: LoggedInteractions.Served?)] = []
            for k in 0..<50 {
                let served = k % 3 == 0 ? nil : LoggedInteractions.Served(impression: id(), position: 1 + k % 4, version: id(), arm: id())
                written.append((id(), id(), served))
                log.append(user: written[k].user, item: written[k].item, timestamp: Int64(k), event: .click, context: [Float(k % 24)],
                           served: served)
            }
            let path = Self.file(log.csv())
            defer { try? FileManager.default.removeItem(atPath: path) }
            let read = try LoggedInteractions.read(csv: path)
            #expect(read.count == written.count)
            for k in 0..<min(read.count, written.count) {
                #expect(read.userIds[Int(read.users[k])] == written[k].user && read.itemIds[Int(read.items[k])] == written[k].item,
                        "row \(k): \(written[k])")
                #expect(read.served(k) == written[k].served && read.timestamps[k] == Int64(k))
            }
            #expect(read.csv() == log.csv())
        }
    }

    /// Lines are numbered as in the file around a record that spans lines; a quote left open
    /// (a damaged line) is refused at its line, and with bad rows skipped it costs one refused
    /// record of at most `maximumCSVRecordBytes`, kept whole, and the rows after it are read.
    @Test func recordsOverLineBreaksKeepTheFilesLineNumbers() throws {
        let path = Self.file("user,item,timestamp,event\nu1,\"two\nlines\",5,click\nu2,i2,later,click\nu3,i3,7,click\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, bad, end) = try LoggedInteractions.read(csv: path, skippingBadRows: true)
        #expect(log.itemIds == ["two\nlines", "i3"] && bad.map(\.line) == [4] && end.line == 5)

        let filler = (0..<60_000).map { "u\($0),i\($0),\($0),click\n" }.joined()
        #expect(filler.utf8.count > maximumCSVRecordBytes)
        let open = Self.file("user,item,timestamp,event\nu0,i0,1,click\nu1,\"open,2,click\n" + filler)
        defer { try? FileManager.default.removeItem(atPath: open) }
        #expect { try LoggedInteractions.read(csv: open) } throws: { error in
            let error = error as! DataFileError
            return error.line == 3 && error.message.contains("never closes")
        }
        let skipped = try LoggedInteractions.read(csv: open, skippingBadRows: true)
        #expect(skipped.badRows.count == 1 && skipped.badRows[0].line == 3 && skipped.badRows[0].bytes.count >= maximumCSVRecordBytes)
        let kept = skipped.log.count, swallowed = skipped.badRows[0].bytes.filter { $0 == 10 }.count
        #expect(kept > 1_000 && kept + swallowed == 60_000 + 2, "kept \(kept), swallowed \(swallowed) lines")
        #expect(skipped.log.userIds.last == "u59999")
    }

    /// A field whose quote is followed by a combining mark (one Character with it, as "\r\n" is)
    /// is written with that quote doubled, so the row reads back as written.
    @Test func quotesBeforeCombiningMarksRoundTrip() throws {
        let ids = ["a\"\u{0596}b", "\"\u{301}", "x,\"\u{308}\"", "\"\u{20DD}\"\""]
        var log = LoggedInteractions()
        for (k, id) in ids.enumerated() { log.append(user: id, item: "i\(k)", timestamp: Int64(k), event: .click) }
        let path = Self.file(log.csv())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let read = try LoggedInteractions.read(csv: path)
        #expect(read.userIds == ids)
        for id in ids { #expect(try LoggedInteractions.fields(of: LoggedInteractions.csvField(id) + ",z") == [id, "z"]) }
    }

    /// CSV fields as a plain state machine over characters would split them (quotes open a field
    /// only at its start, "" inside quotes is one quote, nothing may follow a closing quote but a
    /// comma): the byte-wise reader agrees on every line of up to six commas, quotes, spaces,
    /// letters and multi-byte characters, on the fields or on the error.
    @Test func fieldsAgreeWithACharacterStateMachine() {
        /// The fields, or the error's message.
        enum Outcome: Equatable { case fields([String]), error(String) }
        func reference(_ line: String) -> Outcome {
            var fields: [String] = [], current = "", state = 0  // 0 unquoted, 1 in quotes, 2 after a closing quote
            var characters = Array(line.unicodeScalars)[...]
            while let c = characters.popFirst() {
                switch state {
                case 1:
                    if c == "\"" {
                        if characters.first == "\"" { current.unicodeScalars.append(c); characters.removeFirst() } else { state = 2 }
                    } else {
                        current.unicodeScalars.append(c)
                    }
                default:
                    if c == "," { fields.append(current); (current, state) = ("", 0) }
                    else if state == 2 { return .error("text after a closing quote in field \(fields.count + 1)") }
                    else if c == "\"" && current.isEmpty { state = 1 }
                    else { current.unicodeScalars.append(c) }
                }
            }
            if state == 1 { return .error("field \(fields.count + 1) opens a quote that the line never closes") }
            return .fields(fields + [current])
        }
        let alphabet = ["a", ",", "\"", " ", "中"]
        var lines = [""], checked = 0
        for _ in 1...6 {
            lines = lines.flatMap { line in alphabet.map { line + $0 } }
            for line in lines {
                let ours: Outcome
                do throws(LoggedInteractions.CSVLineError) { ours = .fields(try LoggedInteractions.fields(of: line)) } catch { ours = .error(error.message) }
                #expect(ours == reference(line), "\(line)")
                checked += 1
            }
        }
        #expect(checked == 19_530)
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: DataFileError.self) { try LoggedInteractions.read(csv: "/nonexistent/drlrec.csv") }
    }
}

@Suite struct SHA256Tests {
    /// The test vectors of FIPS 180-4's examples (one block, two blocks), an empty message and a
    /// message of many blocks.
    @Test func matchesTheStandardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// A stream hashed in pieces of any sizes (across block boundaries, empty pieces included)
    /// has the digest of its bytes in one piece; so has a file read a megabyte at a time.
    @Test func streamedPiecesGiveTheDigestOfTheWhole() throws {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for sizes in [[1], [63, 1, 0, 65], [64], [1000, 7], [299_999]] {
            var hasher = SHA256.Hasher(), start = 0, k = 0
            while start < bytes.count {
                let end = min(start + sizes[k % sizes.count], bytes.count)
                bytes[start..<end].withUnsafeBytes { hasher.update($0) }
                (start, k) = (end, k + 1)
            }
            #expect(hasher.finalize() == SHA256.hex(bytes), "pieces of \(sizes)")
        }
        let path = Scratch.path("bytes")
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes + bytes + bytes + bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try SHA256.hex(ofFile: path)
        #expect(file.digest == SHA256.hex(bytes + bytes + bytes + bytes) && file.bytes == 1_200_000)
    }
}
