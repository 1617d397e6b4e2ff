// A persistent worker pool for DRLTensor's parallel kernels. Unlike a dispatch queue it allocates
// nothing per call (DispatchQueue.concurrentPerform makes ~5 allocations per call), so a training
// step can run on two cores without touching the heap.
//
// A job is `chunks` calls fn(context, i). The caller publishes the job by storing a word that
// packs (generation << 32 | next chunk index); the caller and the workers claim chunk indices by
// compare-and-swap on that word, so a claim can only succeed for the generation it was read for.
// Job descriptors alternate between two slots: the slot of generation g is rewritten only for
// generation g + 2, by which time every claim against generation g fails.
// Idle workers spin briefly (kernels tend to come in bursts), then yield the core for a while
// (so that other threads, such as a BLAS library's, can run), then sleep on a condition variable.

#include "drl_kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define DRL_MAX_WORKERS 63
#define DRL_SPIN_ROUNDS 256    // pause instructions: a few microseconds
#define DRL_YIELD_ROUNDS 64    // sched_yield calls before sleeping

typedef struct {
    _Atomic(drl_task_fn) fn;
    _Atomic(void *) context;
    _Atomic long chunks;
} drl_job_slot;

static drl_job_slot slots[2];
static _Atomic uint64_t job_word;      // generation << 32 | next chunk index
static _Atomic long remaining;         // chunks of the current job not yet finished
static _Atomic int sleepers;
static _Atomic int busy;               // a caller is running a job (nested/concurrent callers run inline)
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static int workers;                    // threads started (guarded by spawn_lock)

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static inline uint32_t generation_of(uint64_t word) { return (uint32_t)(word >> 32); }

// Claims and runs chunks of generation `gen` until none is left.
static void run_chunks(uint32_t gen) {
    drl_job_slot *slot = &slots[gen & 1];
    drl_task_fn fn = atomic_load_explicit(&slot->fn, memory_order_relaxed);
    void *context = atomic_load_explicit(&slot->context, memory_order_relaxed);
    long chunks = atomic_load_explicit(&slot->chunks, memory_order_relaxed);
    uint64_t word = atomic_load_explicit(&job_word, memory_order_acquire);
    while (generation_of(word) == gen && (long)(uint32_t)word < chunks) {
        if (atomic_compare_exchange_weak_explicit(&job_word, &word, word + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            fn(context, (long)(uint32_t)word);
            atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
            word = atomic_load_explicit(&job_word, memory_order_acquire);
        }
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    uint32_t seen = generation_of(atomic_load(&job_word));
    for (;;) {
        uint32_t gen = seen;
        for (int spin = 0; spin < DRL_SPIN_ROUNDS + DRL_YIELD_ROUNDS && gen == seen; spin++) {
            if (spin < DRL_SPIN_ROUNDS) cpu_relax(); else sched_yield();
            gen = generation_of(atomic_load_explicit(&job_word, memory_order_acquire));
        }
        if (gen == seen) {
            pthread_mutex_lock(&wake_lock);
            atomic_fetch_add(&sleepers, 1);
            while ((gen = generation_of(atomic_load(&job_word))) == seen) pthread_cond_wait(&wake, &wake_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&wake_lock);
        }
        seen = gen;
        run_chunks(gen);
    }
    return NULL;
}

// Starts workers until `wanted` exist. Returns the number running.
static int ensure_workers(int wanted) {
    if (wanted > DRL_MAX_WORKERS) wanted = DRL_MAX_WORKERS;
    pthread_mutex_lock(&spawn_lock);
    while (workers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attr, worker_main, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        workers++;
    }
    int running = workers;
    pthread_mutex_unlock(&spawn_lock);
    return running;
}

void drl_parallel_run(long chunks, int threads, drl_task_fn fn, void *context) {
    if (chunks <= 0) return;
    int expected = 0;
    if (threads <= 1 || chunks == 1 ||
        !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        // Single-threaded, or called from inside a job or concurrently with one: run inline.
        for (long i = 0; i < chunks; i++) fn(context, i);
        return;
    }
    if (ensure_workers(threads - 1) == 0) {
        atomic_store(&busy, 0);
        for (long i = 0; i < chunks; i++) fn(context, i);
        return;
    }
    uint32_t gen = generation_of(atomic_load_explicit(&job_word, memory_order_relaxed)) + 1;
    drl_job_slot *slot = &slots[gen & 1];
    atomic_store_explicit(&slot->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&slot->context, context, memory_order_relaxed);
    atomic_store_explicit(&slot->chunks, chunks, memory_order_relaxed);
    atomic_store_explicit(&remaining, chunks, memory_order_relaxed);
    atomic_store(&job_word, (uint64_t)gen << 32);  // publishes the job (sequentially consistent)
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&wake_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&wake_lock);
    }
    run_chunks(gen);
    while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) cpu_relax();
    atomic_store_explicit(&busy, 0, memory_order_release);
}
