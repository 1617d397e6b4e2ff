/// Stops the process when `condition` is false, printing `message` in every build configuration.
///
/// Swift's `precondition` keeps its check in optimised builds but drops its message there, printing
/// only "precondition failure"; DRLRec's messages name the shapes, indices and sizes at fault,
/// which is what a user of a release build needs to find the mistake. The message is built only
/// on failure.
@inlinable @inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { requirementFailure(message(), file: file, line: line) }
}

/// Stops the process with `message`, in every build configuration (see `require`).
@inline(never)
public func requirementFailure(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}
