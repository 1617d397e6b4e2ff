import DRLDistributed
import Foundation

/// The processes a command trains with: those `mpirun` started (Open MPI) when it started this
/// one, this process alone otherwise.
enum LaunchedProcessGroup {
    static func join() throws -> ProcessGroup {
        guard OpenMPIGroup.launchedSize != nil else { return SingleProcess() }
        do { return try OpenMPIGroup() } catch {
            throw CommandFailure("started by mpirun (\(OpenMPIGroup.worldSizeVariable) is set), but \(error)")
        }
    }

    /// Runs `body` on every rank. A rank that fails stops the whole group (MPI_Abort) after saying
    /// why, since the others would wait for it in their next collective for ever; one that
    /// succeeds ends its part of the group (MPI_Finalize).
    static func run(_ group: ProcessGroup, _ body: () throws -> Void) throws {
        guard let mpi = group as? OpenMPIGroup else { return try body() }
        do {
            try body()
        } catch {
            say("Error (rank \(mpi.rank) of \(mpi.size)): \(error)")
            mpi.abort(code: 1)
        }
        try mpi.finalize()
    }
}
