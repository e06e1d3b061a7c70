#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

/// A per-thread slot holding one object, released when its thread exits (a pthread key).
///
/// The key's destructor takes an optional pointer on Linux and a non-optional one on Darwin; the closure
/// is written against the optional type and the argument cast to it, which reads both.
final class ThreadLocal<Value: AnyObject>: @unchecked Sendable {
    // @unchecked: the key is written once, in init; pthread keys are thread-safe.
    private var key = pthread_key_t()

    init() {
        let status = pthread_key_create(&key) { pointer in
            let pointer = pointer as UnsafeMutableRawPointer?
            if let pointer { Unmanaged<AnyObject>.fromOpaque(pointer).release() }
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
    }

    /// The calling thread's value; setting it retains the new one (an old one is released).
    var currentValue: Value? {
        get {
            guard let pointer = pthread_getspecific(key) else { return nil }
            return Unmanaged<Value>.fromOpaque(pointer).takeUnretainedValue()
        }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<AnyObject>.fromOpaque(old).release() }
            let pointer = newValue.map { Unmanaged.passRetained($0 as AnyObject).toOpaque() }
            pthread_setspecific(key, pointer)
        }
    }
}
