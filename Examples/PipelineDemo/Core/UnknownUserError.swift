/// The user directory does not know the event's user.
public struct UnknownUserError: Error, Equatable, CustomStringConvertible {
    /// The user id the directory does not know.
    public var user: String
    /// The 1-based input line of the event.
    public var line: Int

    /// "line N: unknown user …".
    public var description: String { "line \(line): unknown user \"\(user)\"" }
}
