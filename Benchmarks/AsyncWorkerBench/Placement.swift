// Thread placement and per-thread accounting: which CPUs the threads may run on, which CPU a thread runs
// on, and how much CPU time and how many context switches a thread or the process has used.
//
// Glibc's Swift module leaves out the GNU extensions (`gettid`, `sched_getcpu`, `sched_setaffinity`),
// so they are looked up once by name.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

private typealias GetTid = @convention(c) () -> Int32
private typealias GetCPU = @convention(c) () -> Int32
private typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
private typealias GetAffinity = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32

private func lookUp<T>(_ name: String, as type: T.Type) -> T {
    guard let symbol = dlsym(nil, name) else { fatalError("async-worker-bench: \(name) not found") }
    return unsafeBitCast(symbol, to: type)
}

private let gettidFunction = lookUp("gettid", as: GetTid.self)
private let sched_getcpuFunction = lookUp("sched_getcpu", as: GetCPU.self)
private let sched_setaffinityFunction = lookUp("sched_setaffinity", as: SetAffinity.self)
private let sched_getaffinityFunction = lookUp("sched_getaffinity", as: GetAffinity.self)

/// The kernel's id of the calling thread.
func currentThreadID() -> Int32 { gettidFunction() }

/// The CPU the calling thread runs on right now.
func currentCPU() -> Int32 { sched_getcpuFunction() }

/// A set of CPUs as the kernel's bit mask (1024 CPUs, as glibc's `cpu_set_t`).
struct CPUSet: Equatable, CustomStringConvertible {
    private var words = [UInt64](repeating: 0, count: 16)

    init(_ cpus: [Int] = []) {
        for cpu in cpus { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
    }

    var cpus: [Int] { (0..<1024).filter { words[$0 / 64] & (1 << UInt64($0 % 64)) != 0 } }

    var description: String { cpus.map(String.init).joined(separator: ",") }

    /// The CPUs thread `tid` may run on (0: the calling thread).
    static func affinity(of tid: Int32 = 0) -> CPUSet {
        var set = CPUSet()
        let status = set.words.withUnsafeMutableBytes { sched_getaffinityFunction(tid, $0.count, $0.baseAddress!) }
        return status == 0 ? set : CPUSet()
    }

    /// Confines thread `tid` (0: the calling thread) to these CPUs. Returns whether the kernel agreed
    /// (a thread that exited meanwhile is not an error worth stopping for).
    @discardableResult
    func apply(to tid: Int32 = 0) -> Bool {
        words.withUnsafeBytes { sched_setaffinityFunction(tid, $0.count, $0.baseAddress!) } == 0
    }
}

/// The kernel ids of the process's threads (from /proc/self/task).
func processThreadIDs() -> [Int32] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int32($0) }
}

/// CPU time the process has used (user + system, every thread), in nanoseconds.
func processCPUNanoseconds() -> UInt64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func nanoseconds(_ time: timeval) -> UInt64 { UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000 }
    return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
}

/// CPU time thread `tid` has used, in nanoseconds (the scheduler's own count, first field of
/// /proc/self/task/TID/schedstat: nanosecond resolution, unlike the tick-based `stat`).
func threadCPUNanoseconds(_ tid: Int32) -> UInt64 {
    guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/schedstat", encoding: .utf8) else {
        return 0
    }
    return UInt64(text.split(separator: " ").first ?? "0") ?? 0
}

/// Voluntary (the thread slept) and involuntary (it was preempted, or yielded to another thread)
/// context switches of thread `tid` so far.
func threadContextSwitches(_ tid: Int32) -> (voluntary: Int, involuntary: Int) {
    guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8) else {
        return (0, 0)
    }
    var voluntary = 0
    var involuntary = 0
    for line in text.split(separator: "\n") {
        if line.hasPrefix("voluntary_ctxt_switches:") {
            voluntary = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
        } else if line.hasPrefix("nonvoluntary_ctxt_switches:") {
            involuntary = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
        }
    }
    return (voluntary, involuntary)
}

/// Where the benchmark's threads may run.
enum Placement: String, CaseIterable {
    /// Wherever the scheduler puts them.
    case free
    /// The whole process on one CPU, as in a 1-CPU container: the benchmark re-runs itself in a child
    /// process whose affinity is set before it starts any thread, so every thread (the cooperative
    /// pool's, the worker's, libdispatch's) inherits it.
    case oneCPU = "one-cpu"
    /// The caller on one CPU, every other thread (the worker, the cooperative pool) on another.
    case split

    var title: String {
        switch self {
        case .free: return "free placement"
        case .oneCPU: return "whole process on one CPU"
        case .split: return "caller and worker on different CPUs"
        }
    }

    /// The CPUs this process may use when it started (a child for `oneCPU` sees one).
    static let startCPUs = CPUSet.affinity()

    /// Whether the placement can be set up on this machine.
    var isAvailable: Bool {
        switch self {
        case .free, .oneCPU: return true
        case .split: return Placement.startCPUs.cpus.count >= 2
        }
    }

    /// Places the threads before a measurement: the calling thread is the caller. Call it before each
    /// contender, as new threads (a pool thread started meanwhile) need placing too. In `split`, threads
    /// created later by the caller land on the caller's CPU (they are callers: fire-and-forget threads),
    /// those created by any other thread on the other CPU.
    func arrange() {
        let cpus = Placement.startCPUs.cpus
        switch self {
        case .free, .oneCPU:
            let all = CPUSet(cpus)
            for tid in processThreadIDs() { all.apply(to: tid) }
        case .split:
            let me = currentThreadID()
            let callerSet = CPUSet([cpus[0]])
            let othersSet = CPUSet([cpus[1]])
            callerSet.apply()
            for tid in processThreadIDs() where tid != me { othersSet.apply(to: tid) }
        }
    }
}
