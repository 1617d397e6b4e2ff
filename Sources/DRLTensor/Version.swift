/// DRLRec's version: `drlrec --version` prints it. No release has been made yet: "-dev" marks a
/// build of main.
public enum DRLRecVersion {
    public static let current = "0.1.0-dev"
}
