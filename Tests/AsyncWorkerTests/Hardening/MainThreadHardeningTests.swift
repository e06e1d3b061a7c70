import Dispatch
import Foundation
import Testing

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
        let process = Process()
        process.executableURL = executable
        process.arguments = [name]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard waitOrFail(exited, "main-thread-checks \(name) to exit") else {
            process.terminate()
            return
        }
        #expect(process.terminationStatus == 0, "main-thread-checks \(name): \(text)")
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
