import CDRLKernels

/// A unit of parallel work over the items `0..<count`: `run` is called on disjoint ranges,
/// possibly on several threads at once. Tasks are small structs of pointers and sizes, so handing
/// one to the worker threads is a pointer to the caller's stack: nothing is allocated.
@usableFromInline
protocol ParallelTask {
    func run(_ items: Range<Int>)
}

extension ParallelTask {
    /// Runs the task stored at `task` (type-erased entry point for the worker threads).
    @usableFromInline
    static func run(erased task: UnsafeRawPointer, _ items: Range<Int>) {
        task.assumingMemoryBound(to: Self.self).pointee.run(items)
    }
}

/// Splits work over the engine's threads when it is large enough to repay the hand-off (about a
/// microsecond while the workers are awake); small calls run inline on the calling thread. The
/// workers are DRLRec's own persistent pool (`drl_parallel_run`), which allocates nothing per
/// call, so parallel kernels keep a training step free of heap allocation.
@usableFromInline
enum Parallel {
    /// Below this many units of work (about one element of an exp-class kernel each) a call runs
    /// on the calling thread.
    @usableFromInline static let minimumWork = 1 << 16

    /// Runs `task` over `0..<count` in disjoint chunks; `workPerItem` estimates the cost of one item
    /// in elements; `threaded: false` keeps the call on the calling thread.
    @usableFromInline
    static func run<Task: ParallelTask>(_ task: Task, count: Int, workPerItem: Int, threaded: Bool = true) {
        let threads = Engine.threadCount
        if !threaded || threads <= 1 || count < 2 || count * max(workPerItem, 1) < minimumWork {
            task.run(0..<count)
            return
        }
        var task = task
        let chunks = min(threads, count)
        withUnsafePointer(to: &task) { pointer in
            var job = Job(task: UnsafeRawPointer(pointer), type: Task.self, count: count, chunks: chunks)
            withUnsafeMutablePointer(to: &job) { jobPointer in
                drl_parallel_run(chunks, Int32(threads), Job.entry, jobPointer)
            }
        }
    }

    /// What the worker threads receive: the task, its type, and how it is cut into chunks.
    struct Job {
        let task: UnsafeRawPointer
        let type: any ParallelTask.Type
        let count: Int
        let chunks: Int

        static let entry: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { context, chunk in
            let job = context!.assumingMemoryBound(to: Job.self).pointee
            job.type.run(erased: job.task, job.count * chunk / job.chunks..<job.count * (chunk + 1) / job.chunks)
        }
    }
}
