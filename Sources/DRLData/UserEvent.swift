/// One interaction in a user's history: the item (as its index in the catalogue the reader
/// knows), what the user did, the value of the feedback kind (the fraction watched for `.view`, the
/// stars of a `.rating`, the 1-based position in the list for an `.impression`; 1 otherwise) and
/// when, in seconds since the epoch (or a simulator's step). What the served models read, what the
/// service keeps per user, and what the simulators emit for their platforms' view of a user.
public struct UserEvent: Sendable, Equatable {
    public var item: Int32
    public var event: FeedbackKind
    public var value: Float
    public var timestamp: Int64

    public init(item: Int32, event: FeedbackKind, value: Float = 1, timestamp: Int64) {
        (self.item, self.event, self.value, self.timestamp) = (item, event, value, timestamp)
    }
}
