#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The processes `mpirun` started (Open MPI), as a `ProcessGroup` over MPI_COMM_WORLD.
///
/// Open MPI is loaded when the group is created (`dlopen`), not linked: DRLRec builds and runs
/// without it, and only a process that `mpirun` started needs the library. Open MPI's handles
/// (the communicator, the datatypes, the operations) are the addresses of its exported objects
/// (`ompi_mpi_comm_world`, …), which is how its own mpi.h defines them. Errors are returned, not
/// fatal (MPI_ERRORS_RETURN), and thrown with Open MPI's message.
public final class OpenMPIGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    private let api: API

    /// The environment variable `mpirun` sets in each process it starts: the number of processes.
    public static let worldSizeVariable = "OMPI_COMM_WORLD_SIZE"
    /// Names another Open MPI library to load (a path), instead of libmpi.so.40 or libmpi.so.
    public static let libraryVariable = "DRLREC_MPI_LIBRARY"

    /// The number of processes when this one was started by Open MPI's `mpirun`; nil otherwise.
    public static var launchedSize: Int? {
        guard let text = getenv(worldSizeVariable) else { return nil }
        return Int(String(cString: text))
    }

    /// Joins the group `mpirun` started (MPI_Init_thread with serialized calls, unless MPI is
    /// already initialised).
    public init() throws(ProcessGroupError) {
        api = try API.load()
        var initialized: Int32 = 0
        try api.check(api.initialized(&initialized), "MPI_Initialized")
        if initialized == 0 {
            var provided: Int32 = 0
            let code = api.initThread(nil, nil, API.threadSerialized, &provided)
            guard code == 0 else { throw ProcessGroupError("MPI_Init_thread failed with error \(code)") }
        }
        try api.check(api.setErrorHandler(api.world, api.errorsReturn), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try api.check(api.commRank(api.world, &rank), "MPI_Comm_rank")
        try api.check(api.commSize(api.world, &size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError) {
        try allReduce(UnsafeMutableRawPointer(values.baseAddress), count: values.count, elementSize: 4, type: api.float, op: api.sum)
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError) {
        try allReduce(UnsafeMutableRawPointer(values.baseAddress), count: values.count, elementSize: 8, type: api.double, op: api.sum)
    }

    public func allReduceRange(_ value: UInt64) throws(ProcessGroupError) -> ClosedRange<UInt64> {
        var low = value, high = value
        try allReduce(&low, count: 1, elementSize: 8, type: api.uint64, op: api.min)
        try allReduce(&high, count: 1, elementSize: 8, type: api.uint64, op: api.max)
        return low...high
    }

    /// Ends the group (MPI_Finalize): every rank calls it once, after its last collective.
    public func finalize() throws(ProcessGroupError) {
        try api.check(api.finalize(), "MPI_Finalize")
    }

    /// Stops every process of the group with `code` (MPI_Abort): what a rank does when it fails
    /// alone, so that the others do not wait for it in a collective for ever.
    public func abort(code: Int32) -> Never {
        _ = api.abort(api.world, code)
        exit(code)
    }

    /// In place, in pieces of at most 2³⁰ elements (MPI counts are 32-bit).
    private func allReduce(_ base: UnsafeMutableRawPointer?, count: Int, elementSize: Int, type: UnsafeMutableRawPointer,
                           op: UnsafeMutableRawPointer) throws(ProcessGroupError) {
        guard let base, count > 0 else { return }
        let piece = 1 << 30
        for start in stride(from: 0, to: count, by: piece) {
            let n = min(piece, count - start)
            try api.check(api.allreduce(API.inPlace, base + start * elementSize, Int32(n), type, op, api.world), "MPI_Allreduce")
        }
    }

    /// The entry points and handles of the loaded library.
    private struct API {
        typealias Initialized = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
        typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
                                               Int32, UnsafeMutablePointer<Int32>) -> Int32
        typealias SetErrorHandler = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
        typealias CommQuery = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
        typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer,
                                              UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
        typealias Finalize = @convention(c) () -> Int32
        typealias Abort = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
        typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

        static let threadSerialized: Int32 = 2
        /// MPI_IN_PLACE in Open MPI's mpi.h.
        static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }

        let initialized: Initialized, initThread: InitThread, setErrorHandler: SetErrorHandler
        let commRank: CommQuery, commSize: CommQuery, allreduce: Allreduce, finalize: Finalize, abort: Abort, errorString: ErrorString
        let world: UnsafeMutableRawPointer, errorsReturn: UnsafeMutableRawPointer
        let float: UnsafeMutableRawPointer, double: UnsafeMutableRawPointer, uint64: UnsafeMutableRawPointer
        let sum: UnsafeMutableRawPointer, min: UnsafeMutableRawPointer, max: UnsafeMutableRawPointer

        /// Opens Open MPI (RTLD_GLOBAL: its plug-ins resolve their symbols in it).
        static func load() throws(ProcessGroupError) -> API {
            let names = getenv(OpenMPIGroup.libraryVariable).map { [String(cString: $0)] } ?? ["libmpi.so.40", "libmpi.so"]
            var handle: UnsafeMutableRawPointer?
            var problems: [String] = []
            for name in names {
                handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
                if handle != nil { break }
                problems.append(dlerror().map { String(cString: $0) } ?? name)
            }
            guard let handle else {
                throw ProcessGroupError("Open MPI's library could not be loaded (\(problems.joined(separator: "; "))): install it "
                                        + "(Debian: apt-get install openmpi-bin) or name it with \(OpenMPIGroup.libraryVariable)")
            }
            func symbol(_ name: String) throws(ProcessGroupError) -> UnsafeMutableRawPointer {
                guard let address = dlsym(handle, name) else {
                    throw ProcessGroupError("the MPI library has no '\(name)': DRLRec's MPI training runs on Open MPI")
                }
                return address
            }
            func function<F>(_ name: String, _ type: F.Type) throws(ProcessGroupError) -> F { unsafeBitCast(try symbol(name), to: type) }
            return API(initialized: try function("MPI_Initialized", Initialized.self), initThread: try function("MPI_Init_thread", InitThread.self),
                       setErrorHandler: try function("MPI_Comm_set_errhandler", SetErrorHandler.self),
                       commRank: try function("MPI_Comm_rank", CommQuery.self), commSize: try function("MPI_Comm_size", CommQuery.self),
                       allreduce: try function("MPI_Allreduce", Allreduce.self), finalize: try function("MPI_Finalize", Finalize.self),
                       abort: try function("MPI_Abort", Abort.self), errorString: try function("MPI_Error_string", ErrorString.self),
                       world: try symbol("ompi_mpi_comm_world"), errorsReturn: try symbol("ompi_mpi_errors_return"),
                       float: try symbol("ompi_mpi_float"), double: try symbol("ompi_mpi_double"), uint64: try symbol("ompi_mpi_uint64_t"),
                       sum: try symbol("ompi_mpi_op_sum"), min: try symbol("ompi_mpi_op_min"), max: try symbol("ompi_mpi_op_max"))
        }

        /// Throws Open MPI's message for a non-zero return code.
        func check(_ code: Int32, _ call: String) throws(ProcessGroupError) {
            guard code != 0 else { return }
            var text = [CChar](repeating: 0, count: 257), length: Int32 = 0
            let message = errorString(code, &text, &length) == 0 ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "error \(code)"
            throw ProcessGroupError("\(call) failed: \(message)")
        }
    }
}
