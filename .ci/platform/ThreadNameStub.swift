// Stands in for Sources/AsyncWorker/Platform/ThreadName.swift in the musl type-check: that file uses
// Foundation, which cannot be loaded against musl's headers here (it was built against glibc's).
enum ThreadName {
    static func setCurrent(_ name: String) {}
    static func osName(for name: String, maxBytes: Int = OSThread.maximumNameBytes) -> String { name }
}
