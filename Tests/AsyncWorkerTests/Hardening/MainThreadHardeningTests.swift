import Dispatch
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the `main-thread-checks` scenarios, each in a process of its own with a real main thread (the
/// test runner's main thread is Dispatch's, so no test here can wait on it). Each scenario fails on the
/// code before issue 10's fixes: see Tests/MainThreadChecks/main.swift.
@Suite("Hardening on a real main thread")
struct MainThreadHardeningTests {
    @Test(
        "main-thread waits: nested waits, waits inside main-queue blocks, main-actor hops at every wait",
        arguments: [
            "nested-wait",
            "nested-iterator",
            "wait-in-main-block",
            "timeout-in-main-block",
            "room-on-full-worker",
            "pipeline-slots",
            "with-worker-end",
            "shutdown-drain",
        ]
    )
    func scenario(_ name: String) throws {
        let executable = try #require(mainThreadChecksExecutable(), "main-thread-checks was not built")
        // posix_spawn rather than Foundation's Process, whose objects LeakSanitizer reports as leaked
        // (in Foundation itself) under `swift test --sanitize=address`.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "main-thread-checks-\(name)-\(getpid()).log"
        )
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(executable.path), strdup(name), nil]
        defer { for argument in arguments { free(argument) } }
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, arguments, environ)
        #expect(spawned == 0, "posix_spawn failed: \(spawned)")
        guard spawned == 0 else { return }
        // A helper thread waits for the child; a hang becomes a failure (and the child is killed).
        let exited = DispatchSemaphore(value: 0)
        let status = ResultBox<Int32>()
        let child = pid
        Thread {
            var code: Int32 = 0
            _ = waitpid(child, &code, 0)
            status.set(.success(code))
            exited.signal()
        }.start()
        guard waitOrFail(exited, "main-thread-checks \(name) to exit") else {
            kill(pid, SIGKILL)
            return
        }
        let code = (try? status.get()?.get()) ?? -1
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        // Exited normally (low 7 bits zero) with status 0.
        #expect(
            code & 0x7f == 0 && (code >> 8) & 0xff == 0,
            "main-thread-checks \(name) (wait status \(code)): \(text)"
        )
    }
}

/// The `main-thread-checks` executable, built next to the test bundle.
func mainThreadChecksExecutable() -> URL? {
    var directories: [URL] = []
    for argument in CommandLine.arguments {
        directories.append(URL(fileURLWithPath: argument).deletingLastPathComponent())
    }
    directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
    directories.append(Bundle.main.bundleURL)
    for directory in directories {
        let candidate = directory.appendingPathComponent("main-thread-checks")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
}
