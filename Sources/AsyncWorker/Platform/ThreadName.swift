import Foundation

/// Thread names. Kept apart from `OSThread` because the setter goes through Foundation: neither Swift's
/// Glibc nor its Musl module exports `pthread_setname_np` (it needs `_GNU_SOURCE`), and Foundation's
/// `Thread.current.name` setter calls it for the current thread on every platform.
enum ThreadName {
    /// Names the calling thread; `name` must fit ``OSThread/maximumNameBytes`` (Linux refuses longer
    /// names outright, which would leave the thread unnamed).
    static func setCurrent(_ name: String) {
        Thread.current.name = name
    }

    /// The prefix of `name` the OS keeps: at most `maxBytes` UTF-8 bytes, never splitting a character.
    static func osName(for name: String, maxBytes: Int = OSThread.maximumNameBytes) -> String {
        var result = ""
        var bytes = 0
        for character in name {
            let size = character.utf8.count
            if bytes + size > maxBytes { break }
            result.append(character)
            bytes += size
        }
        return result
    }
}
