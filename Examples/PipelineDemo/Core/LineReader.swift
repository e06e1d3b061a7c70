import Foundation

#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

// `FILE` is an opaque struct on musl, so its streams are `OpaquePointer`s there.
#if canImport(Musl)
private typealias CFile = OpaquePointer
#else
private typealias CFile = UnsafeMutablePointer<FILE>
#endif

/// The lines of a file or of standard input, read lazily one at a time (`getline`), so an input of any
/// size is processed in constant memory. Invalid UTF-8 is replaced, not fatal: such a line simply fails
/// to parse. A trailing `\r` (Windows line ends) is dropped.
public final class LineReader: Sequence {
    private let file: CFile
    private let ownsFile: Bool

    /// Opens the file at `path`, or standard input for `"-"`.
    /// - Throws: ``LineReader/OpenError`` if the file cannot be opened.
    public init(path: String) throws {
        if path == "-" {
            // A stream of our own on descriptor 0 (the C global `stdin` is not concurrency-safe to name);
            // never closed, so standard input stays open.
            guard let input = fdopen(STDIN_FILENO, "r") else { throw OpenError(path: path, code: errno) }
            file = input
            ownsFile = false
        } else {
            guard let opened = fopen(path, "r") else { throw OpenError(path: path, code: errno) }
            file = opened
            ownsFile = true
        }
    }

    /// A file that could not be opened, with the system's reason.
    public struct OpenError: Error, CustomStringConvertible {
        /// The path that could not be opened.
        public var path: String
        /// The `errno` value.
        public var code: Int32

        /// "cannot open PATH: reason".
        public var description: String { "cannot open \(path): \(String(cString: strerror(code)))" }
    }

    deinit {
        if ownsFile { fclose(file) }
    }

    /// Reads on from where the last iteration stopped: a reader is consumed once.
    public func makeIterator() -> Iterator { Iterator(reader: self) }

    /// Reads the next line; one line buffer is reused for the whole file.
    public struct Iterator: IteratorProtocol {
        let reader: LineReader

        /// The next line, or `nil` at the end of the input.
        public mutating func next() -> String? { reader.readLine() }
    }

    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    private func readLine() -> String? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else {
            free(self.buffer)
            self.buffer = nil
            capacity = 0
            return nil
        }
        var bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        if bytes.last == UInt8(ascii: "\n") { bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
        if bytes.last == UInt8(ascii: "\r") { bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
