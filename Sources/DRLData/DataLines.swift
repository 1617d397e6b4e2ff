#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A place in a text file between two lines: the byte offset of the next line and the number of
/// lines before it.
public struct LinePosition: Sendable, Equatable {
    public var byte: Int, line: Int
    public init(byte: Int, line: Int) { (self.byte, self.line) = (byte, line) }
}

/// Streams the text file at `path` line by line: `body` gets each line's 1-based number and its
/// text without the line end (\n or \r\n); empty lines are skipped. Returns where the reading
/// ended (the file's size and line count). A file that cannot be opened is an error at line 0,
/// with `hint` appended (say, how to get the file); a line holding a NUL byte or bytes that are
/// not UTF-8 is an error at that line, or, when `unreadable` is given, is passed to it with its
/// bytes (line end included) and the reading goes on. With `resuming`, the first line (a header)
/// is read, and then the lines from that position on, numbered as in the whole file (a server's
/// restart reads only what its logs gained since a snapshot).
///
/// With `csvRecords`, a line break inside a double-quoted field (RFC 4180) does not end the
/// line: the record goes on over the next lines, and `body` gets it whole, inner line breaks
/// kept, under the number of its first line. A record still open after `maximumCSVRecordBytes`
/// (or at the end of the file) is given as it stands, for the reader to refuse.
@discardableResult
public func forEachLine(of path: String, hint: String = "", resuming start: LinePosition? = nil, csvRecords: Bool = false,
                        unreadable: ((Int, [UInt8], DataFileError) throws(DataFileError) -> Void)? = nil,
                        _ body: (Int, String) throws(DataFileError) -> Void) throws(DataFileError) -> LinePosition {
    guard let file = fopen(path, "r") else {
        throw DataFileError(file: path, line: 0, "cannot open the file (\(String(cString: strerror(errno))))" + hint)
    }
    defer { fclose(file) }
    var buffer: UnsafeMutablePointer<CChar>? = nil, capacity = 0
    defer { free(buffer) }
    var lineNumber = 0, resumption = start.flatMap { $0.line >= 1 ? $0 : nil }
    // A CSV record that goes on past its first line: its bytes, first line and quoting state.
    var record: [UInt8] = [], recordLine = 0, quoting = CSVQuoting()
    func give(_ bytes: UnsafeRawBufferPointer, line: Int) throws(DataFileError) {
        func refuse(_ message: String) throws(DataFileError) {
            let error = DataFileError(file: path, line: line, message)
            guard let unreadable else { throw error }
            try unreadable(line, Array(bytes), error)
        }
        // A NUL would end a C string early and silently drop the rest of the line.
        if let nul = bytes.firstIndex(of: 0) {
            try refuse("holds a NUL byte at byte \(nul + 1) of the line; text files in this format have none")
            return
        }
        // Decoding would replace invalid bytes by U+FFFD: ids would silently change (and a log
        // written back would not read back the same).
        guard var text = String(validating: bytes, as: UTF8.self) else {
            try refuse("is not valid UTF-8 at byte \(firstInvalidUTF8(bytes) + 1) of the line; text files in this format are UTF-8")
            return
        }
        // By scalars: "\r\n" is one Character, equal to neither "\r" nor "\n".
        while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
        if text.isEmpty { return }
        try body(line, text)
    }
    func giveRecord() throws(DataFileError) {
        try record.withUnsafeBytes { bytes in Result { () throws(DataFileError) in try give(bytes, line: recordLine) } }.get()
    }
    while true {
        if lineNumber == 1, let position = resumption {
            // After the header, go on at `position` (the caller knows it to be a line's start).
            resumption = nil
            guard fseeko(file, off_t(position.byte), SEEK_SET) == 0 else {
                throw DataFileError(file: path, line: position.line, "cannot go on reading at byte \(position.byte) (\(String(cString: strerror(errno))))")
            }
            lineNumber = position.line
        }
        let length = getline(&buffer, &capacity, file)
        guard length > 0 else { break }
        lineNumber += 1
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        guard csvRecords else {
            try give(bytes, line: lineNumber)
            continue
        }
        quoting.read(bytes)
        if record.isEmpty && !quoting.isInsideQuotes {
            // A record of one line, as nearly all are: given from the line's own buffer.
            try give(bytes, line: lineNumber)
            quoting = CSVQuoting()
            continue
        }
        if record.isEmpty { recordLine = lineNumber }
        record.append(contentsOf: bytes)
        if quoting.isInsideQuotes && record.count < maximumCSVRecordBytes { continue }
        try giveRecord()
        record.removeAll(keepingCapacity: true)
        quoting = CSVQuoting()
    }
    if !record.isEmpty { try giveRecord() }
    return LinePosition(byte: Int(ftello(file)), line: lineNumber)
}

/// The longest CSV record `forEachLine(of:csvRecords:)` joins over line breaks inside quotes:
/// past it, a quote left open (a damaged or hostile line) costs one refused record, not the rest
/// of the file.
public let maximumCSVRecordBytes = 1 << 20

/// Whether the bytes of a CSV record read so far end inside a double-quoted field: a quote opens
/// one only at a field's start, and inside it "" is a quote and a single quote closes it.
struct CSVQuoting {
    private var inside = false, quoteSeen = false, atFieldStart = true

    var isInsideQuotes: Bool { inside && !quoteSeen }

    mutating func read(_ bytes: UnsafeRawBufferPointer) {
        let (quote, comma) = (UInt8(ascii: "\""), UInt8(ascii: ","))
        for byte in bytes {
            if inside {
                if quoteSeen {
                    quoteSeen = false
                    if byte == quote { continue }  // "" inside quotes
                    inside = false  // the quote closed the field: read this byte outside
                } else {
                    if byte == quote { quoteSeen = true }
                    continue
                }
            }
            if byte == quote && atFieldStart {
                inside = true
                atFieldStart = false
            } else {
                atFieldStart = byte == comma
            }
        }
    }
}

/// The offset of the first byte of `bytes` that does not belong to a valid UTF-8 sequence.
private func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int {
    var parser = Unicode.UTF8.ForwardParser(), iterator = bytes.makeIterator(), offset = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let scalar): offset += scalar.count
        case .emptyInput, .error: return offset
        }
    }
}
