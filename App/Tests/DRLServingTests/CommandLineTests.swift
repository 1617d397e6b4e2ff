import DRLTensor
import Testing

/// What the command-line tool says about itself.
@Suite struct CommandLineTests {
    @Test func versionIsPrinted() throws {
        #expect(try ServedPoliciesTests.drlrec(["--version"]) == DRLRecVersion.current + "\n")
    }
}
