import DRLReport
import DRLTensor

extension HTMLReport {
    /// A report of the command being run: titled, opening with the command line and DRLRec's
    /// version, so that the page says how to make it again.
    static func ofThisCommand(_ title: String) -> HTMLReport {
        var report = HTMLReport(title: title)
        let command = (["drlrec"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
        report.blocks.append(.code(caption: "Made by DRLRec \(DRLRecVersion.current) with", text: command))
        return report
    }
}

/// `word` as a POSIX shell reads it back: unquoted when it is made of safe characters only.
private func shellQuoted(_ word: String) -> String {
    let safe = word.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./=:,@%+".unicodeScalars.contains($0) }
    return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
