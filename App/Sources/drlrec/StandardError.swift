import Foundation

/// Progress and warnings go to standard error, so that standard output holds only results.
func say(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
