// A compile-time check, not a test target: `.ci/compile-checks` type-checks this file against the built
// module twice. As it stands it must compile (the control); with `-D MISMATCH` it must fail with the
// diagnostic named below, because a domain that does not consume the previous domain's output cannot be
// chained (API.md, section 6).
//
// expect-with-MISMATCH: requires the types 'String' and 'Int' be equivalent

import AsyncWorker

struct Parse: AsyncDomain {
    func execute(_ line: String) async throws -> Int { line.count }
}

struct Twice: AsyncDomain {
    func execute(_ value: Int) async throws -> Int { value * 2 }
}

struct Shout: AsyncDomain {
    func execute(_ text: String) async throws -> String { text.uppercased() }
}

func build() {
    #if MISMATCH
    _ = Pipeline(Parse()).then(Shout())  // Parse yields Int, Shout takes String
    #else
    _ = Pipeline(Parse()).then(Twice())
    #endif
}
