#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the text file at `path` line by line: `body` gets each line's 1-based number and its
/// text without the line end (\n or \r\n); empty lines are skipped. Returns the number of lines read. A file
/// that cannot be opened is an error at line 0, with `hint` appended (say, how to get the file); a
/// line holding a NUL byte or bytes that are not UTF-8 is an error at that line, or, when
/// `unreadable` is given, is passed to it with its bytes (line end included) and the reading goes on.
@discardableResult
public func forEachLine(of path: String, hint: String = "", unreadable: ((Int, [UInt8], DataFileError) throws(DataFileError) -> Void)? = nil,
                        _ body: (Int, String) throws(DataFileError) -> Void) throws(DataFileError) -> Int {
    guard let file = fopen(path, "r") else {
        throw DataFileError(file: path, line: 0, "cannot open the file (\(String(cString: strerror(errno))))" + hint)
    }
    defer { fclose(file) }
    var buffer: UnsafeMutablePointer<CChar>? = nil, capacity = 0
    defer { free(buffer) }
    var lineNumber = 0
    while case let length = getline(&buffer, &capacity, file), length > 0 {
        lineNumber += 1
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        func refuse(_ message: String) throws(DataFileError) {
            let error = DataFileError(file: path, line: lineNumber, message)
            guard let unreadable else { throw error }
            try unreadable(lineNumber, Array(bytes), error)
        }
        // A NUL would end a C string early and silently drop the rest of the line.
        if let nul = bytes.firstIndex(of: 0) {
            try refuse("holds a NUL byte at byte \(nul + 1) of the line; text files in this format have none")
            continue
        }
        // Decoding would replace invalid bytes by U+FFFD: ids would silently change (and a log
        // written back would not read back the same).
        guard var text = String(validating: bytes, as: UTF8.self) else {
            try refuse("is not valid UTF-8 at byte \(firstInvalidUTF8(bytes) + 1) of the line; text files in this format are UTF-8")
            continue
        }
        // By scalars: "\r\n" is one Character, equal to neither "\r" nor "\n".
        while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
        if text.isEmpty { continue }
        try body(lineNumber, text)
    }
    return lineNumber
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
