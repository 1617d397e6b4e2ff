#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the text file at `path` line by line: `body` gets each line's 1-based number and its
/// text without the line end (\n or \r\n); empty lines are skipped. Returns the number of lines read. A file
/// that cannot be opened is an error at line 0, with `hint` appended (say, how to get the file).
@discardableResult
public func forEachLine(of path: String, hint: String = "", _ body: (Int, String) throws(DataFileError) -> Void) throws(DataFileError) -> Int {
    guard let file = fopen(path, "r") else {
        throw DataFileError(file: path, line: 0, "cannot open the file (\(String(cString: strerror(errno))))" + hint)
    }
    defer { fclose(file) }
    var buffer: UnsafeMutablePointer<CChar>? = nil, capacity = 0
    defer { free(buffer) }
    var lineNumber = 0
    while getline(&buffer, &capacity, file) > 0 {
        lineNumber += 1
        var text = String(cString: buffer!)
        // By scalars: "\r\n" is one Character, equal to neither "\r" nor "\n".
        while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
        if text.isEmpty { continue }
        try body(lineNumber, text)
    }
    return lineNumber
}
