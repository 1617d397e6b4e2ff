import DRLData
import Foundation

/// A logged-interactions CSV file. What the reader accepts, written in the format and read again,
/// must give the same text: the writer quotes what needs quoting and the reader reads back exactly
/// the values written (the property a feedback log needs to survive a restart).
enum InteractionsTarget {
    static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let path = FuzzScratch.file("log.csv", input)
        guard let log = try? LoggedInteractions.read(csv: path) else { return false }
        let text = log.csv()
        let again = FuzzScratch.file("again.csv", Array(text.utf8))
        do {
            let reread = try LoggedInteractions.read(csv: again)
            guard reread.csv() == text, reread.count == log.count else {
                throw FuzzFailure("the log written back does not read back to the same rows")
            }
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("the log written back is refused: \(error)")
        }
        return true
    }
}
