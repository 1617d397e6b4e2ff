import DRLSimulation
import ArgumentParser
import Foundation

/// Reads a simulator configuration file: a JSON object whose keys are the configuration's file
/// keys (snake_case, see `FileConfigurable`) with numbers as values. Unknown keys, values of the
/// wrong type or out of range, and settings that contradict each other are refused with the file
/// and the key named.
enum ConfigurationFile {
    static func load<Configuration: FileConfigurable>(_ path: String, into configuration: inout Configuration) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("--config \(path): cannot read the file (\(error.localizedDescription))")
        }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw ValidationError("--config \(path): not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error))")
        }
        guard let object = parsed as? [String: Any] else { throw ValidationError("--config \(path): the file must hold one JSON object of settings") }
        let keys = Configuration.fileKeys
        for name in object.keys.sorted() {
            guard let key = keys[name] else {
                throw ValidationError("--config \(path): unknown key '\(name)'; the keys are \(keys.keys.sorted().joined(separator: ", "))")
            }
            // JSON booleans are NSNumbers too; their Objective-C type is "c" (char).
            guard let number = object[name] as? NSNumber, String(cString: number.objCType) != "c" else {
                let found = (object[name] as? NSNumber).map { _ in "a boolean" } ?? String(describing: object[name]!)
                throw ValidationError("--config \(path): key '\(name)' must be a number, got \(found)")
            }
            if let problem = key.apply(number.doubleValue, to: &configuration) {
                throw ValidationError("--config \(path): key '\(name)' \(problem)")
            }
        }
    }

    /// Settings that the keys' ranges accept one by one but not together.
    static func checkCatalogue(items: Int, categories: Int, slateSize: Int, path: String) throws {
        guard categories <= items else { throw ValidationError("--config \(path): 'categories' (\(categories)) must not exceed 'items' (\(items))") }
        guard slateSize <= items else { throw ValidationError("--config \(path): 'slate_size' (\(slateSize)) must not exceed 'items' (\(items))") }
    }
}
