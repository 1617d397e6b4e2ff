import DRLNN
import DRLRanking
import DRLTensor

/// The kinds of model a service can serve, by the kind their checkpoints record: every DRLRec
/// model checkpoint is a safetensors file whose metadata entry `ModelCheckpoint.modelKindKey`
/// names its kind, so a registered version is loaded as the type that claims that kind without
/// the registry having to know about model types.
public struct ServableModelKinds: Sendable {
    /// The kinds DRLRec serves out of the box.
    public static let standard = ServableModelKinds([NextItemModel.self])

    private let types: [String: any ServableModel.Type]

    /// - Parameters:
    ///   - types: the servable types; no two may claim the same checkpoint kind.
    public init(_ types: [any ServableModel.Type]) {
        self.types = Dictionary(types.map { ($0.checkpointKind, $0) }) { first, second in
            requirementFailure("ServableModelKinds: \(first) and \(second) both claim the checkpoint kind '\(first.checkpointKind)'")
        }
    }

    /// The kinds served, sorted.
    public var kinds: [String] { types.keys.sorted() }

    /// The model saved at `path`, as the type its metadata names.
    public func load(checkpoint path: String) throws -> any ServableModel {
        let found = try SafeTensors.describe(path).metadata[ModelCheckpoint.modelKindKey]
        guard let found, let type = types[found] else {
            throw UnservableCheckpoint(path: path, kind: found, served: kinds)
        }
        return try type.load(checkpoint: path)
    }
}

/// A checkpoint whose kind of model the service does not serve (or that names no kind).
public struct UnservableCheckpoint: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    /// The kind its metadata names, if any.
    public let kind: String?
    public let served: [String]

    public var description: String {
        let what = kind.map { "holds a '\($0)' model" } ?? "names no kind of model (metadata '\(ModelCheckpoint.modelKindKey)')"
        return "the checkpoint '\(path)' \(what); the kinds served are \(served.joined(separator: ", "))"
    }
}
