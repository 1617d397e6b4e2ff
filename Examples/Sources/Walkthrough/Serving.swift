import DRLData
import DRLRanking
import DRLServing

/// A next-item model fitted on a small synthetic log, registered, promoted and served in process,
/// as `drlrec fit --registry` and `drlrec serve` do: a new user "u7" is recommended five items,
/// clicks the first, and is recommended five again from the history the service now keeps. Returns both lists and the version that served them.
public func serveANextItemModel(in directory: String) async throws -> (before: [String], after: [String], version: String?) {
    // 1. Fit: any logged-interactions file would do (`LoggedInteractions.read(csv:)`).
    let log = SyntheticLog.generate(users: 200, items: 40, eventsPerUser: 20, seed: 0)
    var configuration = NextItemModel.Configuration()
    (configuration.historyLength, configuration.dimension, configuration.epochs) = (10, 16, 2)
    let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 0)
    try model.train(on: LeaveOneOutSplit(log), seed: 0)
    let checkpoint = directory + "/next-item.safetensors"
    try model.save(to: checkpoint)

    // 2. Register and promote: the registry keeps each version's checkpoint, lineage and an audit trail.
    let registry = try ModelRegistry(directory: directory + "/registry")
    let version = try registry.register(checkpoint: checkpoint, scenario: "synthetic", dataHash: "")
    try registry.promote(version.id, note: "the first model")

    // 3. Serve: the production version answers, users' histories grow with their feedback, and
    //    the feedback log is durable (a restart replays it).
    let service = try RecommendationService(registry: registry, feedbackPath: directory + "/feedback.csv")
    defer { service.feedbackLog.shutDown() }
    // A user the service has not seen sends their history (here none); after feedback, the
    // service keeps it.
    var request = RecommendRequest(user: "u7", k: 5)
    request.history = []
    let first = try await service.recommend(request)
    // Feedback as a client sends it (`POST /v1/feedback`): the service completes the context.
    try await service.feedback(FeedbackRequest(user: "u7", item: first.items[0].id, event: .click, timestamp: 1))
    let second = try await service.recommend(RecommendRequest(user: "u7", k: 5))
    return (first.items.map(\.id), second.items.map(\.id), second.version)
}
